// A partial State: what a view of some units' goals reads (boards,
// scorecards), built at a fraction of the cost of the whole State. For
// `as_of` views (TimeTravel), where building 20,000 goals to show 200 of
// them is most of a query's time.
//
//   UnitsOf units_of = [](const State& s) { return UnitSet{"sales"}; };
//   PartialInfo info;
//   State part = PartialCopy(whole, units_of, info);      // or
//   Result<State> p = DecodePartialState(bytes, &live, units_of, info);
//   for (const Event& e : later) ApplyPartial(part, e, info);
//   if (!Covers(part, units_of, info)) { /* use the whole State */ }
//
// It holds every unit, cycle, token and retro note; of the goals, those of
// the units `units_of` picks and every goal below one of them (children,
// transitively, in whatever unit: roll-ups and pacing read them); of the
// metrics, those the kept goals are bound to. Every entity it holds equals
// the whole State's, and position and `at` are the whole State's.
//
// Events keep it so (ApplyPartial): a goal's unit never changes, a goal
// created later is always added, and events of left-out goals and metrics
// change nothing kept - except a left-out goal moved under another one
// (goal.edited of its parent), which marks the State as diverged. Covers then
// checks the result: nothing diverged, the units picked now are the units
// picked then or units created since, and every goal below a kept one and
// every metric a kept goal is bound to is held. When it says no, the caller
// uses the whole State instead (tests/history compare the two on random
// logs).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "cairn/core/event.hpp"
#include "cairn/core/model.hpp"

namespace cairn {

using UnitSet = std::unordered_set<std::string>;
// Picks, from a State's units, the units whose goals a partial State keeps.
using UnitsOf = std::function<UnitSet(const State&)>;

// What a partial State left out, for ApplyPartial and Covers.
struct PartialInfo {
  UnitSet units;       // the units picked when it was made
  UnitSet units_then;  // every unit the State had then
  std::unordered_set<std::string> metrics_left_out;
  bool diverged = false;  // an event may have needed a left-out goal
};

// The PartialInfo of a part cut from `base` (only its units are read):
// the units `units_of` picks and every unit it has.
PartialInfo PartialInfoOf(const State& base, const UnitsOf& units_of);

// The part of `whole` that `units_of` picks.
State PartialCopy(const State& whole, const UnitsOf& units_of,
                  PartialInfo& info);

// Apply (apply.hpp) for a partial State: events of goals and metrics it
// left out are skipped unparsed (position and `at` still move).
void ApplyPartial(State& part, const Event& e, PartialInfo& info);

// Whether `part` holds what `units_of` picks from it now, equal to the
// whole State's.
bool Covers(const State& part, const UnitsOf& units_of,
            const PartialInfo& info);

namespace detail {
// The goal ids in `seeds` and every id below them: `children_of(id)` gives
// a goal's child ids (a range of something convertible to string_view), or
// nullptr when the goal is absent, which `absent` then counts.
template <typename ChildrenOf>
std::unordered_set<std::string_view> GoalsBelow(
    std::vector<std::string_view> seeds, ChildrenOf children_of,
    size_t* absent = nullptr) {
  std::unordered_set<std::string_view> out(seeds.begin(), seeds.end());
  while (!seeds.empty()) {
    std::string_view id = seeds.back();
    seeds.pop_back();
    const auto* children = children_of(id);
    if (children == nullptr) {
      if (absent != nullptr) ++*absent;
      continue;
    }
    for (const auto& c : *children) {
      if (out.insert(c).second) seeds.push_back(c);
    }
  }
  return out;
}
}  // namespace detail

}  // namespace cairn
