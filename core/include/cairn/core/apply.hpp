// Apply: folds one stored event into the State. The State is a function of
// the log alone, so replaying the log rebuilds exactly the live State.
//
//   State state;
//   for (const Event& e : events) Apply(state, e);   // position order
//
// Updates the entity the event's stream names (its version and position),
// the State's position and `at`, and everything derived: children lists,
// check-ins (in position order), metric points (sorted by ts, stable), split
// markers, frozen grades, tokens, retro notes. Unknown event types, and
// events about entities that do not exist, change only the State's
// position; malformed data never crashes (fields it cannot read are left as
// they were). No I/O; not thread-safe on one State.
#pragma once

#include <span>

#include "cairn/core/event.hpp"
#include "cairn/core/model.hpp"

namespace cairn {

void Apply(State& state, const Event& event);

// After `event` was applied to both `state` and `same` (two States now equal
// in the entity the event's stream names): makes `state` hold that goal's
// check-ins or that metric's points by sharing `same`'s instead of its own
// copy. A State brought up to date by replaying events another State has
// already applied then costs no memory for their history.
void ShareHistory(State& state, const State& same, const Event& event);

// Brings `state` up to `target`, given that `events` (in position order)
// lead from the one to the other; `state` then equals `target` and holds
// the touched history in target's chunks. When the events are all
// check-ins on goals both States hold, numbered on from state.position to
// target.position, each touched goal takes what a check-in changes (its
// check-ins, how many are in order, its trend, version and position) from
// `target` instead of applying them: no event is parsed. Otherwise it
// applies each event, then shares its history (ShareHistory).
void CatchUp(State& state, const State& target,
             std::span<const Event* const> events);

}  // namespace cairn
