#include "cairn/projections/board.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "cairn/core/command.hpp"
#include "cairn/core/grade.hpp"
#include "cairn/projections/entities.hpp"

namespace cairn::projections {

namespace {

// Roll-ups and tree walks stop here even if a corrupted State had a cycle.
constexpr int kMaxTreeDepth = 256;

// Weighted mean of the counted goals' grades; nullopt when none count.
template <typename Goals>
std::optional<double> WeightedGrade(GradeBook& book, const Goals& goals) {
  double sum_w = 0;
  double sum_wg = 0;
  for (const Goal* g : goals) {
    if (!CountsInRollUp(*g)) continue;
    sum_w += g->weight;
    sum_wg += g->weight * book.Of(*g).grade;
  }
  if (sum_w <= 0) return std::nullopt;
  return Round4(sum_wg / sum_w);
}

void WriteOptional(JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.Number(*v);
  } else {
    w.Null();
  }
}

struct BoardBuilder {
  const State& state;
  std::unordered_map<std::string, size_t> unit_rank;  // tree order
  const Cycle* cycle = nullptr;                       // null: any cycle
  std::unordered_set<const Goal*> seen;

  bool UnitOn(const Goal& g) const { return unit_rank.count(g.unit) > 0; }

  bool TopCycle(const Goal& g) const {
    return cycle == nullptr || g.cycle == cycle->id;
  }

  bool WithinCycle(const Goal& g) const {
    if (TopCycle(g)) return true;
    const Cycle* c = state.FindCycle(g.cycle);
    return c != nullptr && c->start >= cycle->start && c->end <= cycle->end;
  }

  void Children(BoardNode& node, int depth) {
    if (depth > kMaxTreeDepth) return;
    for (const std::string& id : node.goal->children) {
      const Goal* child = state.FindGoal(id);
      if (child == nullptr || !UnitOn(*child) || !WithinCycle(*child)) {
        continue;
      }
      if (!seen.insert(child).second) continue;
      node.children.push_back(BoardNode{child, {}});
      Children(node.children.back(), depth + 1);
    }
  }
};

void WriteNodes(JsonWriter& w, GoalWriter& gw,
                const std::vector<BoardNode>& nodes) {
  w.BeginArray();
  for (const BoardNode& n : nodes) {
    w.BeginObject();
    gw.WriteMembers(w, *n.goal);
    w.Key("children_detail");
    WriteNodes(w, gw, n.children);
    w.EndObject();
  }
  w.EndArray();
}

constexpr std::array<GoalStatus, 7> kStatuses = {
    GoalStatus::kDraft,    GoalStatus::kProposed, GoalStatus::kActive,
    GoalStatus::kAchieved, GoalStatus::kMissed,   GoalStatus::kDropped,
    GoalStatus::kArchived};

struct Tally {
  size_t count = 0;
  std::array<size_t, kStatuses.size()> by_status{};
  std::array<size_t, 3> by_color{};
};

void Count(GradeBook& book, const std::vector<BoardNode>& nodes, Tally& t) {
  for (const BoardNode& n : nodes) {
    ++t.count;
    ++t.by_status[static_cast<size_t>(n.goal->status)];
    ++t.by_color[static_cast<size_t>(book.Of(*n.goal).color)];
    Count(book, n.children, t);
  }
}

}  // namespace

std::vector<std::string> UnitsToDepth(const State& state,
                                      const std::string& unit, int depth) {
  std::vector<std::string> out;
  if (state.FindUnit(unit) == nullptr) return out;
  // Breadth first by level keeps `depth` exact; within a level, the
  // children's creation order.
  std::vector<std::string> level = {unit};
  std::unordered_set<std::string> seen = {unit};
  for (int d = 0; !level.empty(); ++d) {
    out.insert(out.end(), level.begin(), level.end());
    if (depth >= 0 && d >= depth) break;
    std::vector<std::string> next;
    for (const std::string& id : level) {
      const Unit* u = state.FindUnit(id);
      if (u == nullptr) continue;
      for (const std::string& c : u->children) {
        if (seen.insert(c).second) next.push_back(c);
      }
    }
    level = std::move(next);
  }
  return out;
}

UnitsOf BoardUnits(std::string unit, int depth) {
  return [unit = std::move(unit), depth](const State& s) {
    std::vector<std::string> units = UnitsToDepth(s, unit, depth);
    return UnitSet(units.begin(), units.end());
  };
}

