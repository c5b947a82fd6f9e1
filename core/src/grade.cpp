#include "cairn/core/grade.hpp"

#include <algorithm>
#include <cmath>

#include "cairn/core/json_writer.hpp"

namespace cairn {

namespace {

// Parent links are acyclic by the domain's rules; this bounds the recursion
// anyway so a corrupted State cannot overflow the stack.
constexpr int kMaxDepth = 256;

bool Closed(const State& state, const Goal& goal) {
  const Cycle* c = state.FindCycle(goal.cycle);
  return c != nullptr && c->closed;
}

// The child goals a split made, in creation order.
template <typename F>
void ForEachPart(const State& state, const Goal& goal, F&& f) {
  for (const std::string& id : goal.children) {
    const Goal* child = state.FindGoal(id);
    if (child != nullptr && child->split_from == goal.id) f(*child);
  }
}

std::optional<double> LatestCheckInValue(const Goal& goal) {
  const CheckIn* c =
      LatestCheckIn(goal, [](const CheckIn& c) { return c.value.has_value(); });
  if (c == nullptr) return std::nullopt;
  return c->value;
}

double Clamp01(double v) {
  if (!std::isfinite(v)) return 0;
  return std::clamp(v, 0.0, 1.0);
}

double LinearProgress(double start, double target, double current) {
  if (target == start) return current == target ? 1 : 0;
  return Clamp01((current - start) / (target - start));
}

// Shared by GradeBook and the free functions. `current` and `grade` recurse
// through a memo when one is given.
class Evaluator {
 public:
  Evaluator(const State& state, Millis now,
            std::unordered_map<const Goal*, double>* current_memo,
            std::unordered_map<const Goal*, GoalFigures>* figures_memo)
      : state_(state),
        now_(now),
        current_memo_(current_memo),
        figures_memo_(figures_memo) {}

  double Current(const Goal& goal, int depth) {
    if (current_memo_ != nullptr) {
      auto it = current_memo_->find(&goal);
      if (it != current_memo_->end()) return it->second;
    }
    double v = ComputeCurrent(goal, depth);
    if (current_memo_ != nullptr) current_memo_->emplace(&goal, v);
    return v;
  }

  GoalFigures Figures(const Goal& goal, int depth) {
    if (figures_memo_ != nullptr) {
      auto it = figures_memo_->find(&goal);
      if (it != figures_memo_->end()) return it->second;
    }
    GoalFigures f = ComputeFigures(goal, depth);
    if (figures_memo_ != nullptr) figures_memo_->emplace(&goal, f);
    return f;
  }

 private:
  double ComputeCurrent(const Goal& goal, int depth) {
    const double start = goal.measure ? goal.measure->start : 0;
    if (depth > kMaxDepth) return start;
    if (goal.split == SplitBy::kTime || goal.split == SplitBy::kOwners) {
      double sum = start;
      ForEachPart(state_, goal,
                  [&](const Goal& part) { sum += Current(part, depth + 1); });
      return sum;
    }
    if (goal.split == SplitBy::kFunnel) {
      const Goal* last = nullptr;
      ForEachPart(state_, goal, [&](const Goal& part) { last = &part; });
      if (last != nullptr) return Current(*last, depth + 1);
      return start;
    }
    if (goal.measure && !goal.measure->metric.empty()) {
      const Metric* metric = state_.FindMetric(goal.measure->metric);
      std::optional<TimeWindow> w = CycleWindow(state_, goal.cycle);
      if (metric != nullptr) {
        std::optional<double> v =
            w ? MetricAggregate(*metric, goal.measure->aggregate, w->from,
                                w->to)
              : MetricAggregate(*metric, goal.measure->aggregate, INT64_MIN,
                                INT64_MAX);
        if (v) return *v;
      }
      // A bound goal without points yet still takes check-ins into account.
    }
    if (std::optional<double> v = LatestCheckInValue(goal)) return *v;
    return start;
  }

  GoalFigures ComputeFigures(const Goal& goal, int depth) {
    GoalFigures f;
    const bool achieved = goal.status == GoalStatus::kAchieved;
    if (goal.measure) {
      f.current = Current(goal, depth);
      f.progress = Round4(MeasureProgress(*goal.measure, f.current, achieved));
      if (std::optional<double> s = StretchProgress(*goal.measure, f.current)) {
        f.stretch_progress = Round4(*s);
      }
    } else {
      double sum_w = 0;
      double sum_wg = 0;
      if (depth <= kMaxDepth) {
        for (const std::string& id : goal.children) {
          const Goal* child = state_.FindGoal(id);
          if (child == nullptr || !CountsInRollUp(*child)) continue;
          double g = Figures(*child, depth + 1).grade;
          if (child->kind == GoalKind::kMilestone) g = g >= 1 ? 1 : 0;
          sum_w += child->weight;
          sum_wg += child->weight * g;
        }
      }
      f.progress =
          sum_w > 0 ? Round4(Clamp01(sum_wg / sum_w)) : (achieved ? 1.0 : 0.0);
    }
    f.grade = f.progress;
    if (goal.frozen_grade && Closed(state_, goal)) {
      f.grade = Round4(*goal.frozen_grade);
    }
    f.color = GradeColor(f.grade, goal.committed);
    return f;
  }

