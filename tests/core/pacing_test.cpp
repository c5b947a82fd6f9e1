#include "cairn/core/pacing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace cairn {
namespace {

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
                  Direction dir, const std::string& cycle = "c") {
  Goal g;
  g.id = id;
  g.kind = GoalKind::kKeyResult;
  g.title = id;
  g.cycle = cycle;
  Measure m;
  m.start = start;
  m.target = target;
  m.direction = dir;
  g.measure = m;
  return g;
}

void CheckInAt(Goal& g, Millis at, double value) {
  CheckIn c;
  c.at = at;
  c.value = value;
  c.position = g.check_ins.size() + 1;
  AppendCheckIn(g, c);
}

TEST(PacingTest, WorkedCaseThirtyOfHundredHalfwayThroughTenDays) {
  // 10-day cycle, 2026-03-01..2026-03-10; halfway is 2026-03-06T00:00Z.
  State s = WithCycle("c", "2026-03-01", "2026-03-10");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  CheckInAt(g, T("2026-03-05T12:00:00Z"), 30);
  s.goals["g"] = g;
  GradeBook book(s, T("2026-03-06T00:00:00Z"));
  Pacing p = GoalPacing(book, s.goals["g"]);
  EXPECT_DOUBLE_EQ(p.expected, 0.5);
  EXPECT_EQ(p.status, PaceStatus::kBehind);
  ASSERT_TRUE(p.required_per_day.has_value());
  EXPECT_DOUBLE_EQ(*p.required_per_day, 14);
  EXPECT_FALSE(p.forecast.has_value());  // one check-in only
}

TEST(PacingTest, ElapsedShareOfCycle) {
  State s = WithCycle("c", "2026-03-01", "2026-03-10");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  s.goals["g"] = g;
  struct Case {
    const char* now;
    double want;
  };
  for (const Case& c : std::vector<Case>{{"2026-02-20T00:00:00Z", 0},
                                         {"2026-03-01T00:00:00Z", 0},
                                         {"2026-03-02T00:00:00Z", 0.1},
                                         {"2026-03-10T12:00:00Z", 0.95},
                                         {"2026-03-11T00:00:00Z", 1},
                                         {"2026-04-01T00:00:00Z", 1}}) {
    EXPECT_DOUBLE_EQ(ExpectedShare(s, s.goals["g"], T(c.now)), c.want) << c.now;
  }
}

TEST(PacingTest, StatusBands) {
  struct Case {
    double progress, expected;
    PaceStatus want;
  };
  const std::vector<Case> cases = {
      {1, 1, PaceStatus::kDone},         {1, 0.1, PaceStatus::kDone},
      {0.6, 0.5, PaceStatus::kAhead},    {0.59, 0.5, PaceStatus::kOnTrack},
      {0.4, 0.5, PaceStatus::kOnTrack},  {0.3999, 0.5, PaceStatus::kBehind},
      {0.3, 0.5, PaceStatus::kBehind},   {0.7, 0.6, PaceStatus::kAhead},
      {0.99999, 0.5, PaceStatus::kDone},  // rounds to 1
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecidePaceStatus(c.progress, c.expected), c.want)
        << c.progress << " vs " << c.expected;
  }
  EXPECT_EQ(PaceStatusName(PaceStatus::kOnTrack), "on_track");
}

TEST(PacingTest, RequiredPerDayByDirectionAndNullAfterCycle) {
  State s = WithCycle("c", "2026-03-01", "2026-03-10");
  const Millis now = T("2026-03-09T15:00:00Z");  // 2 days left incl. today
  struct Case {
    Direction dir;
    double start, target, current;
    double want;
  };
  for (const Case& c :
       std::vector<Case>{{Direction::kIncrease, 0, 100, 30, 35},
                         {Direction::kIncrease, 0, 100, 130, 0},
                         {Direction::kDecrease, 250, 150, 225, 37.5},
                         {Direction::kAtLeast, 0, 98, 90, 4},
                         {Direction::kAtMost, 0, 1, 3, 1}}) {
    Goal g = MeasuredGoal("g", c.start, c.target, c.dir);
    EXPECT_DOUBLE_EQ(*RequiredPerDay(s, g, c.current, now), c.want);
  }
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  EXPECT_DOUBLE_EQ(*RequiredPerDay(s, g, 0, T("2026-03-10T23:59:00Z")), 100);
  EXPECT_FALSE(RequiredPerDay(s, g, 0, T("2026-03-11T00:00:00Z")));
  // Before the cycle: over the whole cycle.
  EXPECT_DOUBLE_EQ(*RequiredPerDay(s, g, 0, T("2026-02-01T00:00:00Z")), 10);
  Goal none;
  none.cycle = "c";
  EXPECT_FALSE(RequiredPerDay(s, none, 0, now));
}

