#include "cairn/core/grade.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cairn/core/json_writer.hpp"

namespace cairn {
namespace {

constexpr Millis kHour = 3'600'000;

Day D(const char* s) { return *ParseDate(s); }
Millis T(const char* s) { return *ParseTime(s); }

State WithCycle(const std::string& id, const char* start, const char* end) {
  State s;
  Cycle c;
  c.id = id;
  c.start = D(start);
  c.end = D(end);
  s.cycles[id] = c;
  return s;
}

Goal MeasuredGoal(const std::string& id, double start, double target,
                  Direction dir) {
  Goal g;
  g.id = id;
  g.kind = GoalKind::kKeyResult;
  g.title = id;
  g.unit = "u";
  g.cycle = "q";
  Measure m;
  m.start = start;
  m.target = target;
  m.direction = dir;
  g.measure = m;
  return g;
}

void CheckInAt(Goal& g, Millis at, std::optional<double> value,
               uint64_t position) {
  CheckIn c;
  c.at = at;
  c.recorded_at = at;
  c.value = value;
  c.position = position;
  AppendCheckIn(g, c);
}

void Link(State& s, const std::string& parent, const std::string& child) {
  s.goals[child].parent = parent;
  s.goals[parent].children.push_back(child);
}

TEST(GradeTest, CacWorkedCases) {
  // CAC from 250 to 150: 225 is a quarter of the way (red), 180 is 0.7
  // (green for an aspirational goal).
  struct Case {
    double value;
    double progress;
    Color color;
  };
  for (const Case& c : std::vector<Case>{{225, 0.25, Color::kRed},
                                         {180, 0.7, Color::kGreen},
                                         {250, 0, Color::kRed},
                                         {300, 0, Color::kRed},
                                         {150, 1, Color::kGreen},
                                         {120, 1, Color::kGreen},
                                         {200, 0.5, Color::kYellow}}) {
    State s = WithCycle("q", "2026-10-01", "2026-12-31");
    Goal g = MeasuredGoal("kr-cac", 250, 150, Direction::kDecrease);
    CheckInAt(g, T("2026-11-01T00:00:00Z"), c.value, 1);
    s.goals[g.id] = g;
    const Goal& goal = s.goals[g.id];
    EXPECT_EQ(GoalCurrentValue(s, goal, 0), c.value);
    EXPECT_DOUBLE_EQ(GoalGrade(s, goal, 0), c.progress) << c.value;
    GradeBook book(s, 0);
    EXPECT_EQ(book.Of(goal).color, c.color) << c.value;
    EXPECT_DOUBLE_EQ(book.Of(goal).progress, c.progress);
  }
}

TEST(GradeTest, ProgressByDirection) {
  struct Case {
    Direction dir;
    double start, target, current;
    bool achieved;
    double want;
  };
  const std::vector<Case> cases = {
      {Direction::kIncrease, 0, 100, 30, false, 0.3},
      {Direction::kIncrease, 0, 100, 130, false, 1},
      {Direction::kIncrease, 10, 20, 5, false, 0},
      {Direction::kDecrease, 3, 1, 2, false, 0.5},
      {Direction::kAtLeast, 0, 98, 98, false, 1},
      {Direction::kAtLeast, 0, 98, 97.9, false, 0},
      {Direction::kAtMost, 0, 1, 1, false, 1},
      {Direction::kAtMost, 0, 1, 1.5, false, 0},
      {Direction::kBinary, 0, 1, 0, false, 0},
      {Direction::kBinary, 0, 1, 0, true, 1},
      {Direction::kBinary, 0, 1, 1, false, 1},
  };
  for (const Case& c : cases) {
    Measure m;
    m.start = c.start;
    m.target = c.target;
    m.direction = c.dir;
    EXPECT_DOUBLE_EQ(MeasureProgress(m, c.current, c.achieved), c.want)
        << static_cast<int>(c.dir) << " " << c.current;
  }
}

TEST(GradeTest, StretchProgress) {
  Measure m;
  m.start = 0;
  m.target = 5'600'000;
  m.stretch = 7'000'000;
  EXPECT_DOUBLE_EQ(*StretchProgress(m, 5'600'000), 0.8);
  EXPECT_DOUBLE_EQ(MeasureProgress(m, 5'600'000, false), 1);
  m.stretch.reset();
  EXPECT_FALSE(StretchProgress(m, 1).has_value());

  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal g = MeasuredGoal("sales", 250, 150, Direction::kDecrease);
  g.measure->stretch = 120;
  CheckInAt(g, 1, 140, 1);
  s.goals[g.id] = g;
  GradeBook book(s, 0);
  EXPECT_DOUBLE_EQ(*book.Of(s.goals["sales"]).stretch_progress,
                   Round4(110.0 / 130.0));
}

TEST(GradeTest, ColorBands) {
  struct Case {
    double grade;
    bool committed;
    Color want;
  };
  const std::vector<Case> cases = {
      {0, false, Color::kRed},          {0.39994, false, Color::kRed},
      {0.39995, false, Color::kYellow},  // rounds to 0.4 first
      {0.4, false, Color::kYellow},     {0.6999, false, Color::kYellow},
      {0.7, false, Color::kGreen},      {1, false, Color::kGreen},
      {0.6999, true, Color::kRed},      {0.7, true, Color::kYellow},
      {0.9999, true, Color::kYellow},   {0.99996, true, Color::kGreen},
      {1, true, Color::kGreen},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GradeColor(c.grade, c.committed), c.want)
        << c.grade << " committed=" << c.committed;
  }
  EXPECT_EQ(ColorName(Color::kYellow), "yellow");
}

TEST(GradeTest, LatestCheckInByEffectiveTimeTiesToLaterPosition) {
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  CheckInAt(g, T("2026-02-10T00:00:00Z"), 40, 1);
  CheckInAt(g, T("2026-02-01T00:00:00Z"), 10, 2);  // backdated: older
  CheckInAt(g, T("2026-02-10T00:00:00Z"), 45, 3);  // same at, later position
  CheckInAt(g, T("2026-02-11T00:00:00Z"), std::nullopt, 4);  // note only
  s.goals["g"] = g;
  EXPECT_EQ(GoalCurrentValue(s, s.goals["g"], 0), 45);
  // No check-in: current = start.
  s.goals["g"].check_ins.clear();
  s.goals["g"].measure->start = 7;
  EXPECT_EQ(GoalCurrentValue(s, s.goals["g"], 0), 7);
}

// LatestCheckIn searches from the back while every check-in's `at` is in
// order, and scans them all once one is not: the same answer either way.
TEST(GradeTest, LatestCheckInFromTheBackAgreesWithAFullScan) {
  std::mt19937 rng(7);
  int from_back = 0;
  for (int round = 0; round < 300; ++round) {
    Goal g;
    const bool backdate = round % 2 == 1;
    for (uint64_t p = 1; p <= rng() % 40; ++p) {
      CheckIn c;
      c.position = p;
      c.at = static_cast<Millis>(p / 3);  // ties
      if (backdate && rng() % 8 == 0) c.at -= static_cast<Millis>(rng() % 5);
      if (rng() % 3 != 0) c.value = static_cast<double>(p);
      AppendCheckIn(g, c);
    }
    // The reference: the greatest `at`, ties to the later position.
    const CheckIn* want = nullptr;
    for (const CheckIn& c : g.check_ins) {
      if (c.value && (want == nullptr || c.at >= want->at)) want = &c;
    }
    const CheckIn* got =
        LatestCheckIn(g, [](const CheckIn& c) { return c.value.has_value(); });
    ASSERT_EQ(got, want) << "round " << round;
    if (g.check_ins_in_order == g.check_ins.size()) ++from_back;
  }
  EXPECT_GT(from_back, 150);  // both paths ran
  EXPECT_LT(from_back, 300);
}

TEST(GradeTest, MetricAggregatesOverCycleWindow) {
  State s = WithCycle("q", "2026-01-01", "2026-01-31");
  Metric m;
  m.id = "cac";
  m.points = {{T("2025-12-31T23:59:59.999Z"), 1000},  // before the cycle
              {T("2026-01-01T00:00:00Z"), 4},
              {T("2026-01-15T12:00:00Z"), 2},
              {T("2026-01-31T23:59:59.999Z"), 6},
              {T("2026-02-01T00:00:00Z"), -1000}};  // after the cycle
  s.metrics["cac"] = m;
  struct Case {
    Aggregate agg;
    double want;
  };
  for (const Case& c : std::vector<Case>{{Aggregate::kLast, 6},
                                         {Aggregate::kSum, 12},
                                         {Aggregate::kAvg, 4},
                                         {Aggregate::kMin, 2},
                                         {Aggregate::kMax, 6}}) {
    Goal g = MeasuredGoal("g", 0, 10, Direction::kIncrease);
    g.measure->metric = "cac";
    g.measure->aggregate = c.agg;
    CheckInAt(g, T("2026-01-20T00:00:00Z"), 99, 1);  // the metric wins
    s.goals["g"] = g;
    EXPECT_DOUBLE_EQ(GoalCurrentValue(s, s.goals["g"], 0), c.want)
        << static_cast<int>(c.agg);
  }
  EXPECT_FALSE(MetricAggregate(m, Aggregate::kSum, T("2026-03-01T00:00:00Z"),
                               T("2026-04-01T00:00:00Z"))
                   .has_value());
  // A bound goal whose metric has no point in the cycle: start.
  State empty = WithCycle("q", "2027-01-01", "2027-01-31");
  empty.metrics["cac"] = m;
  Goal g = MeasuredGoal("g", 3, 10, Direction::kIncrease);
  g.measure->metric = "cac";
  empty.goals["g"] = g;
  EXPECT_DOUBLE_EQ(GoalCurrentValue(empty, empty.goals["g"], 0), 3);
}

TEST(GradeTest, RollUpWeightedSkipsDroppedAndArchived) {
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal obj;
  obj.id = "obj";
  obj.cycle = "q";
  s.goals["obj"] = obj;
  auto add = [&](const std::string& id, double weight, double value,
                 GoalStatus status) {
    Goal g = MeasuredGoal(id, 0, 100, Direction::kIncrease);
    g.weight = weight;
    g.status = status;
    CheckInAt(g, 1, value, 1);
    s.goals[id] = g;
    Link(s, "obj", id);
  };
  add("a", 2, 50, GoalStatus::kActive);    // 0.5 x2
  add("b", 1, 80, GoalStatus::kActive);    // 0.8 x1
  add("c", 5, 100, GoalStatus::kDropped);  // left out
  add("d", 5, 0, GoalStatus::kArchived);   // left out
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["obj"], 0), 0.6);
  // A milestone counts as binary: half done is 0.
  Goal ms = MeasuredGoal("ms", 0, 10, Direction::kIncrease);
  CheckInAt(ms, 1, 5, 1);
  ms.kind = GoalKind::kMilestone;
  s.goals["ms"] = ms;
  Link(s, "obj", "ms");
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["obj"], 0), Round4(1.8 / 4));
  s.goals["ms"].check_ins.clear();
  CheckInAt(s.goals["ms"], 1, 10, 1);
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["obj"], 0), Round4(2.8 / 4));
  // Two levels: a parent of obj with another child at 1.
  Goal top;
  top.id = "top";
  s.goals["top"] = top;
  Link(s, "top", "obj");
  Goal done = MeasuredGoal("done", 0, 1, Direction::kBinary);
  done.status = GoalStatus::kAchieved;
  s.goals["done"] = done;
  Link(s, "top", "done");
  GradeBook book(s, 0);
  EXPECT_DOUBLE_EQ(book.Of(s.goals["top"]).grade, Round4((0.7 + 1) / 2));
  // All children dropped: graded by its own status.
  State only = WithCycle("q", "2026-01-01", "2026-03-31");
  only.goals["p"].id = "p";
  only.goals["k"] = MeasuredGoal("k", 0, 1, Direction::kIncrease);
  only.goals["k"].status = GoalStatus::kDropped;
  Link(only, "p", "k");
  EXPECT_DOUBLE_EQ(GoalGrade(only, only.goals["p"], 0), 0);
  only.goals["p"].status = GoalStatus::kAchieved;
  EXPECT_DOUBLE_EQ(GoalGrade(only, only.goals["p"], 0), 1);
}

