// What changed in a unit's cycle between two points (API.md, "Views":
// GET /diff?unit=&cycle=&from=&to=).
//
//   auto a = time_travel.StateAt(from), b = time_travel.StateAt(to);
//   GoalsDiff d = DiffGoals(**a, **b, "sales", "2026-q1", now_a, now_b);
//   WriteDiff(w, d);
//
// A goal counts when it belongs to the unit (not its sub-units) and the
// cycle. `added`: in `to` only; `removed`: in `from` only (also a goal moved
// to another unit or cycle); `changed`: in both with at least one field
// different, field by field as JSON texts. Fields compared: kind, title,
// description, owner, parent, weight, committed, perspective, due, status,
// every measure member (measure.start, ...), split, and the computed
// current value, confidence (of the latest check-in) and grade.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"
#include "cairn/projections/history.hpp"

namespace cairn::projections {

struct GoalSummary {
  std::string id;
  std::string title;
  std::string owner;
  GoalStatus status = GoalStatus::kActive;
};

struct GoalChanges {
  std::string goal;
  std::string title;  // as of `to`
  std::vector<FieldChange> changes;
};

struct GoalsDiff {
  std::string unit;
  std::string cycle;
  uint64_t from = 0;  // positions of the two States
  uint64_t to = 0;
  std::vector<GoalSummary> added, removed;  // by id
  std::vector<GoalChanges> changed;         // by id
};

// `from_now` / `to_now`: the clocks grades are computed at for each side.
GoalsDiff DiffGoals(const State& from, const State& to, const std::string& unit,
                    const std::string& cycle, Millis from_now, Millis to_now);

// {"unit","cycle","from","to","added":[{"id","title","owner","status"}],
//  "removed":[...],"changed":[{"goal","title","changes":{"<field>":
//  {"from","to"}}}],"position": to}
void WriteDiff(JsonWriter& w, const GoalsDiff& diff);

}  // namespace cairn::projections
