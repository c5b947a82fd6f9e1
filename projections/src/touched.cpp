#include "cairn/projections/touched.hpp"

#include <simdjson.h>

#include <string_view>
#include <unordered_set>

namespace cairn::projections {

namespace {

// Parent chains are acyclic by the domain's rules; this bounds the walk.
constexpr int kMaxAncestors = 256;

class Collector {
 public:
  explicit Collector(const State& state) : state_(state) {}

  // Adds the goal and its ancestors.
  void AddWithAncestors(const std::string& id) {
    const Goal* g = state_.FindGoal(id);
    for (int i = 0; g != nullptr && i < kMaxAncestors; ++i) {
      if (!seen_.insert(g->id).second) return;  // its ancestors are in too
      out_.push_back(g->id);
      g = g->parent.empty() ? nullptr : state_.FindGoal(g->parent);
    }
  }

  std::vector<std::string> Take() && { return std::move(out_); }

 private:
  const State& state_;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> out_;
};

// data.changes.parent.from of a goal.edited, or "" when absent.
std::string FormerParent(const Event& event) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(event.data).get(doc)) return "";
  std::string_view from;
  if (doc["changes"]["parent"]["from"].get_string().get(from)) return "";
  return std::string(from);
}

}  // namespace

std::vector<std::string> GoalsTouchedBy(const State& after,
                                        const Event& event) {
  Collector c(after);
  const auto [prefix, view] = SplitStream(event.stream);
  if (prefix.empty()) return {};
  const std::string id(view);
  if (prefix == "goal") {
    c.AddWithAncestors(id);
    if (event.type == "goal.edited") {
      const std::string former = FormerParent(event);
      if (!former.empty()) c.AddWithAncestors(former);
    }
  } else if (prefix == "metric") {
    for (const auto& [gid, g] : after.goals) {
      if (g.measure && g.measure->metric == id) c.AddWithAncestors(gid);
    }
  } else if (prefix == "cycle") {
    for (const auto& [gid, g] : after.goals) {
      if (g.cycle == id) c.AddWithAncestors(gid);
    }
  }
  return std::move(c).Take();
}

}  // namespace cairn::projections
