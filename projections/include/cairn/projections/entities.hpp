// JSON responses for single entities and their lists, exactly as API.md
// writes them (Goals, Units, Cycles, Metrics).
//
//   JsonWriter w;
//   w.BeginObject();
//   WriteGoalMembers(w, state, goal, now);    // every member of the goal
//   w.Key("position").Uint(state.position);   // the caller adds position
//   w.EndObject();
//
//   GoalWriter gw(state, now);                // many goals: one memo
//   for (...) gw.Write(w, goal);
//
// Pure functions of a const State; no I/O. The State must not change while
// a writer uses it. Fractions are rounded to 4 decimals; absent optional
// members are written as null so every response has the same shape.
#pragma once

#include <cstdint>
#include <string>

#include "cairn/core/grade.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn::projections {

// Writes goal responses sharing one GradeBook, so roll-ups computed for one
// goal are reused by the next. Holds references; not thread-safe.
class GoalWriter {
 public:
  GoalWriter(const State& state, Millis now) : book_(state, now) {}

  // The goal response as an object, without `position`.
  void Write(JsonWriter& w, const Goal& goal);
  // Only its members (inside an object the caller opened).
  void WriteMembers(JsonWriter& w, const Goal& goal);

  GradeBook& book() { return book_; }
  const State& state() const { return book_.state(); }

 private:
  GradeBook book_;
};

// The goal response: id, kind, title, description, unit, cycle, owner,
// parent, children, weight, committed, perspective, due, measure, status,
// split, split_from, current, confidence, last_check_in, stale, progress,
// grade, color, stretch_progress (only with a stretch), pacing {expected,
// status, required_per_day, forecast}, smart {specific, measurable,
// achievable, relevant, time_bound, missing}, version. No `position`.
void WriteGoal(JsonWriter& w, const State& state, const Goal& goal, Millis now);
void WriteGoalMembers(JsonWriter& w, const State& state, const Goal& goal,
                      Millis now);

// {"id","name","kind","parent","version"} (+ "children" when asked).
void WriteUnitMembers(JsonWriter& w, const Unit& unit, bool with_children);
void WriteUnit(JsonWriter& w, const Unit& unit, bool with_children);
// {"units": [...], "position"}: the units `scope` covers (all when empty),
// in id order.
void WriteUnits(JsonWriter& w, const State& state,
                const std::string& scope = "");

// {"id","name","kind","start","end","parent","closed","closed_at",
//  "children","version"}.
void WriteCycleMembers(JsonWriter& w, const State& state, const Cycle& cycle);
void WriteCycle(JsonWriter& w, const State& state, const Cycle& cycle);
// {"cycles": [...], "position"} ordered by start date, then end date
// (later first, so a parent precedes its children), then id.
void WriteCycles(JsonWriter& w, const State& state);

// {"id","name","unit","aggregate","points": [{"ts","value"}],"version"}
// with the points from <= ts < to. No `position`.
void WriteMetricMembers(JsonWriter& w, const Metric& metric, Millis from,
                        Millis to);
void WriteMetric(JsonWriter& w, const Metric& metric, Millis from, Millis to);
// {"id","name","unit","aggregate","point_count","first_ts","last":
// {"ts","value"} or null,"goals": [...],"version"}: a metric without its
// points, `last` its latest point by ts, `goals` the ids given (the goals
// bound to it that the reader may see).
void WriteMetricSummary(JsonWriter& w, const Metric& metric,
                        const std::vector<std::string>& goals);

}  // namespace cairn::projections
