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