TEST(GradeTest, SplitGoalsTakeTheirPartsValues) {
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal parent = MeasuredGoal("sales", 100, 1100, Direction::kIncrease);
  parent.split = SplitBy::kOwners;
  s.goals["sales"] = parent;
  for (int i = 0; i < 3; ++i) {
    std::string id = "part" + std::to_string(i);
    Goal part = MeasuredGoal(id, 0, 1000.0 / 3, Direction::kIncrease);
    part.split_from = "sales";
    CheckInAt(part, 1, 100.0 * (i + 1), 1);
    s.goals[id] = part;
    Link(s, "sales", id);
  }
  // An aligned child that the split did not make is not a part.
  s.goals["aligned"] = MeasuredGoal("aligned", 0, 5, Direction::kIncrease);
  CheckInAt(s.goals["aligned"], 1, 5, 1);
  Link(s, "sales", "aligned");
  EXPECT_DOUBLE_EQ(GoalCurrentValue(s, s.goals["sales"], 0), 700);
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["sales"], 0), 0.6);

  // Funnel: the last stage's value.
  State f = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal funnel = MeasuredGoal("signings", 0, 2, Direction::kIncrease);
  funnel.split = SplitBy::kFunnel;
  f.goals["signings"] = funnel;
  const char* stages[] = {"calls", "appointments", "meetings", "last"};
  double value = 300;
  for (const char* id : stages) {
    Goal st = MeasuredGoal(id, 0, 10, Direction::kIncrease);
    st.split_from = "signings";
    CheckInAt(st, 1, value, 1);
    value /= 10;
    f.goals[id] = st;
    Link(f, "signings", id);
  }
  EXPECT_DOUBLE_EQ(GoalCurrentValue(f, f.goals["signings"], 0), 0.3);
  EXPECT_DOUBLE_EQ(GoalGrade(f, f.goals["signings"], 0), 0.15);
}

