#include "cairn/core/pacing.hpp"

#include <algorithm>
#include <cmath>

#include "cairn/core/json_writer.hpp"

namespace cairn {

namespace {

constexpr Millis kStaleAfter = 7 * kMillisPerDay;
constexpr double kPaceBand = 0.1;
// Guards the 0.1 band against binary noise in already-rounded values.
constexpr double kEpsilon = 1e-9;

}  // namespace

std::string_view PaceStatusName(PaceStatus s) {
  switch (s) {
    case PaceStatus::kDone:
      return "done";
    case PaceStatus::kAhead:
      return "ahead";
    case PaceStatus::kOnTrack:
      return "on_track";
    case PaceStatus::kBehind:
      return "behind";
  }
  return "on_track";
}

double ElapsedShare(const TimeWindow& window, Millis now) {
  if (window.to <= window.from) return now >= window.to ? 1 : 0;
  if (now <= window.from) return 0;
  if (now >= window.to) return 1;
  return static_cast<double>(now - window.from) /
         static_cast<double>(window.to - window.from);
}

double ExpectedShare(const State& state, const Goal& goal, Millis now) {
  if (goal.split == SplitBy::kTime) {
    double total = 0;
    double done = 0;
    bool all_known = true;
    for (const std::string& id : goal.children) {
      const Goal* part = state.FindGoal(id);
      if (part == nullptr || part->split_from != goal.id) continue;
      std::optional<TimeWindow> w = CycleWindow(state, part->cycle);
      if (!w || !part->measure) {
        all_known = false;
        break;
      }
      const double share = part->measure->target - part->measure->start;
      total += share;
      done += share * ElapsedShare(*w, now);
    }
    if (all_known && total > 0) return std::clamp(done / total, 0.0, 1.0);
  }
  std::optional<TimeWindow> w = CycleWindow(state, goal.cycle);
  if (!w) return 0;
  return ElapsedShare(*w, now);
}

PaceStatus DecidePaceStatus(double progress, double expected) {
  const double p = Round4(progress);
  const double e = Round4(expected);
  if (p >= 1) return PaceStatus::kDone;
  if (p - e >= kPaceBand - kEpsilon) return PaceStatus::kAhead;
  if (e - p > kPaceBand + kEpsilon) return PaceStatus::kBehind;
  return PaceStatus::kOnTrack;
}

std::optional<double> RequiredPerDay(const State& state, const Goal& goal,
                                     double current, Millis now) {
  if (!goal.measure) return std::nullopt;
  const Cycle* c = state.FindCycle(goal.cycle);
  if (c == nullptr) return std::nullopt;
  const Day today = std::max(DayOf(now), c->start);
  if (today > c->end) return std::nullopt;
  const Measure& m = *goal.measure;
  double remaining = 0;
  switch (m.direction) {
    case Direction::kIncrease:
    case Direction::kAtLeast:
      remaining = m.target - current;
      break;
    case Direction::kDecrease:
    case Direction::kAtMost:
      remaining = current - m.target;
      break;
    case Direction::kBinary:
      remaining =
          (current != 0 || goal.status == GoalStatus::kAchieved) ? 0 : 1;
      break;
  }
  const double days = static_cast<double>(c->end - today + 1);
  return std::max(remaining, 0.0) / days;
}

std::optional<double> Forecast(const State& state, const Goal& goal) {
  if (!goal.measure) return std::nullopt;
  std::optional<TimeWindow> w = CycleWindow(state, goal.cycle);
  if (!w) return std::nullopt;
  // Times relative to the cycle's end, in days, keep the sums well scaled.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  auto add = [&](Millis t, double v) {
    const double x = static_cast<double>(t - w->to) / kMillisPerDay;
    n += 1;
    sx += x;
    sy += v;
    sxx += x * x;
    sxy += x * v;
  };
  const Metric* metric = goal.measure->metric.empty()
                             ? nullptr
                             : state.FindMetric(goal.measure->metric);
  if (metric != nullptr) {
    // The goal's value after each point: the aggregate of the cycle's points
    // so far (the point itself for `last`, a running total for `sum`, ...).
    double sum = 0, lo = 0, hi = 0, k = 0;
    for (const MetricPoint& p : PointsIn(*metric, w->from, w->to)) {
      k += 1;
      sum += p.value;
      lo = k == 1 ? p.value : std::min(lo, p.value);
      hi = k == 1 ? p.value : std::max(hi, p.value);
      double v = p.value;
      switch (goal.measure->aggregate) {
        case Aggregate::kLast:
          break;
        case Aggregate::kSum:
          v = sum;
          break;
        case Aggregate::kAvg:
          v = sum / k;
          break;
        case Aggregate::kMin:
          v = lo;
          break;
        case Aggregate::kMax:
          v = hi;
          break;
      }
      add(p.ts, v);
    }
  }
  if (n == 0) {
    // The check-ins' fold: kept with the goal, or folded here the same way
    // (a goal decoded with its history by reference).
    CheckInTrend folded;
    const CheckInTrend* t = &goal.trend;
    if (t->covered != goal.check_ins.size()) {
      folded = FoldTrend(goal);
      t = &folded;
    }
    if (t->n < 2) return std::nullopt;
    // Least squares in centred form: the value at x_end = the cycle's end.
    const double x_end = static_cast<double>(w->to) / kMillisPerDay;
    const double off = t->mean_x - x_end;
    const double sxx_end = t->m2x + t->n * off * off;
    if (t->n * t->m2x <= 1e-12 * std::max(1.0, t->n * sxx_end)) {
      return t->mean_y;
    }
    return t->mean_y + t->cxy / t->m2x * (x_end - t->mean_x);
  }
  if (n < 2) return std::nullopt;
  const double denom = n * sxx - sx * sx;
  const double mean_y = sy / n;
  if (std::abs(denom) <= 1e-12 * std::max(1.0, n * sxx)) return mean_y;
  const double slope = (n * sxy - sx * sy) / denom;
  const double intercept = mean_y - slope * (sx / n);
  return intercept;  // x = 0 is the cycle's end
}

