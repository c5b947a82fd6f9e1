#include "cairn/projections/diff.hpp"

#include <optional>
#include <utility>

#include "cairn/core/command.hpp"
#include "cairn/core/grade.hpp"

namespace cairn::projections {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  JsonWriter::AppendQuoted(out, s);
  return out;
}
std::string Json(const char* s) { return Json(std::string_view(s)); }
std::string Json(const std::string& s) { return Json(std::string_view(s)); }
std::string Json(double d) {
  std::string out;
  JsonWriter::AppendNumber(out, d);
  return out;
}
std::string Json(std::optional<double> d) { return d ? Json(*d) : "null"; }
std::string Json(bool b) { return b ? "true" : "false"; }

// Every compared field of a goal as JSON texts, in a fixed order.
std::vector<std::pair<std::string, std::string>> Fields(const Goal& g,
                                                        GradeBook& book) {
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("kind", Json(GoalKindName(g.kind)));
  f.emplace_back("title", Json(g.title));
  f.emplace_back("description", Json(g.description));
  f.emplace_back("owner", Json(g.owner));
  f.emplace_back("parent", Json(g.parent));
  f.emplace_back("weight", Json(g.weight));
  f.emplace_back("committed", Json(g.committed));
  f.emplace_back("perspective", Json(PerspectiveName(g.perspective)));
  f.emplace_back("due", g.due ? Json(FormatDate(*g.due)) : "null");
  f.emplace_back("status", Json(GoalStatusName(g.status)));
  const Measure* m = g.measure ? &*g.measure : nullptr;
  auto opt_str = [&](auto get) { return m ? Json(get(*m)) : "null"; };
  f.emplace_back("measure.start", m ? Json(m->start) : "null");
  f.emplace_back("measure.target", m ? Json(m->target) : "null");
  f.emplace_back("measure.stretch", m ? Json(m->stretch) : "null");
  f.emplace_back("measure.direction", opt_str([](const Measure& x) {
                   return std::string_view(DirectionName(x.direction));
                 }));
  f.emplace_back("measure.unit", opt_str([](const Measure& x) {
                   return std::string_view(x.unit);
                 }));
  f.emplace_back("measure.metric", opt_str([](const Measure& x) {
                   return std::string_view(x.metric);
                 }));
  f.emplace_back("measure.aggregate", opt_str([](const Measure& x) {
                   return std::string_view(AggregateName(x.aggregate));
                 }));
  f.emplace_back("split", Json(SplitByName(g.split)));
  const GoalFigures& fig = book.Of(g);
  f.emplace_back("current", Json(fig.current));
  // As boards show it: the latest check-in's by effective time.
  std::optional<double> confidence;
  if (const CheckIn* c = LatestCheckIn(
          g, [](const CheckIn& c) { return c.confidence.has_value(); })) {
    confidence = *c->confidence;
  }
  f.emplace_back("confidence", Json(confidence));
  f.emplace_back("grade", Json(fig.grade));
  return f;
}

GoalSummary Summary(const Goal& g) {
  return {g.id, g.title, g.owner, g.status};
}

void WriteSummaries(JsonWriter& w, std::string_view key,
                    const std::vector<GoalSummary>& list) {
  w.Key(key).BeginArray();
  for (const GoalSummary& g : list) {
    w.BeginObject();
    w.Key("id").String(g.id);
    w.Key("title").String(g.title);
    w.Key("owner").String(g.owner);
    w.Key("status").String(GoalStatusName(g.status));
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

GoalsDiff DiffGoals(const State& from, const State& to, const std::string& unit,
                    const std::string& cycle, Millis from_now, Millis to_now) {
  GoalsDiff d;
  d.unit = unit;
  d.cycle = cycle;
  d.from = from.position;
  d.to = to.position;
  auto in_scope = [&](const Goal& g) {
    return g.unit == unit && g.cycle == cycle;
  };
  GradeBook book_from(from, from_now);
  GradeBook book_to(to, to_now);
  for (const auto& [id, g] : to.goals) {
    if (!in_scope(g)) continue;
    const Goal* before = from.FindGoal(id);
    if (!before || !in_scope(*before)) {
      d.added.push_back(Summary(g));
      continue;
    }
    auto a = Fields(*before, book_from);
    auto b = Fields(g, book_to);
    GoalChanges gc{id, g.title, {}};
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].second != b[i].second) {
        gc.changes.push_back({a[i].first, a[i].second, b[i].second});
      }
    }
    if (!gc.changes.empty()) d.changed.push_back(std::move(gc));
  }
  for (const auto& [id, g] : from.goals) {
    if (!in_scope(g)) continue;
    const Goal* after = to.FindGoal(id);
    if (!after || !in_scope(*after)) d.removed.push_back(Summary(g));
  }
  return d;
}

void WriteDiff(JsonWriter& w, const GoalsDiff& d) {
  w.BeginObject();
  w.Key("unit").String(d.unit);
  w.Key("cycle").String(d.cycle);
  w.Key("from").Uint(d.from);
  w.Key("to").Uint(d.to);
  WriteSummaries(w, "added", d.added);
  WriteSummaries(w, "removed", d.removed);
  w.Key("changed").BeginArray();
  for (const GoalChanges& g : d.changed) {
    w.BeginObject();
    w.Key("goal").String(g.goal);
    w.Key("title").String(g.title);
    w.Key("changes").BeginObject();
    for (const FieldChange& c : g.changes) {
      w.Key(c.field).BeginObject();
      w.Key("from").Raw(c.from);
      w.Key("to").Raw(c.to);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.Key("position").Uint(d.to);
  w.EndObject();
}

}  // namespace cairn::projections
