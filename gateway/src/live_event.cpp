#include "live_event.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "cairn/core/grade.hpp"
#include "cairn/core/json_writer.hpp"

namespace cairn::gateway {
namespace {

// The id after "<prefix>-" when `stream` starts with it, else empty.
std::string_view StreamId(std::string_view stream, std::string_view prefix) {
  if (stream.size() <= prefix.size() + 1 ||
      stream.substr(0, prefix.size()) != prefix ||
      stream[prefix.size()] != '-') {
    return {};
  }
  return stream.substr(prefix.size() + 1);
}

void AddWithAncestors(const State& state, const std::string& goal_id,
                      std::vector<std::string>& out,
                      std::set<std::string>& seen) {
  std::string id = goal_id;
  // Bounded walk: a parent loop in a damaged state must not hang the writer.
  for (size_t i = 0; i <= state.goals.size() && !id.empty(); ++i) {
    const Goal* g = state.FindGoal(id);
    if (g == nullptr || !seen.insert(id).second) return;
    out.push_back(id);
    id = g->parent;
  }
}

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kIncrease:
      return "increase";
    case Direction::kDecrease:
      return "decrease";
    case Direction::kAtLeast:
      return "at_least";
    case Direction::kAtMost:
      return "at_most";
    case Direction::kBinary:
      return "binary";
  }
  return "increase";
}

std::string_view StatusName(GoalStatus s) {
  switch (s) {
    case GoalStatus::kDraft:
      return "draft";
    case GoalStatus::kProposed:
      return "proposed";
    case GoalStatus::kActive:
      return "active";
    case GoalStatus::kAchieved:
      return "achieved";
    case GoalStatus::kMissed:
      return "missed";
    case GoalStatus::kDropped:
      return "dropped";
    case GoalStatus::kArchived:
      return "archived";
  }
  return "active";
}

}  // namespace

std::vector<std::string> UnitChain(const State& state,
                                   const std::string& unit) {
  std::vector<std::string> chain;
  std::string id = unit;
  for (size_t i = 0; i <= state.units.size() && !id.empty(); ++i) {
    if (std::find(chain.begin(), chain.end(), id) != chain.end()) break;
    chain.push_back(id);
    const Unit* u = state.FindUnit(id);
    if (u == nullptr) break;
    id = u->parent;
  }
  return chain;
}

bool InScope(const LiveFilter& filter, const LiveTouch& where) {
  if (!where.cycle.empty() && !filter.cycle.empty() &&
      where.cycle != filter.cycle) {
    return false;
  }
  if (where.units.empty()) return true;
  for (size_t i = 0; i < where.units.size(); ++i) {
    if (filter.depth >= 0 && i > static_cast<size_t>(filter.depth)) break;
    if (where.units[i] == filter.unit) return true;
  }
  return false;
}

bool Matches(const LiveFilter& filter, const LiveEvent& event) {
  for (const LiveTouch& t : event.touches) {
    if (InScope(filter, t)) return true;
  }
  return false;
}

std::string_view EnvelopeFor(const LiveFilter& filter, const LiveEvent& event) {
  const auto& own = event.own_units;
  if (own.empty() ||
      std::find(own.begin(), own.end(), filter.unit) != own.end()) {
    return event.envelope;
  }
  return event.withheld_envelope;
}

std::vector<std::string> DefaultGoalsTouchedBy(const State& after,
                                               const Event& event) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  if (std::string_view goal = StreamId(event.stream, "goal"); !goal.empty()) {
    const std::string id(goal);
    AddWithAncestors(after, id, out, seen);
    if (event.type == "goal.decomposed") {
      if (const Goal* g = after.FindGoal(id)) {
        for (const std::string& child : g->children) {
          AddWithAncestors(after, child, out, seen);
        }
      }
    }
  } else if (std::string_view metric = StreamId(event.stream, "metric");
             !metric.empty()) {
    for (const auto& [id, g] : after.goals) {
      if (g.measure && g.measure->metric == metric) {
        AddWithAncestors(after, id, out, seen);
      }
    }
  }
  return out;
}

std::string DefaultWriteGoal(const State& after, const Goal& goal, Millis now) {
  GradeBook book(after, now);
  const GoalFigures& f = book.Of(goal);
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(goal.id);
  w.Key("title").String(goal.title);
  w.Key("unit").String(goal.unit);
  w.Key("cycle").String(goal.cycle);
  w.Key("owner").String(goal.owner);
  w.Key("parent");
  goal.parent.empty() ? w.Null() : w.String(goal.parent);
  w.Key("children").BeginArray();
  for (const std::string& c : goal.children) w.String(c);
  w.EndArray();
  w.Key("weight").Number(goal.weight);
  w.Key("committed").Bool(goal.committed);
  w.Key("measure");
  if (goal.measure) {
    w.BeginObject();
    w.Key("start").Number(goal.measure->start);
    w.Key("target").Number(goal.measure->target);
    w.Key("direction").String(DirectionName(goal.measure->direction));
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("status").String(StatusName(goal.status));
  w.Key("current").Number(f.current);
  w.Key("progress").Number(f.progress);
  w.Key("grade").Number(f.grade);
  w.Key("color").String(ColorName(f.color));
  w.Key("version").Uint(goal.version);
  w.Key("position").Uint(goal.position);
  w.EndObject();
  return std::move(w).Take();
}

LiveEvent DescribeEvent(const State& after, const Event& event, Millis now,
                        const LiveRenderer& renderer) {
  LiveEvent out;
  out.position = event.position;
  out.envelope = EncodeEnvelope(event);

  const std::vector<std::string> goal_ids =
      renderer.goals_touched_by ? renderer.goals_touched_by(after, event)
                                : DefaultGoalsTouchedBy(after, event);
  if (std::string_view goal = StreamId(event.stream, "goal"); !goal.empty()) {
    if (const Goal* g = after.FindGoal(std::string(goal))) {
      out.own_units = UnitChain(after, g->unit);
      if (out.own_units.empty()) out.own_units.push_back(g->unit);
      out.withheld_envelope = EncodeWithheldEnvelope(event);
    }
  }
  for (const std::string& id : goal_ids) {
    const Goal* g = after.FindGoal(id);
    if (g == nullptr) continue;
    auto live = std::make_shared<LiveGoal>();
    live->id = g->id;
    live->where = {UnitChain(after, g->unit), g->cycle};
    // A goal without a unit matches no unit subscription (an empty chain
    // would mean every unit).
    if (live->where.units.empty()) live->where.units.push_back(g->unit);
    live->json = renderer.write_goal ? renderer.write_goal(after, *g, now)
                                     : DefaultWriteGoal(after, *g, now);
    out.touches.push_back(live->where);
    out.goals.push_back(std::move(live));
  }

  if (std::string_view unit = StreamId(event.stream, "unit"); !unit.empty()) {
    out.touches.push_back({UnitChain(after, std::string(unit)), {}});
  } else if (std::string_view cycle = StreamId(event.stream, "cycle");
             !cycle.empty()) {
    out.touches.push_back({{}, std::string(cycle)});
  } else if (std::string_view token = StreamId(event.stream, "token");
             !token.empty() && event.type == "token.revoked") {
    out.revoked_token = token;
  } else if (!StreamId(event.stream, "retro").empty()) {
    // The stream name joins unit and cycle ids that may hold '-'; the note
    // itself says which.
    for (auto it = after.retro_notes.rbegin(); it != after.retro_notes.rend();
         ++it) {
      if (it->position != event.position) continue;
      out.touches.push_back({UnitChain(after, it->unit), it->cycle});
      break;
    }
  }
  return out;
}

}  // namespace cairn::gateway