Pacing GoalPacing(GradeBook& book, const Goal& goal) {
  const State& state = book.state();
  const Millis now = book.now();
  const GoalFigures& f = book.Of(goal);
  Pacing p;
  p.expected = Round4(ExpectedShare(state, goal, now));
  p.status = DecidePaceStatus(f.progress, p.expected);
  p.required_per_day = RequiredPerDay(state, goal, f.current, now);
  p.forecast = Forecast(state, goal);
  return p;
}

namespace {

bool RecentCheckIn(const State& state, const Goal& goal, Millis from,
                   Millis now, int depth) {
  const size_t n = goal.check_ins.size();
  if (goal.check_ins_in_order == n) {
    // In order by `at`: from the back, down to the first at or before `from`.
    for (size_t i = n; i-- > 0;) {
      const Millis at = goal.check_ins[i].at;
      if (at <= from) break;
      if (at <= now) return true;
    }
  } else {
    for (const CheckIn& c : goal.check_ins) {
      if (c.at > from && c.at <= now) return true;
    }
  }
  if (goal.measure && !goal.measure->metric.empty()) {
    if (const Metric* m = state.FindMetric(goal.measure->metric)) {
      if (!PointsIn(*m, from + 1, now + 1).empty()) return true;
    }
  }
  if (goal.split != SplitBy::kNone && depth < 16) {
    for (const std::string& id : goal.children) {
      const Goal* part = state.FindGoal(id);
      if (part != nullptr && part->split_from == goal.id &&
          RecentCheckIn(state, *part, from, now, depth + 1)) {
        return true;
      }
    }
  }
  return false;
}

int CountWords(const std::string& s) {
  int words = 0;
  bool in_word = false;
  for (unsigned char ch : s) {
    const bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

bool Achievable(const State& state, const Goal& goal) {
  if (!goal.measure || goal.measure->metric.empty()) return true;
  const Metric* metric = state.FindMetric(goal.measure->metric);
  const Cycle* c = state.FindCycle(goal.cycle);
  if (metric == nullptr || c == nullptr) return true;
  const Day days = c->end - c->start + 1;
  const Millis from = StartOfDay(c->start - days);
  const Millis to = StartOfDay(c->start);
  const PointRange before = PointsIn(*metric, from, to);
  if (before.size() < 2) return true;
  const double history = std::abs(before.back().value - before.front().value) /
                         static_cast<double>(days);
  const double asked = std::abs(goal.measure->target - goal.measure->start) /
                       static_cast<double>(days);
  return asked <= 3 * history + kEpsilon;
}

}  // namespace

bool GoalStale(const State& state, const Goal& goal, Millis now) {
  if (goal.status != GoalStatus::kActive || !goal.measure) return false;
  return !RecentCheckIn(state, goal, now - kStaleAfter, now, 0);
}

Smart GoalSmart(const State& state, const Goal& goal) {
  Smart s;
  s.specific = CountWords(goal.title) >= 3 && !goal.owner.empty();
  s.measurable = goal.measure.has_value();
  s.achievable = Achievable(state, goal);
  s.relevant = !goal.parent.empty() || goal.kind == GoalKind::kBhag;
  s.time_bound = !goal.cycle.empty() || goal.due.has_value();
  if (!s.specific) s.missing.emplace_back("specific");
  if (!s.measurable) s.missing.emplace_back("measurable");
  if (!s.achievable) s.missing.emplace_back("achievable");
  if (!s.relevant) s.missing.emplace_back("relevant");
  if (!s.time_bound) s.missing.emplace_back("time_bound");
  return s;
}

}  // namespace cairn