TEST(PacingTest, ExpectedShareOfGoalSplitByTime) {
  // A quarter split into months with seasonal shares 10 / 30 / 60.
  State s = WithCycle("q", "2026-01-01", "2026-03-31");
  s.cycles["m1"] = s.cycles["q"];
  s.cycles["m1"].id = "m1";
  s.cycles["m1"].end = D("2026-01-31");
  s.cycles["m2"] = s.cycles["m1"];
  s.cycles["m2"].id = "m2";
  s.cycles["m2"].start = D("2026-02-01");
  s.cycles["m2"].end = D("2026-02-28");
  s.cycles["m3"] = s.cycles["m1"];
  s.cycles["m3"].id = "m3";
  s.cycles["m3"].start = D("2026-03-01");
  s.cycles["m3"].end = D("2026-03-31");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease, "q");
  g.split = SplitBy::kTime;
  struct Part {
    std::string id, cycle;
    double share;
  };
  for (const Part& p : std::vector<Part>{
           {"g-m1", "m1", 10}, {"g-m2", "m2", 30}, {"g-m3", "m3", 60}}) {
    Goal part = MeasuredGoal(p.id, 0, p.share, Direction::kIncrease, p.cycle);
    part.split_from = g.id;
    part.parent = g.id;
    g.children.push_back(p.id);
    s.goals[p.id] = part;
  }
  s.goals["g"] = g;
  struct Case {
    const char* now;
    double want;
  };
  for (const Case& c : std::vector<Case>{{"2025-12-31T00:00:00Z", 0},
                                         {"2026-02-01T00:00:00Z", 0.1},
                                         {"2026-02-15T00:00:00Z", 0.25},
                                         {"2026-03-01T00:00:00Z", 0.4},
                                         {"2026-04-01T00:00:00Z", 1}}) {
    EXPECT_NEAR(ExpectedShare(s, s.goals["g"], T(c.now)), c.want, 1e-12)
        << c.now;
  }
}

TEST(PacingTest, ForecastIsLeastSquaresAtCycleEnd) {
  State s = WithCycle("c", "2026-03-01", "2026-03-10");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  // 10 a day from 0 at the start: 100 at 24:00 of the 10th.
  CheckInAt(g, T("2026-03-03T00:00:00Z"), 20);
  CheckInAt(g, T("2026-03-01T00:00:00Z"), 0);  // effective time is earlier
  CheckInAt(g, T("2026-03-05T00:00:00Z"), 40);
  s.goals["g"] = g;
  ASSERT_TRUE(Forecast(s, s.goals["g"]).has_value());
  EXPECT_NEAR(*Forecast(s, s.goals["g"]), 100, 1e-9);
  // Noisy points: least squares, not the last two.
  Goal n = MeasuredGoal("n", 0, 100, Direction::kIncrease);
  CheckInAt(n, T("2026-03-01T00:00:00Z"), 0);
  CheckInAt(n, T("2026-03-02T00:00:00Z"), 20);
  CheckInAt(n, T("2026-03-03T00:00:00Z"), 10);
  // x = -10, -9, -8 days; y = 0, 20, 10: slope 5, mean x -9, mean y 10.
  s.goals["n"] = n;
  EXPECT_NEAR(*Forecast(s, s.goals["n"]), 10 + 5 * 9, 1e-9);
  // Same time twice: the mean.
  Goal same = MeasuredGoal("same", 0, 100, Direction::kIncrease);
  CheckInAt(same, T("2026-03-02T00:00:00Z"), 10);
  CheckInAt(same, T("2026-03-02T00:00:00Z"), 30);
  s.goals["same"] = same;
  EXPECT_NEAR(*Forecast(s, s.goals["same"]), 20, 1e-9);
  Goal none = MeasuredGoal("none", 0, 100, Direction::kIncrease);
  EXPECT_FALSE(Forecast(s, none).has_value());
}

