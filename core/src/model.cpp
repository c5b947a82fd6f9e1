#include "cairn/core/model.hpp"

namespace cairn {

namespace {
template <typename M>
const typename M::mapped_type* Find(const M& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}
}  // namespace

const Unit* State::FindUnit(const std::string& id) const {
  return Find(units, id);
}
const Cycle* State::FindCycle(const std::string& id) const {
  return Find(cycles, id);
}
const Goal* State::FindGoal(const std::string& id) const {
  return Find(goals, id);
}
const Metric* State::FindMetric(const std::string& id) const {
  return Find(metrics, id);
}

}  // namespace cairn
