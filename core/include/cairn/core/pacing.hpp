// Pacing, staleness and SMART completeness of a goal (API.md, "Goals":
// pacing, stale, smart).
//
//   GradeBook book(state, now);
//   Pacing p = GoalPacing(book, goal);  // expected 0.5, kBehind, 14/day
//   bool s = GoalStale(state, goal, now);
//   Smart smart = GoalSmart(state, goal);  // smart.missing == {"specific"}
//
// A cycle runs from 00:00 UTC of its start date to 24:00 UTC of its end
// date. Pure functions of the State and `now`; thread-safe on a const State.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/core/grade.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

enum class PaceStatus { kDone, kAhead, kOnTrack, kBehind };

// "done", "ahead", "on_track", "behind".
std::string_view PaceStatusName(PaceStatus s);

struct Pacing {
  double expected = 0;  // rounded to 4 decimals
  PaceStatus status = PaceStatus::kOnTrack;
  std::optional<double> required_per_day;  // null after the cycle
  std::optional<double> forecast;          // null with < 2 check-ins
};

// Share of `window` elapsed at `now`, clamped to 0..1 (unrounded).
double ElapsedShare(const TimeWindow& window, Millis now);

// The share of the target that should be done by `now`, unrounded: the
// elapsed share of the goal's cycle, or for a goal split by time the planned
// share of its parts whose periods have passed plus the elapsed part of the
// current part's share. 0 when the goal's cycle is unknown.
double ExpectedShare(const State& state, const Goal& goal, Millis now);

// done (progress 1, checked first), ahead (progress >= expected + 0.1),
// behind (progress < expected - 0.1), else on_track. Both inputs are
// rounded to 4 decimals before comparing.
PaceStatus DecidePaceStatus(double progress, double expected);

// Remaining amount in the goal's direction (never negative) divided by the
// UTC dates from now's date (or the cycle's start, if later) through the
// cycle's end, both included; nullopt after the cycle, without a measure or
// without a known cycle.
std::optional<double> RequiredPerDay(const State& state, const Goal& goal,
                                     double current, Millis now);

// Least-squares line through the (effective at, value) of the goal's valued
// check-ins (for a metric-bound goal with points in its cycle: the running
// aggregate after each of those points),
// evaluated at the cycle's end; nullopt with fewer than two points. Points
// with equal times give their mean.
std::optional<double> Forecast(const State& state, const Goal& goal);

// All of the above, with progress and current taken from `book`.
Pacing GoalPacing(GradeBook& book, const Goal& goal);

// True for an active goal with a measure and no check-in, metric point (for
// a metric-bound goal) or check-in on one of its split parts with a time in
// (now - 7 days, now].
bool GoalStale(const State& state, const Goal& goal, Millis now);

// Which SMART properties the goal has; `missing` names the absent ones in
// the order specific, measurable, achievable, relevant, time_bound.
struct Smart {
  bool specific = false;    // title of >= 3 words and an owner
  bool measurable = false;  // a measure
  bool achievable = true;   // see GoalSmart
  bool relevant = false;    // a parent, or kind bhag
  bool time_bound = false;  // a cycle or a due date
  std::vector<std::string> missing;
};

// Achievable: for a metric-bound goal, the change per day it asks for
// (|target - start| / days of its cycle) is at most 3 times the metric's
// change per day over as many days before the cycle (|last - first| of the
// points there / days); true when there are fewer than two such points.
Smart GoalSmart(const State& state, const Goal& goal);

}  // namespace cairn
