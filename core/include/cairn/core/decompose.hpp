// The arithmetic of splitting a goal (API.md, "Decompose"): sub-periods of a
// cycle, shares of an amount, funnel stage targets. Pure functions, used by
// Decide and tested directly.
//
//   auto periods = SplitPeriods(*ParseDate("2027-02-01"),
//                               *ParseDate("2027-02-28"), SplitInto::kWeek);
//   auto shares = *SplitAmount(100000, PeriodDays(periods, false), true);
//   // 4 x 25000
//   auto stages = *FunnelTargets(2, {0.1, 0.5, 0.1});  // 400, 40, 20, 2
#pragma once

#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

struct Period {
  Day start = 0;
  Day end = 0;  // inclusive
  bool operator==(const Period&) const = default;
};

// The calendar months, ISO weeks (Monday to Sunday) or days of
// [start, end], in date order, each clipped to [start, end]. Empty when
// end < start.
std::vector<Period> SplitPeriods(Day start, Day end, SplitInto into);

// Each period's number of days, or of working days (Monday to Friday).
std::vector<double> PeriodDays(const std::vector<Period>& periods,
                               bool working_days);

// Splits `amount` in proportion to `weights` (finite, >= 0, positive sum;
// else a validation error blaming "weights"). With `integer` the amount must
// be a whole number (error blames "integer") and the shares are whole
// numbers summing exactly to it by the largest-remainder method, ties to the
// earlier share; otherwise the shares sum to `amount` within
// 1e-9 * |amount|. A zero weight gets a zero share.
Result<std::vector<double>> SplitAmount(double amount,
                                        const std::vector<double>& weights,
                                        bool integer);

// Funnel targets, first stage first. `rates[i]` is the conversion into
// stage i+1 from stage i (0 < rate <= 1, else an error blaming
// "stages[i+1].rate"); the last stage's target is `last_target`; each
// earlier stage's is the next one divided by the next one's rate, rounded
// to 9 decimals, then up to a whole number.
Result<std::vector<double>> FunnelTargets(double last_target,
                                          const std::vector<double>& rates);

}  // namespace cairn
