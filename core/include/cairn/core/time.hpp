// Times and dates as the contract writes them.
//
//   Millis t = *ParseTime("2026-03-01T09:30:00.000Z");
//   std::string s = FormatTime(t);           // "2026-03-01T09:30:00.000Z"
//   Day d = *ParseDate("2027-02-01");         // days since 1970-01-01
//   int wd = Weekday(d);                      // 1 = Monday ... 7 = Sunday
//
// Times are UTC milliseconds since the Unix epoch; dates are whole UTC days
// since 1970-01-01. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/core/error.hpp"

namespace cairn {

using Millis = int64_t;
using Day = int32_t;

constexpr Millis kMillisPerDay = 86'400'000;

// "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatTime(Millis t);
// RFC 3339: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; 't'/'z' and a
// space for 'T' accepted. Fractions past milliseconds are truncated.
Result<Millis> ParseTime(std::string_view s);

// "YYYY-MM-DD".
std::string FormatDate(Day d);
Result<Day> ParseDate(std::string_view s);

Day DayOf(Millis t);       // the UTC date containing t
Millis StartOfDay(Day d);  // 00:00 UTC of d
int Weekday(Day d);        // ISO: 1 = Monday ... 7 = Sunday
int YearOf(Day d);
int MonthOf(Day d);                         // 1..12
int DayOfMonth(Day d);                      // 1..31
Day MakeDay(int year, int month, int day);  // no range check
int DaysInMonth(int year, int month);

// The server clock (UTC milliseconds).
Millis NowMillis();

}  // namespace cairn