// The forecast reads the goal's kept least-squares fold; a goal without it
// (decoded with its history by reference) folds its check-ins on the spot.
// Both give the same bits, and both agree with the textbook sums.
TEST(PacingTest, ForecastFromTheKeptFoldEqualsRefoldingAndTheSums) {
  State s = WithCycle("c", "2026-01-01", "2026-12-31");
  const Millis to = T("2027-01-01T00:00:00Z");
  std::mt19937 rng(5);
  int forecasts = 0;
  for (int round = 0; round < 300; ++round) {
    Goal g = MeasuredGoal("g", 0, 1000, Direction::kIncrease);
    const int count = static_cast<int>(rng() % 30);
    for (int i = 0; i < count; ++i) {
      CheckIn c;
      c.position = static_cast<uint64_t>(i + 1);
      c.at = T("2026-01-01T00:00:00Z") +
             static_cast<Millis>(rng() % (360 * 24)) * 3'600'000;
      if (rng() % 4 != 0) c.value = static_cast<double>(rng() % 2000) / 7;
      AppendCheckIn(g, c);
    }
    Goal refolded = g;
    refolded.trend = CheckInTrend{};  // as decoded by reference
    s.goals["g"] = g;
    const std::optional<double> kept = Forecast(s, s.goals["g"]);
    s.goals["g"] = refolded;
    const std::optional<double> folded = Forecast(s, s.goals["g"]);
    ASSERT_EQ(kept.has_value(), folded.has_value()) << "round " << round;
    if (!kept) continue;
    ++forecasts;
    EXPECT_EQ(*kept, *folded) << "round " << round;  // bit for bit
    // The textbook sums, x relative to the cycle's end.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const CheckIn& c : g.check_ins) {
      if (!c.value) continue;
      const double x = static_cast<double>(c.at - to) / kMillisPerDay;
      n += 1;
      sx += x;
      sy += *c.value;
      sxx += x * x;
      sxy += x * *c.value;
    }
    const double denom = n * sxx - sx * sx;
    const double want = std::abs(denom) <= 1e-9 * n * sxx
                            ? sy / n
                            : sy / n - (n * sxy - sx * sy) / denom * (sx / n);
    EXPECT_NEAR(*kept, want, 1e-6 * std::max(1.0, std::abs(want)))
        << "round " << round;
  }
  EXPECT_GT(forecasts, 200);
}

TEST(PacingTest, ForecastOfMetricBoundGoalUsesRunningAggregate) {
  State s = WithCycle("c", "2026-03-01", "2026-03-10");
  Metric m;
  m.id = "signups";
  m.points = {{T("2026-03-01T00:00:00Z"), 10},
              {T("2026-03-02T00:00:00Z"), 10},
              {T("2026-03-03T00:00:00Z"), 10}};
  s.metrics["signups"] = m;
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  g.measure->metric = "signups";
  g.measure->aggregate = Aggregate::kSum;
  s.goals["g"] = g;
  // Running total 10, 20, 30 at days -10, -9, -8: 10 a day, 110 at the end.
  EXPECT_NEAR(*Forecast(s, s.goals["g"]), 110, 1e-9);
}

TEST(PacingTest, Stale) {
  State s = WithCycle("c", "2026-03-01", "2026-03-31");
  const Millis now = T("2026-03-20T00:00:00Z");
  Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
  s.goals["g"] = g;
  EXPECT_TRUE(GoalStale(s, s.goals["g"], now));           // never checked in
  CheckInAt(s.goals["g"], T("2026-03-13T00:00:00Z"), 5);  // exactly 7 days
  EXPECT_TRUE(GoalStale(s, s.goals["g"], now));
  CheckInAt(s.goals["g"], T("2026-03-13T00:00:00.001Z"), 5);
  EXPECT_FALSE(GoalStale(s, s.goals["g"], now));
  s.goals["g"].status = GoalStatus::kAchieved;
  EXPECT_FALSE(GoalStale(s, s.goals["g"], T("2026-05-01T00:00:00Z")));
  Goal nomeasure;
  nomeasure.cycle = "c";
  EXPECT_FALSE(GoalStale(s, nomeasure, now));
  // A metric point counts as a check-in.
  Metric m;
  m.id = "cac";
  m.points = {{T("2026-03-19T00:00:00Z"), 1}};
  s.metrics["cac"] = m;
  Goal bound = MeasuredGoal("b", 0, 100, Direction::kIncrease);
  bound.measure->metric = "cac";
  EXPECT_FALSE(GoalStale(s, bound, now));
  EXPECT_TRUE(GoalStale(s, bound, T("2026-03-27T00:00:00Z")));
  EXPECT_TRUE(GoalStale(s, bound, T("2026-03-18T00:00:00Z")));  // future pt
}