std::vector<BoardNode> BoardTree(const State& state,
                                 const std::vector<std::string>& units,
                                 const std::string& cycle) {
  BoardBuilder b{state, {}, nullptr, {}};
  for (size_t i = 0; i < units.size(); ++i) b.unit_rank.emplace(units[i], i);
  std::vector<BoardNode> roots;
  if (!cycle.empty()) {
    b.cycle = state.FindCycle(cycle);
    if (b.cycle == nullptr) return roots;
  }
  std::vector<const Goal*> top;
  for (const auto& [id, g] : state.goals) {
    if (!b.UnitOn(g) || !b.TopCycle(g)) continue;
    const Goal* parent = g.parent.empty() ? nullptr : state.FindGoal(g.parent);
    // A parent on the board nests this goal under it.
    if (parent != nullptr && b.UnitOn(*parent) && b.TopCycle(*parent)) {
      continue;
    }
    top.push_back(&g);
  }
  std::sort(top.begin(), top.end(), [&](const Goal* x, const Goal* y) {
    const size_t rx = b.unit_rank[x->unit];
    const size_t ry = b.unit_rank[y->unit];
    if (rx != ry) return rx < ry;
    if (x->created_at != y->created_at) return x->created_at < y->created_at;
    return x->id < y->id;
  });
  roots.reserve(top.size());
  for (const Goal* g : top) {
    b.seen.insert(g);
    roots.push_back(BoardNode{g, {}});
  }
  for (BoardNode& n : roots) b.Children(n, 0);
  return roots;
}

void WriteBoard(JsonWriter& w, const State& state, const std::string& unit,
                const std::string& cycle, int depth, Millis now) {
  const std::vector<std::string> units = UnitsToDepth(state, unit, depth);
  const std::vector<BoardNode> roots = BoardTree(state, units, cycle);
  GoalWriter gw(state, now);
  w.BeginObject();
  w.Key("unit").String(unit);
  w.Key("cycle");
  if (cycle.empty()) {
    w.Null();
  } else {
    w.String(cycle);
  }
  w.Key("depth").Int(depth);
  w.Key("goals");
  WriteNodes(w, gw, roots);

  Tally t;
  Count(gw.book(), roots, t);
  std::vector<const Goal*> top;
  top.reserve(roots.size());
  for (const BoardNode& n : roots) top.push_back(n.goal);
  w.Key("summary").BeginObject();
  w.Key("count").Uint(t.count);
  w.Key("by_status").BeginObject();
  for (GoalStatus s : kStatuses) {
    w.Key(GoalStatusName(s)).Uint(t.by_status[static_cast<size_t>(s)]);
  }
  w.EndObject();
  w.Key("by_color").BeginObject();
  for (Color c : {Color::kRed, Color::kYellow, Color::kGreen}) {
    w.Key(ColorName(c)).Uint(t.by_color[static_cast<size_t>(c)]);
  }
  w.EndObject();
  w.Key("grade");
  WriteOptional(w, WeightedGrade(gw.book(), top));
  w.EndObject();
  w.Key("position").Uint(state.position);
  w.EndObject();
}

void WriteScorecard(JsonWriter& w, const State& state, const std::string& unit,
                    const std::string& cycle, Millis now, int depth) {
  const std::vector<std::string> units = UnitsToDepth(state, unit, depth);
  const std::unordered_set<std::string> unit_set(units.begin(), units.end());
  constexpr std::array<Perspective, 4> kPerspectives = {
      Perspective::kFinancial, Perspective::kCustomer, Perspective::kInternal,
      Perspective::kLearning};
  std::array<std::vector<const Goal*>, 4> goals;
  for (const auto& [id, g] : state.goals) {
    if (g.perspective == Perspective::kNone || unit_set.count(g.unit) == 0) {
      continue;
    }
    if (!cycle.empty() && g.cycle != cycle) continue;
    goals[static_cast<size_t>(g.perspective) - 1].push_back(&g);
  }
  GoalWriter gw(state, now);
  w.BeginObject();
  w.Key("unit").String(unit);
  w.Key("cycle");
  if (cycle.empty()) {
    w.Null();
  } else {
    w.String(cycle);
  }
  w.Key("perspectives").BeginObject();
  double sum = 0;
  int scored = 0;
  for (size_t i = 0; i < kPerspectives.size(); ++i) {
    std::vector<const Goal*>& list = goals[i];
    std::sort(list.begin(), list.end(), [](const Goal* x, const Goal* y) {
      if (x->created_at != y->created_at) return x->created_at < y->created_at;
      return x->id < y->id;
    });
    const std::optional<double> score = WeightedGrade(gw.book(), list);
    if (score) {
      sum += *score;
      ++scored;
    }
    w.Key(PerspectiveName(kPerspectives[i])).BeginObject();
    w.Key("score");
    WriteOptional(w, score);
    w.Key("goals").BeginArray();
    for (const Goal* g : list) gw.Write(w, *g);
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  w.Key("score");
  WriteOptional(w, scored > 0 ? std::optional<double>(Round4(sum / scored))
                              : std::nullopt);
  w.Key("position").Uint(state.position);
  w.EndObject();
}

}  // namespace cairn::projections
