#include "cairn/core/decompose.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace cairn {

std::vector<Period> SplitPeriods(Day start, Day end, SplitInto into) {
  std::vector<Period> out;
  Day d = start;
  while (d <= end) {
    Day last = d;
    switch (into) {
      case SplitInto::kDay:
        last = d;
        break;
      case SplitInto::kWeek:
        last = d + (7 - Weekday(d));
        break;
      case SplitInto::kMonth:
        last =
            MakeDay(YearOf(d), MonthOf(d), DaysInMonth(YearOf(d), MonthOf(d)));
        break;
    }
    last = std::min(last, end);
    out.push_back(Period{d, last});
    d = last + 1;
  }
  return out;
}

std::vector<double> PeriodDays(const std::vector<Period>& periods,
                               bool working_days) {
  std::vector<double> out;
  out.reserve(periods.size());
  for (const Period& p : periods) {
    int n = 0;
    for (Day d = p.start; d <= p.end; ++d) {
      if (!working_days || Weekday(d) <= 5) ++n;
    }
    out.push_back(n);
  }
  return out;
}

Result<std::vector<double>> SplitAmount(double amount,
                                        const std::vector<double>& weights,
                                        bool integer) {
  if (!std::isfinite(amount)) {
    return Error::Validation("measure.target", "amount is not finite");
  }
  if (weights.empty()) return Error::Validation("weights", "no parts");
  long double total = 0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0) {
      return Error::Validation("weights", "weights must be finite and >= 0");
    }
    total += w;
  }
  if (!(total > 0)) {
    return Error::Validation("weights", "weights must not all be zero");
  }
  std::vector<double> shares(weights.size(), 0.0);
  if (integer) {
    if (amount != std::floor(amount) || std::fabs(amount) > 9e15) {
      return Error::Validation("integer",
                               "an integer split needs a whole amount");
    }
    // Largest remainder on |amount|; the sign is put back at the end.
    const long double a = std::fabs(static_cast<long double>(amount));
    std::vector<long double> rem(weights.size());
    long double assigned = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      long double quota = a * weights[i] / total;
      long double fl = std::floor(quota);
      shares[i] = static_cast<double>(fl);
      rem[i] = quota - fl;
      assigned += fl;
    }
    auto left = static_cast<int64_t>(a - assigned);
    std::vector<size_t> order(weights.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return rem[x] > rem[y]; });
    for (size_t k = 0; k < order.size() && left > 0; ++k) {
      if (weights[order[k]] == 0) continue;
      shares[order[k]] += 1;
      --left;
    }
    if (amount < 0) {
      for (double& s : shares) s = -s;
    }
    return shares;
  }
  long double sum = 0;
  size_t biggest = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    shares[i] = static_cast<double>(amount * (weights[i] / total));
    sum += shares[i];
    if (weights[i] > weights[biggest]) biggest = i;
  }
  // Put the rounding residue on the biggest share so the sum is exact to
  // within a few ulps of the amount.
  shares[biggest] += static_cast<double>(amount - sum);
  return shares;
}

Result<std::vector<double>> FunnelTargets(double last_target,
                                          const std::vector<double>& rates) {
  if (!std::isfinite(last_target) || last_target <= 0) {
    return Error::Validation("measure.target",
                             "a funnel needs a positive target");
  }
  std::vector<double> out(rates.size() + 1);
  out.back() = last_target;
  for (size_t i = rates.size(); i-- > 0;) {
    double rate = rates[i];
    if (!std::isfinite(rate) || rate <= 0 || rate > 1) {
      return Error::Validation("stages[" + std::to_string(i + 1) + "].rate",
                               "a rate must be in (0, 1]");
    }
    double raw = out[i + 1] / rate;
    double rounded9 = std::round(raw * 1e9) / 1e9;
    if (!std::isfinite(rounded9)) {
      return Error::Validation("stages[" + std::to_string(i + 1) + "].rate",
                               "the funnel overflows");
    }
    out[i] = std::ceil(rounded9);
  }
  return out;
}

}  // namespace cairn
