#include "cairn/core/decompose.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace cairn {
namespace {

Day D(const char* s) { return *ParseDate(s); }

TEST(SplitPeriods, CalendarUnitsClippedToTheCycle) {
  struct Case {
    const char* start;
    const char* end;
    SplitInto into;
    std::vector<std::pair<const char*, const char*>> want;
  };
  const Case cases[] = {
      {"2027-02-01",
       "2027-02-28",
       SplitInto::kWeek,
       {{"2027-02-01", "2027-02-07"},
        {"2027-02-08", "2027-02-14"},
        {"2027-02-15", "2027-02-21"},
        {"2027-02-22", "2027-02-28"}}},
      // A Wednesday to a Tuesday: the first and last weeks are clipped.
      {"2026-01-07",
       "2026-01-20",
       SplitInto::kWeek,
       {{"2026-01-07", "2026-01-11"},
        {"2026-01-12", "2026-01-18"},
        {"2026-01-19", "2026-01-20"}}},
      {"2026-01-15",
       "2026-03-10",
       SplitInto::kMonth,
       {{"2026-01-15", "2026-01-31"},
        {"2026-02-01", "2026-02-28"},
        {"2026-03-01", "2026-03-10"}}},
      {"2024-02-28",
       "2024-03-01",
       SplitInto::kDay,
       {{"2024-02-28", "2024-02-28"},
        {"2024-02-29", "2024-02-29"},
        {"2024-03-01", "2024-03-01"}}},
      {"2026-12-01",
       "2026-12-31",
       SplitInto::kMonth,
       {{"2026-12-01", "2026-12-31"}}},
  };
  for (const Case& c : cases) {
    auto got = SplitPeriods(D(c.start), D(c.end), c.into);
    ASSERT_EQ(got.size(), c.want.size()) << c.start;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], (Period{D(c.want[i].first), D(c.want[i].second)}))
          << c.start << " #" << i;
    }
  }
  EXPECT_TRUE(
      SplitPeriods(D("2026-01-02"), D("2026-01-01"), SplitInto::kDay).empty());
}

TEST(PeriodDays, DaysAndWorkingDays) {
  auto weeks = SplitPeriods(D("2026-01-07"), D("2026-01-20"), SplitInto::kWeek);
  EXPECT_EQ(PeriodDays(weeks, false), (std::vector<double>{5, 7, 2}));
  EXPECT_EQ(PeriodDays(weeks, true), (std::vector<double>{3, 5, 2}));
  auto days = SplitPeriods(D("2027-02-06"), D("2027-02-08"), SplitInto::kDay);
  EXPECT_EQ(PeriodDays(days, true), (std::vector<double>{0, 0, 1}));
}

TEST(SplitAmount, February2027IntoIsoWeeksAndDays) {
  // 2027-02-01 is a Monday; February 2027 has 28 days.
  ASSERT_EQ(Weekday(D("2027-02-01")), 1);
  auto weeks = SplitPeriods(D("2027-02-01"), D("2027-02-28"), SplitInto::kWeek);
  auto w = SplitAmount(100000, PeriodDays(weeks, false), true);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::vector<double>{25000, 25000, 25000, 25000}));

  auto days = SplitPeriods(D("2027-02-01"), D("2027-02-28"), SplitInto::kDay);
  ASSERT_EQ(days.size(), 28u);
  auto d = SplitAmount(100000, PeriodDays(days, false), true);
  ASSERT_TRUE(d.ok());
  double sum = 0;
  for (size_t i = 0; i < d->size(); ++i) {
    sum += (*d)[i];
    // Equal remainders: the extra units go to the earlier days.
    EXPECT_EQ((*d)[i], i < 12 ? 3572 : 3571) << i;
  }
  EXPECT_EQ(sum, 100000);
}

TEST(SplitAmount, Table) {
  struct Case {
    double amount;
    std::vector<double> weights;
    bool integer;
    std::vector<double> want;
  };
  const Case cases[] = {
      {7'000'000, {5, 3, 2}, false, {3'500'000, 2'100'000, 1'400'000}},
      {7'000'000, {5, 3, 2}, true, {3'500'000, 2'100'000, 1'400'000}},
      {10, {1, 1, 1}, true, {4, 3, 3}},
      {2, {1, 1, 1}, true, {1, 1, 0}},
      {11, {0, 1, 1}, true, {0, 6, 5}},
      {100, {1, 0, 3}, false, {25, 0, 75}},
      {5, {0.5, 0.25, 0.25}, true, {3, 1, 1}},
      {-10, {1, 1, 1}, true, {-4, -3, -3}},
  };
  for (const Case& c : cases) {
    auto got = SplitAmount(c.amount, c.weights, c.integer);
    ASSERT_TRUE(got.ok()) << c.amount;
    ASSERT_EQ(got->size(), c.want.size());
    for (size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_NEAR((*got)[i], c.want[i], 1e-9 * std::fabs(c.amount))
          << c.amount << " #" << i;
    }
  }
}

TEST(SplitAmount, ExactSumsWithinTolerance) {
  for (double amount : {1.0, 0.3, 123456.789, 1e9 + 0.1, 7.0}) {
    for (int n = 1; n <= 31; ++n) {
      std::vector<double> w(n);
      for (int i = 0; i < n; ++i) w[i] = 1 + (i * 7) % 5;
      auto got = SplitAmount(amount, w, false);
      ASSERT_TRUE(got.ok());
      double sum = std::accumulate(got->begin(), got->end(), 0.0);
      EXPECT_LE(std::fabs(sum - amount), 1e-9 * std::fabs(amount))
          << amount << " n=" << n;
    }
  }
}

TEST(SplitAmount, Refusals) {
  struct Case {
    double amount;
    std::vector<double> weights;
    bool integer;
    const char* field;
  };
  const Case cases[] = {
      {10, {}, false, "weights"},      {10, {0, 0}, false, "weights"},
      {10, {1, -1}, false, "weights"}, {10, {1, NAN}, false, "weights"},
      {10.5, {1, 1}, true, "integer"}, {INFINITY, {1}, false, "measure.target"},
  };
  for (const Case& c : cases) {
    auto got = SplitAmount(c.amount, c.weights, c.integer);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().field, c.field);
    EXPECT_EQ(got.error().code, ErrorCode::kValidationFailed);
  }
}

TEST(FunnelTargets, WorkedCases) {
  struct Case {
    double last;
    std::vector<double> rates;  // call->appt, appt->meeting, meeting->signing
    std::vector<double> want;   // calls, appointments, meetings, signings
  };
  const Case cases[] = {
      {2, {0.1, 0.5, 0.1}, {400, 40, 20, 2}},
      {1, {0.2, 0.5, 0.2}, {50, 10, 5, 1}},
      {2, {0.1, 0.5, 0.2}, {200, 20, 10, 2}},
      {3, {0.7}, {5, 3}},      // 4.2857 rounds up
      {0.3, {0.1}, {3, 0.3}},  // 0.3 / 0.1 = 2.9999999999999996 -> 3
      {7, {1, 1}, {7, 7, 7}},
  };
  for (const Case& c : cases) {
    auto got = FunnelTargets(c.last, c.rates);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, c.want) << c.last;
  }
}

TEST(FunnelTargets, Refusals) {
  auto bad_rate = FunnelTargets(2, {0.1, 0, 0.5});
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_EQ(bad_rate.error().field, "stages[2].rate");
  auto over = FunnelTargets(2, {1.5});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().field, "stages[1].rate");
  auto zero = FunnelTargets(0, {0.5});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().field, "measure.target");
}

}  // namespace
}  // namespace cairn