// Staleness looks for a recent check-in from the back while the check-ins
// are in order by `at`, and through all of them otherwise: the same answer
// either way, backdated check-ins included.
TEST(PacingTest, StaleFromTheBackAgreesWithAFullScan) {
  State s = WithCycle("c", "2026-03-01", "2026-03-31");
  std::mt19937 rng(11);
  const Millis day = 86'400'000;
  const Millis base = T("2026-03-01T00:00:00Z");
  int in_order = 0;
  for (int round = 0; round < 200; ++round) {
    Goal g = MeasuredGoal("g", 0, 100, Direction::kIncrease);
    Millis at = base;
    for (int i = static_cast<int>(rng() % 12); i > 0; --i) {
      at += static_cast<Millis>(rng() % 5) * day / 2;
      const bool backdate = round % 2 == 1 && rng() % 4 == 0;
      CheckInAt(g, backdate ? at - 6 * day : at, 1);
    }
    Goal scanned = g;
    scanned.check_ins_in_order = 0;  // forces the full scan
    if (g.check_ins_in_order == g.check_ins.size()) ++in_order;
    for (int d = 0; d < 40; ++d) {
      const Millis now = base + d * day / 2;
      ASSERT_EQ(GoalStale(s, g, now), GoalStale(s, scanned, now))
          << "round " << round << " day " << d;
    }
  }
  EXPECT_GT(in_order, 100);
  EXPECT_LT(in_order, 200);
}

TEST(PacingTest, SmartFlagsAVagueGoal) {
  State s = WithCycle("c", "2026-07-01", "2026-09-30");
  Goal vague;
  vague.id = "vague";
  vague.kind = GoalKind::kObjective;
  vague.title = "Make it better";  // 3 words but no owner
  Smart smart = GoalSmart(s, vague);
  EXPECT_FALSE(smart.specific);
  EXPECT_FALSE(smart.measurable);
  EXPECT_TRUE(smart.achievable);
  EXPECT_FALSE(smart.relevant);
  EXPECT_FALSE(smart.time_bound);
  EXPECT_EQ(smart.missing,
            (std::vector<std::string>{"specific", "measurable", "relevant",
                                      "time_bound"}));

  Goal good = MeasuredGoal("good", 0, 3, Direction::kIncrease);
  good.title = "Ship three new third-party integrations";
  good.owner = "dana";
  good.parent = "obj";
  smart = GoalSmart(s, good);
  EXPECT_TRUE(smart.specific && smart.measurable && smart.achievable &&
              smart.relevant && smart.time_bound);
  EXPECT_TRUE(smart.missing.empty());

  Goal bhag;
  bhag.kind = GoalKind::kBhag;
  bhag.title = "  two   words ";
  bhag.owner = "ceo";
  bhag.due = D("2036-01-01");
  smart = GoalSmart(s, bhag);
  EXPECT_FALSE(smart.specific);
  EXPECT_TRUE(smart.relevant);
  EXPECT_TRUE(smart.time_bound);
}

TEST(PacingTest, SmartAchievableAgainstMetricHistory) {
  // Cycle of 10 days; the 10 days before it moved the metric by 20 (2/day).
  State s = WithCycle("c", "2026-03-11", "2026-03-20");
  Metric m;
  m.id = "nps";
  m.points = {{T("2026-02-28T00:00:00Z"), -500},  // outside the history
              {T("2026-03-01T00:00:00Z"), 30},
              {T("2026-03-10T23:00:00Z"), 50}};
  s.metrics["nps"] = m;
  struct Case {
    double target;
    bool want;
  };
  for (const Case& c : std::vector<Case>{{110, true},     // 6/day = 3x
                                         {111, false},    // more than 3x
                                         {-10, true}}) {  // 6/day down
    Goal g = MeasuredGoal("g", 50, c.target, Direction::kIncrease);
    g.measure->metric = "nps";
    EXPECT_EQ(GoalSmart(s, g).achievable, c.want) << c.target;
  }
  // No history: achievable.
  s.metrics["nps"].points.clear();
  Goal g = MeasuredGoal("g", 50, 1e9, Direction::kIncrease);
  g.measure->metric = "nps";
  EXPECT_TRUE(GoalSmart(s, g).achievable);
}

}  // namespace
}  // namespace cairn
