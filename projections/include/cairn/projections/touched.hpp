// Which goals an event may have changed, for live updates (API.md, "Live
// updates": the goal responses an `event` message carries).
//
//   Apply(state, event);
//   for (const std::string& id : GoalsTouchedBy(state, event)) {
//     gw.Write(w, *state.FindGoal(id));
//   }
//
// Pure; reads the State after the event was applied and the event's data.
#pragma once

#include <string>
#include <vector>

#include "cairn/core/event.hpp"
#include "cairn/core/model.hpp"

namespace cairn::projections {

// The goals whose response may differ after `event`, each once, in this
// order: the event's own goal, then its ancestors (their roll-up or split
// total may move); for a goal.edited that moved the goal, also its former
// parent and that parent's ancestors; for a metric event, every goal bound
// to the metric (with ancestors); for a cycle event, every goal of the cycle
// (with ancestors: closing freezes grades). Ids of goals that no longer
// exist are left out. Unit, token and retro events touch no goal.
std::vector<std::string> GoalsTouchedBy(const State& after, const Event& event);

}  // namespace cairn::projections