TEST(GradeTest, ClosedCycleReportsFrozenGrade) {
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  CheckInAt(g, 1, 50, 1);
  g.frozen_grade = 0.42;
  s.goals["g"] = g;
  // Open cycle: the live grade.
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["g"], 0), 0.5);
  s.cycles["q"].closed = true;
  s.cycles["q"].closed_at = T("2026-04-01T00:00:00Z") + kHour;
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["g"], 0), 0.42);
  GradeBook book(s, 0);
  EXPECT_EQ(book.Of(s.goals["g"]).color, Color::kYellow);
  EXPECT_DOUBLE_EQ(book.Of(s.goals["g"]).progress, 0.5);
}

TEST(GradeTest, RoundsToFourDecimals) {
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  Goal g = MeasuredGoal("g", 0, 3, Direction::kIncrease);
  CheckInAt(g, 1, 1, 1);
  s.goals["g"] = g;
  EXPECT_DOUBLE_EQ(GoalGrade(s, s.goals["g"], 0), 0.3333);
  // 0.69996 rounds to 0.7: green.
  s.goals["g"].measure->target = 100000;
  s.goals["g"].check_ins.clear();
  CheckInAt(s.goals["g"], 1, 69996, 1);
  GradeBook book(s, 0);
  EXPECT_DOUBLE_EQ(book.Of(s.goals["g"]).grade, 0.7);
  EXPECT_EQ(book.Of(s.goals["g"]).color, Color::kGreen);
}

}  // namespace
}  // namespace cairn
