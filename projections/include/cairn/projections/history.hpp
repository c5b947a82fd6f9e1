// Goal history: every event of one goal, oldest first, each with a readable
// field-by-field diff (API.md, "Views": GET /goals/{id}/history).
//
//   Result<std::vector<Event>> events = store.ReadStream("goal-kr-cac", 1,
//                                                        false, 0);
//   JsonWriter w;
//   Status s = WriteGoalHistory(w, "kr-cac", *events, state->position);
//   // {"goal":"kr-cac","events":[{"position":12,"at":"...","actor":"alice",
//   //   "type":"goal.edited","version":2,"data":{...},
//   //   "changes":{"measure.target":{"from":150,"to":140}},
//   //   "reason":"budget cut"}, ...],"position":1042}
//
// `changes` per event type: goal.created lists every initial field (from
// null); goal.edited its `data.changes` with a whole-measure change spelled
// out per member (`measure.target`, ...); goal.status_changed `status`;
// goal.checked_in `value` and `confidence` from the previous check-in's
// (null before the first) and `at` (effective time); goal.decomposed `split`.
// A check-in whose data carries `"correction_of": <position>` is listed with
// `"corrects": <position>` and the check-in it corrects with
// `"corrected_by": <position>`: events are never rewritten, history shows
// both. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/core/error.hpp"
#include "cairn/core/event.hpp"
#include "cairn/core/json_writer.hpp"

namespace cairn::projections {

// One changed field of a goal; `from` and `to` are JSON texts ("null" when
// the field was absent).
struct FieldChange {
  std::string field;  // dotted path: "title", "measure.target"
  std::string from = "null";
  std::string to = "null";
  bool operator==(const FieldChange&) const = default;
};

// The field changes of goal.created (every field, from null) and
// goal.edited (data.changes, whole measures spelled out per member) events;
// empty for other types and for data that does not parse.
std::vector<FieldChange> GoalEditChanges(const Event& event);

// The reason the client gave (data.reason), empty when none.
std::string EventReason(const Event& event);

// The status a goal.status_changed event moved the goal to (data.to:
// "dropped"), empty for other events and for data that does not parse.
std::string StatusChangedTo(const Event& event);

// Writes the history of goal `goal_id` from the events of its stream (any
// order; those with position > `position` are left out, so a history as of
// a past position is the same call). NotFound when no event is left.
[[nodiscard]] Status WriteGoalHistory(JsonWriter& w, std::string_view goal_id,
                                      const std::vector<Event>& events,
                                      uint64_t position);

}  // namespace cairn::projections
