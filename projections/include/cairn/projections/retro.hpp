// The retrospective of a unit's cycle (API.md, "Views": GET /retro).
//
//   std::vector<Event> events;                      // the goals' streams
//   for (const std::string& s : RetroStreams(*state, "sales", "2026-q1"))
//     Append(events, store.ReadStream(s, 1, false, 0));
//   Retro r = ComputeRetro(*state, "sales", "2026-q1", events, now);
//   WriteRetro(w, r);
//
// Goals are those of the unit (not its sub-units) in the cycle. Each lands in
// exactly one list: `dropped` (status dropped), `exceeded` (a measured goal
// whose final value is past its target in its direction: above for
// increase/at_least, below for decrease/at_most; never for binary),
// `achieved` (grade 1 otherwise), `missed` (the rest). `retargeted` is every
// change of measure.target, measure.start or measure.stretch (including a
// measure set or removed as a whole) made at or after 00:00 UTC of the
// cycle's start date. `check_ins.by_owner` counts the check-ins on these
// goals by the goal's owner (the check-in's actor for a goal without one);
// a corrected check-in is not counted (its correction is, in its place).
// Uses the State as given, so a retro as of a past position is the same call
// on that position's State (events past state.position are ignored).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/core/error.hpp"
#include "cairn/core/event.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn::projections {

struct RetroGoal {
  std::string id;
  std::string title;
  std::string owner;
  GoalStatus status = GoalStatus::kActive;
  double current = 0;
  std::optional<double> target;
  double grade = 0;  // rounded to 4 decimals
  // Dropped goals: the reason given when it was dropped (the last time),
  // empty when none was.
  std::string reason;
};

struct Retarget {
  std::string goal;
  std::string field;  // "measure.target", "measure.start", "measure.stretch"
  std::string from;   // JSON text, "null" when absent
  std::string to;
  Millis at = 0;
  std::string actor;
  std::string reason;
  uint64_t position = 0;
};

struct Retro {
  std::string unit;
  std::string cycle;
  std::vector<RetroGoal> exceeded, achieved, missed, dropped;
  std::vector<Retarget> retargeted;  // position order
  std::vector<RetroNote> notes;      // position order
  uint64_t check_ins = 0;
  std::map<std::string, uint64_t> check_ins_by_owner;
  uint64_t position = 0;
};

// The streams whose events ComputeRetro needs ("goal-<id>" for each goal of
// the unit in the cycle).
std::vector<std::string> RetroStreams(const State& state,
                                      const std::string& unit,
                                      const std::string& cycle);

// NotFound when the unit or the cycle does not exist in `state`. `events`
// may hold any events; only goal.created/goal.edited of the goals' streams
// count. `now` is the clock grades are computed at.
[[nodiscard]] Result<Retro> ComputeRetro(const State& state,
                                         const std::string& unit,
                                         const std::string& cycle,
                                         const std::vector<Event>& events,
                                         Millis now);

// {"unit","cycle","exceeded":[goal],"achieved","missed","dropped",
//  "retargeted":[{"goal","field","from","to","at","actor","reason",
//  "position"}],"notes":[{"kind","text","goal","actor","at","position"}],
//  "check_ins":{"count","by_owner":{}},"position"}, a goal being
// {"id","title","owner","status","current","target","grade"}.
void WriteRetro(JsonWriter& w, const Retro& retro);

}  // namespace cairn::projections