  const State& state_;
  [[maybe_unused]] Millis now_;
  std::unordered_map<const Goal*, double>* current_memo_;
  std::unordered_map<const Goal*, GoalFigures>* figures_memo_;
};

}  // namespace

std::string_view ColorName(Color c) {
  switch (c) {
    case Color::kRed:
      return "red";
    case Color::kYellow:
      return "yellow";
    case Color::kGreen:
      return "green";
  }
  return "red";
}

Color GradeColor(double grade, bool committed) {
  const double g = Round4(grade);
  if (committed) {
    if (g >= 1.0) return Color::kGreen;
    if (g >= 0.7) return Color::kYellow;
    return Color::kRed;
  }
  if (g >= 0.7) return Color::kGreen;
  if (g >= 0.4) return Color::kYellow;
  return Color::kRed;
}

std::optional<double> MetricAggregate(const Metric& metric, Aggregate agg,
                                      Millis from, Millis to) {
  const PointRange points = PointsIn(metric, from, to);
  if (points.empty()) return std::nullopt;
  auto lo = points.begin();
  auto hi = points.end();
  switch (agg) {
    case Aggregate::kLast:
      return std::prev(hi)->value;
    case Aggregate::kSum:
    case Aggregate::kAvg: {
      double sum = 0;
      for (auto it = lo; it != hi; ++it) sum += it->value;
      if (agg == Aggregate::kSum) return sum;
      return sum / static_cast<double>(hi - lo);
    }
    case Aggregate::kMin:
    case Aggregate::kMax: {
      double v = lo->value;
      for (auto it = lo; it != hi; ++it) {
        v = agg == Aggregate::kMin ? std::min(v, it->value)
                                   : std::max(v, it->value);
      }
      return v;
    }
  }
  return std::nullopt;
}

PointRange PointsIn(const Metric& metric, Millis from, Millis to) {
  auto lo =
      std::lower_bound(metric.points.begin(), metric.points.end(), from,
                       [](const MetricPoint& p, Millis t) { return p.ts < t; });
  auto hi =
      std::lower_bound(lo, metric.points.end(), to,
                       [](const MetricPoint& p, Millis t) { return p.ts < t; });
  return {lo, hi};
}

bool CountsInRollUp(const Goal& g) {
  return g.status != GoalStatus::kDropped && g.status != GoalStatus::kArchived;
}

std::optional<TimeWindow> CycleWindow(const State& state,
                                      const std::string& cycle_id) {
  const Cycle* c = state.FindCycle(cycle_id);
  if (c == nullptr) return std::nullopt;
  return TimeWindow{StartOfDay(c->start), StartOfDay(c->end + 1)};
}

double MeasureProgress(const Measure& m, double current, bool achieved) {
  switch (m.direction) {
    case Direction::kIncrease:
    case Direction::kDecrease:
      return LinearProgress(m.start, m.target, current);
    case Direction::kAtLeast:
      return current >= m.target ? 1 : 0;
    case Direction::kAtMost:
      return current <= m.target ? 1 : 0;
    case Direction::kBinary:
      return (current != 0 || achieved) ? 1 : 0;
  }
  return 0;
}

std::optional<double> StretchProgress(const Measure& m, double current) {
  if (!m.stretch) return std::nullopt;
  if (m.direction != Direction::kIncrease &&
      m.direction != Direction::kDecrease) {
    return std::nullopt;
  }
  return LinearProgress(m.start, *m.stretch, current);
}

double GoalCurrentValue(const State& state, const Goal& goal, Millis now) {
  return Evaluator(state, now, nullptr, nullptr).Current(goal, 0);
}

double GoalGrade(const State& state, const Goal& goal, Millis now) {
  // A memo keeps a deep roll-up linear in the number of goals below it.
  std::unordered_map<const Goal*, double> current;
  std::unordered_map<const Goal*, GoalFigures> figures;
  return Evaluator(state, now, &current, &figures).Figures(goal, 0).grade;
}

const GoalFigures& GradeBook::Of(const Goal& goal) {
  auto it = figures_.find(&goal);
  if (it != figures_.end()) return it->second;
  GoalFigures f =
      Evaluator(state_, now_, &current_, &figures_).Figures(goal, 0);
  return figures_.emplace(&goal, f).first->second;
}

double GradeBook::Current(const Goal& goal) {
  return Evaluator(state_, now_, &current_, &figures_).Current(goal, 0);
}

}  // namespace cairn
