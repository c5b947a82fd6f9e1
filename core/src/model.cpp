#include "cairn/core/model.hpp"

#include <algorithm>

namespace cairn {

namespace {
template <typename M>
const typename M::mapped_type* Find(const M& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}
}  // namespace

CorrectedCheckIns::CorrectedCheckIns(const Goal& goal) {
  if (goal.corrections == 0) return;
  positions_.reserve(goal.corrections);
  goal.check_ins.for_each([&](const CheckIn& c) {
    if (c.corrects != 0) positions_.push_back(c.corrects);
  });
  std::sort(positions_.begin(), positions_.end());
}

bool CorrectedCheckIns::operator()(const CheckIn& c) const {
  return !positions_.empty() &&
         std::binary_search(positions_.begin(), positions_.end(), c.position);
}

CheckInTrend FoldTrend(const Goal& goal) {
  const CorrectedCheckIns corrected(goal);
  CheckInTrend t;
  goal.check_ins.for_each([&](const CheckIn& c) {
    if (c.value && !corrected(c)) t.Add(c.at, *c.value);
  });
  t.covered = goal.check_ins.size();
  return t;
}

size_t CountCorrections(const Goal& goal) {
  size_t n = 0;
  goal.check_ins.for_each([&](const CheckIn& c) { n += c.corrects != 0; });
  return n;
}

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

const Token* TokenIndex::Find(const std::map<std::string, Token>& tokens,
                              const std::string& hash) const {
  auto it = name_of_.find(hash);
  if (it == name_of_.end()) return nullptr;
  auto t = tokens.find(it->second);
  return t == tokens.end() ? nullptr : &t->second;
}

void TokenIndex::Created(const std::map<std::string, Token>& tokens,
                         const Token& token, bool new_name) {
  if (new_name && !name_of_.count(token.secret_hash)) {
    name_of_.emplace(token.secret_hash, token.name);
    return;
  }
  Rebuild(tokens);  // a name created again, or a hash shared: rare
}

void TokenIndex::Rebuild(const std::map<std::string, Token>& tokens) {
  name_of_.clear();
  for (const auto& [name, token] : tokens) {
    name_of_.emplace(token.secret_hash, name);  // keeps the first by name
  }
}

}  // namespace cairn
