#include "cairn/core/time.hpp"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(TimeTest, FormatsAndParsesRoundTrip) {
  auto t = ParseTime("2026-03-01T09:30:00.000Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTime(*t), "2026-03-01T09:30:00.000Z");
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(*ParseTime("9999-12-31T23:59:59.999Z")),
            "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(*ParseTime("0001-01-01T00:00:00.007Z")),
            "0001-01-01T00:00:00.007Z");
  // Past four digits: still the year in full.
  EXPECT_EQ(FormatDate(MakeDay(12026, 3, 1)), "12026-03-01");
}

TEST(TimeTest, OffsetsAndFractions) {
  EXPECT_EQ(*ParseTime("2026-03-01T10:30:00+01:00"),
            *ParseTime("2026-03-01T09:30:00Z"));
  EXPECT_EQ(*ParseTime("2026-03-01T09:30:00.123456Z") % 1000, 123);
}

TEST(TimeTest, RejectsMalformed) {
  for (const char* bad :
       {"", "2026-03-01", "2026-03-01T09:30:00", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T09:30:00Zx",
        "2026-03-01T09:30:00.Z", "x026-03-01T09:30:00Z"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
}

TEST(TimeTest, Dates) {
  Day d = *ParseDate("2027-02-01");
  EXPECT_EQ(Weekday(d), 1);  // a Monday
  EXPECT_EQ(FormatDate(d), "2027-02-01");
  EXPECT_EQ(DaysInMonth(2027, 2), 28);
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(Weekday(0), 4);  // 1970-01-01, a Thursday
  EXPECT_FALSE(ParseDate("2027-02-29").ok());
  EXPECT_EQ(DayOf(StartOfDay(d) + 5), d);
  EXPECT_EQ(DayOf(-1), -1);
}

}  // namespace
}  // namespace cairn
