// Current value, progress, grade and color of a goal (API.md, "Goals":
// progress / grade, color).
//
//   double g = GoalGrade(state, *state.FindGoal("kr-cac"), now);  // 0..1
//   Color c = GradeColor(g, goal.committed);                      // kRed
//
//   GradeBook book(state, now);           // memoizes a whole view's worth
//   const GoalFigures& f = book.Of(goal); // current, progress, grade, color
//
// Pure functions of the State; no I/O; thread-safe on a const State. Every
// returned fraction is already rounded to 4 decimals (Round4) and colors are
// decided on the rounded value. A closed cycle reports the goal's frozen
// grade. `now` is the clock a view is computed at; the current value itself
// comes from the State (check-ins and metric points it holds).
#pragma once

#include <optional>
#include <string_view>
#include <unordered_map>

#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

enum class Color { kRed, kYellow, kGreen };

// "red", "yellow", "green".
std::string_view ColorName(Color c);

// Contract bands: aspirational red < 0.4 <= yellow < 0.7 <= green;
// committed: green only at 1.0, yellow from 0.7, red below.
// `grade` is rounded with Round4 before the bands are applied.
Color GradeColor(double grade, bool committed);

// The metric's aggregate over points with from <= ts < to; nullopt when no
// point lies there.
std::optional<double> MetricAggregate(const Metric& metric, Aggregate agg,
                                      Millis from, Millis to);

// A run of a metric's points: [first, last).
struct PointRange {
  Chunked<MetricPoint>::const_iterator first, last;
  auto begin() const { return first; }
  auto end() const { return last; }
  bool empty() const { return first == last; }
  size_t size() const { return static_cast<size_t>(last - first); }
  const MetricPoint& front() const { return *first; }
  const MetricPoint& back() const { return *(last - 1); }
};
// The points with from <= ts < to (points are sorted by ts).
PointRange PointsIn(const Metric& metric, Millis from, Millis to);

// False for dropped and archived goals, which roll-ups and summaries leave
// out.
bool CountsInRollUp(const Goal& goal);

namespace detail {
template <typename Keep>
const CheckIn* LatestOf(const Goal& goal, Keep keep) {
  const size_t n = goal.check_ins.size();
  if (goal.check_ins_in_order == n) {
    // Sorted by `at`, ties in position order: the last kept one.
    for (size_t i = n; i-- > 0;) {
      if (keep(goal.check_ins[i])) return &goal.check_ins[i];
    }
    return nullptr;
  }
  const CheckIn* best = nullptr;
  for (const CheckIn& c : goal.check_ins) {  // in position order
    if (keep(c) && (best == nullptr || c.at >= best->at)) best = &c;
  }
  return best;
}
}  // namespace detail

// The check-in with the latest effective `at` (ties: the later position)
// among those that pass `keep` and were not corrected; nullptr when none
// does.
template <typename Keep>
const CheckIn* LatestCheckIn(const Goal& goal, Keep keep) {
  if (goal.corrections == 0) return detail::LatestOf(goal, keep);
  const CorrectedCheckIns corrected(goal);
  return detail::LatestOf(
      goal, [&](const CheckIn& c) { return !corrected(c) && keep(c); });
}

// [00:00 UTC of start, 24:00 UTC of end) of the goal's cycle; nullopt when
// the goal's cycle is unknown.
struct TimeWindow {
  Millis from = 0;
  Millis to = 0;
};
std::optional<TimeWindow> CycleWindow(const State& state,
                                      const std::string& cycle_id);

// Progress of `current` against a measure, unrounded, clamped to 0..1.
// `achieved` counts for binary measures (status achieved).
double MeasureProgress(const Measure& m, double current, bool achieved);
// The same formula against measure.stretch; nullopt without a stretch or
// for directions other than increase/decrease.
std::optional<double> StretchProgress(const Measure& m, double current);

// The goal's current value: the latest check-in's value by effective `at`
// (ties: later position); for a metric-bound goal the metric's aggregate over
// the goal's cycle; for a goal split by time/owners start + the sum of its
// parts' current values; by funnel the last stage's current value. Without
// any of these (or without a measure) the measure's start (0 without one).
double GoalCurrentValue(const State& state, const Goal& goal, Millis now);

// The goal's grade, rounded to 4 decimals: the frozen grade when its cycle is
// closed and a grade was frozen; else the measure's progress; else (children
// and no measure) the weighted mean of the children's grades, milestones as
// binary, dropped and archived children left out; else 1 when achieved, 0
// otherwise.
double GoalGrade(const State& state, const Goal& goal, Millis now);

// Everything the read side shows about a goal's grade.
struct GoalFigures {
  double current = 0;
  double progress = 0;  // rounded; equals grade unless the cycle is frozen
  double grade = 0;     // rounded
  std::optional<double> stretch_progress;  // rounded
  Color color = Color::kRed;
};

// Memoizes GoalFigures for one State and one `now`, so a board computes each
// goal (and each roll-up) once. Holds references: the State must outlive the
// book and must not change while it is used. Not thread-safe.
class GradeBook {
 public:
  GradeBook(const State& state, Millis now) : state_(state), now_(now) {}
  GradeBook(const GradeBook&) = delete;
  GradeBook& operator=(const GradeBook&) = delete;

  const GoalFigures& Of(const Goal& goal);
  double Current(const Goal& goal);

  const State& state() const { return state_; }
  Millis now() const { return now_; }

 private:
  const State& state_;
  Millis now_;
  std::unordered_map<const Goal*, GoalFigures> figures_;
  std::unordered_map<const Goal*, double> current_;
};

}  // namespace cairn
