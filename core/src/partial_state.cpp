#include "cairn/core/partial_state.hpp"

#include "cairn/core/apply.hpp"

namespace cairn {

namespace {

// Goals of `units`, and every goal below one of them, in `state`; `absent`
// counts children named but not held.
std::unordered_set<std::string_view> KeptGoals(const State& state,
                                               const UnitSet& units,
                                               size_t* absent = nullptr) {
  std::vector<std::string_view> seeds;
  for (const auto& [id, g] : state.goals) {
    if (units.count(g.unit) > 0) seeds.push_back(id);
  }
  return detail::GoalsBelow(
      std::move(seeds),
      [&](std::string_view id) -> const std::vector<std::string>* {
        const Goal* g = state.FindGoal(std::string(id));
        return g == nullptr ? nullptr : &g->children;
      },
      absent);
}

}  // namespace

PartialInfo PartialInfoOf(const State& base, const UnitsOf& units_of) {
  PartialInfo info;
  info.units = units_of(base);
  for (const auto& [id, u] : base.units) info.units_then.insert(id);
  return info;
}

State PartialCopy(const State& whole, const UnitsOf& units_of,
                  PartialInfo& info) {
  State part;
  part.units = whole.units;
  part.cycles = whole.cycles;
  part.tokens = whole.tokens;
  part.token_index = whole.token_index;
  part.retro_notes = whole.retro_notes;
  part.position = whole.position;
  part.at = whole.at;
  info = PartialInfoOf(whole, units_of);
  for (std::string_view id : KeptGoals(whole, info.units)) {
    const Goal* g = whole.FindGoal(std::string(id));
    if (g == nullptr) continue;
    part.goals.emplace(g->id, *g);
    if (g->measure && !g->measure->metric.empty()) {
      if (const Metric* m = whole.FindMetric(g->measure->metric)) {
        part.metrics.emplace(m->id, *m);
      }
    }
  }
  for (const auto& [id, m] : whole.metrics) {
    if (part.metrics.count(id) == 0) info.metrics_left_out.insert(id);
  }
  return part;
}

void ApplyPartial(State& part, const Event& e, PartialInfo& info) {
  const auto [kind, id] = SplitStream(e.stream);
  bool skip = false;
  if (kind == "goal" && e.type != "goal.created" &&
      part.MutableGoal(id) == nullptr) {
    // A left-out goal moved under another one: that one's children, if
    // kept, would miss it.
    if (e.type == "goal.edited" &&
        e.data.find("\"parent\"") != std::string::npos) {
      info.diverged = true;
    }
    skip = true;
  } else if (kind == "metric" && part.MutableMetric(id) == nullptr) {
    // Metric ids are never defined twice, so a left-out one stays out.
    skip = e.type != "metric.defined" ||
           info.metrics_left_out.count(std::string(id)) > 0;
  }
  if (skip) {
    part.position = e.position;
    part.at = e.at;
    return;
  }
  Apply(part, e);
}

bool Covers(const State& part, const UnitsOf& units_of,
            const PartialInfo& info) {
  if (info.diverged) return false;
  const UnitSet units = units_of(part);
  for (const std::string& u : units) {
    // A unit that existed and was not picked then has goals not held.
    if (info.units.count(u) == 0 && info.units_then.count(u) > 0) {
      return false;
    }
  }
  size_t absent = 0;
  for (std::string_view id : KeptGoals(part, units, &absent)) {
    const Goal* g = part.FindGoal(std::string(id));
    if (g == nullptr || !g->measure || g->measure->metric.empty()) continue;
    if (info.metrics_left_out.count(g->measure->metric) > 0) return false;
  }
  return absent == 0;
}

}  // namespace cairn
