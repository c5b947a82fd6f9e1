#include "cairn/projections/entities.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/pacing.hpp"

namespace cairn::projections {

namespace {

void StringOrNull(JsonWriter& w, std::string_view key, std::string_view v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v);
  }
}

void NumberOrNull(JsonWriter& w, std::string_view key,
                  const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Number(*v);
  } else {
    w.Null();
  }
}

void WriteMeasure(JsonWriter& w, const Measure& m) {
  w.BeginObject();
  w.Key("start").Number(m.start);
  w.Key("target").Number(m.target);
  NumberOrNull(w, "stretch", m.stretch);
  w.Key("direction").String(DirectionName(m.direction));
  StringOrNull(w, "unit", m.unit);
  StringOrNull(w, "metric", m.metric);
  w.Key("aggregate").String(AggregateName(m.aggregate));
  w.EndObject();
}

}  // namespace

void GoalWriter::Write(JsonWriter& w, const Goal& goal) {
  w.BeginObject();
  WriteMembers(w, goal);
  w.EndObject();
}

void GoalWriter::WriteMembers(JsonWriter& w, const Goal& g) {
  const State& state = book_.state();
  const Millis now = book_.now();
  w.Key("id").String(g.id);
  w.Key("kind").String(GoalKindName(g.kind));
  w.Key("title").String(g.title);
  w.Key("description").String(g.description);
  w.Key("unit").String(g.unit);
  StringOrNull(w, "cycle", g.cycle);
  StringOrNull(w, "owner", g.owner);
  StringOrNull(w, "parent", g.parent);
  w.Key("children").BeginArray();
  for (const std::string& c : g.children) w.String(c);
  w.EndArray();
  w.Key("weight").Number(g.weight);
  w.Key("committed").Bool(g.committed);
  StringOrNull(w, "perspective", PerspectiveName(g.perspective));
  w.Key("due");
  if (g.due) {
    w.String(FormatDate(*g.due));
  } else {
    w.Null();
  }
  w.Key("measure");
  if (g.measure) {
    WriteMeasure(w, *g.measure);
  } else {
    w.Null();
  }
  w.Key("status").String(GoalStatusName(g.status));
  StringOrNull(w, "split", SplitByName(g.split));
  StringOrNull(w, "split_from", g.split_from);

  const GoalFigures& f = book_.Of(g);
  const CheckIn* last = LatestCheckIn(g, [](const CheckIn&) { return true; });
  const CheckIn* confident = LatestCheckIn(
      g, [](const CheckIn& c) { return c.confidence.has_value(); });
  w.Key("current");
  if (g.measure) {
    w.Number(f.current);
  } else {
    w.Null();
  }
  w.Key("confidence");
  if (confident != nullptr) {
    w.Int(*confident->confidence);
  } else {
    w.Null();
  }
  w.Key("last_check_in");
  if (last != nullptr) {
    w.String(FormatTime(last->at));
  } else {
    w.Null();
  }
  w.Key("stale").Bool(GoalStale(state, g, now));
  w.Key("progress").Number(f.progress);
  w.Key("grade").Number(f.grade);
  w.Key("color").String(ColorName(f.color));
  if (f.stretch_progress) w.Key("stretch_progress").Number(*f.stretch_progress);

  const Pacing p = GoalPacing(book_, g);
  w.Key("pacing").BeginObject();
  w.Key("expected").Number(p.expected);
  w.Key("status").String(PaceStatusName(p.status));
  NumberOrNull(w, "required_per_day", p.required_per_day);
  NumberOrNull(w, "forecast", p.forecast);
  w.EndObject();

  const Smart s = GoalSmart(state, g);
  w.Key("smart").BeginObject();
  w.Key("specific").Bool(s.specific);
  w.Key("measurable").Bool(s.measurable);
  w.Key("achievable").Bool(s.achievable);
  w.Key("relevant").Bool(s.relevant);
  w.Key("time_bound").Bool(s.time_bound);
  w.Key("missing").BeginArray();
  for (const std::string& m : s.missing) w.String(m);
  w.EndArray();
  w.EndObject();

  w.Key("created_at").String(FormatTime(g.created_at));
  w.Key("created_by").String(g.created_by);
  w.Key("version").Uint(g.version);
}

void WriteGoal(JsonWriter& w, const State& state, const Goal& goal,
               Millis now) {
  GoalWriter(state, now).Write(w, goal);
}

void WriteGoalMembers(JsonWriter& w, const State& state, const Goal& goal,
                      Millis now) {
  GoalWriter(state, now).WriteMembers(w, goal);
}

void WriteUnitMembers(JsonWriter& w, const Unit& u, bool with_children) {
  w.Key("id").String(u.id);
  w.Key("name").String(u.name);
  w.Key("kind").String(UnitKindName(u.kind));
  StringOrNull(w, "parent", u.parent);
  if (with_children) {
    w.Key("children").BeginArray();
    for (const std::string& c : u.children) w.String(c);
    w.EndArray();
  }
  w.Key("version").Uint(u.version);
}

void WriteUnit(JsonWriter& w, const Unit& unit, bool with_children) {
  w.BeginObject();
  WriteUnitMembers(w, unit, with_children);
  w.EndObject();
}

void WriteUnits(JsonWriter& w, const State& state, const std::string& scope) {
  w.BeginObject();
  w.Key("units").BeginArray();
  for (const auto& [id, u] : state.units) {
    if (!scope.empty() && !UnitInScope(state, scope, id)) continue;
    WriteUnit(w, u, /*with_children=*/false);
  }
  w.EndArray();
  w.Key("position").Uint(state.position);
  w.EndObject();
}

namespace {

void WriteCycleBody(JsonWriter& w, const Cycle& c,
                    const std::vector<const Cycle*>& children) {
  w.Key("id").String(c.id);
  w.Key("name").String(c.name);
  w.Key("kind").String(CycleKindName(c.kind));
  w.Key("start").String(FormatDate(c.start));
  w.Key("end").String(FormatDate(c.end));
  StringOrNull(w, "parent", c.parent);
  w.Key("closed").Bool(c.closed);
  w.Key("closed_at");
  if (c.closed) {
    w.String(FormatTime(c.closed_at));
  } else {
    w.Null();
  }
  w.Key("children").BeginArray();
  for (const Cycle* child : children) w.String(child->id);
  w.EndArray();
  w.Key("version").Uint(c.version);
}

// Date order; of cycles starting the same day the longer (the parent) first.
bool ByStart(const Cycle* a, const Cycle* b) {
  if (a->start != b->start) return a->start < b->start;
  if (a->end != b->end) return a->end > b->end;
  return a->id < b->id;
}

}  // namespace

void WriteCycleMembers(JsonWriter& w, const State& state, const Cycle& cycle) {
  std::vector<const Cycle*> children;
  for (const auto& [id, c] : state.cycles) {
    if (c.parent == cycle.id) children.push_back(&c);
  }
  std::sort(children.begin(), children.end(), ByStart);
  WriteCycleBody(w, cycle, children);
}

void WriteCycle(JsonWriter& w, const State& state, const Cycle& cycle) {
  w.BeginObject();
  WriteCycleMembers(w, state, cycle);
  w.EndObject();
}

void WriteCycles(JsonWriter& w, const State& state) {
  std::vector<const Cycle*> all;
  std::map<std::string, std::vector<const Cycle*>> children;
  all.reserve(state.cycles.size());
  for (const auto& [id, c] : state.cycles) {
    all.push_back(&c);
    if (!c.parent.empty()) children[c.parent].push_back(&c);
  }
  std::sort(all.begin(), all.end(), ByStart);
  for (auto& [id, list] : children) {
    std::sort(list.begin(), list.end(), ByStart);
  }
  static const std::vector<const Cycle*> kNone;
  w.BeginObject();
  w.Key("cycles").BeginArray();
  for (const Cycle* c : all) {
    auto it = children.find(c->id);
    w.BeginObject();
    WriteCycleBody(w, *c, it == children.end() ? kNone : it->second);
    w.EndObject();
  }
  w.EndArray();
  w.Key("position").Uint(state.position);
  w.EndObject();
}

namespace {
// A metric's definition: "id", "name", "unit", "aggregate".
void WriteMetricDefinition(JsonWriter& w, const Metric& m) {
  w.Key("id").String(m.id);
  w.Key("name").String(m.name);
  StringOrNull(w, "unit", m.unit);
  w.Key("aggregate").String(AggregateName(m.aggregate));
}
}  // namespace

void WriteMetricMembers(JsonWriter& w, const Metric& m, Millis from,
                        Millis to) {
  WriteMetricDefinition(w, m);
  w.Key("points").BeginArray();
  for (const MetricPoint& p : PointsIn(m, from, to)) {
    w.BeginObject();
    w.Key("ts").String(FormatTime(p.ts));
    w.Key("value").Number(p.value);
    w.EndObject();
  }
  w.EndArray();
  w.Key("version").Uint(m.version);
}

void WriteMetricSummary(JsonWriter& w, const Metric& m,
                        const std::vector<std::string>& goals) {
  w.BeginObject();
  WriteMetricDefinition(w, m);
  w.Key("point_count").Uint(m.points.size());
  w.Key("first_ts");
  if (m.points.empty()) {
    w.Null();
  } else {
    w.String(FormatTime(m.points[0].ts));
  }
  w.Key("last");
  if (m.points.empty()) {
    w.Null();
  } else {
    const MetricPoint& p = m.points.back();
    w.BeginObject();
    w.Key("ts").String(FormatTime(p.ts));
    w.Key("value").Number(p.value);
    w.EndObject();
  }
  w.Key("goals").BeginArray();
  for (const std::string& id : goals) w.String(id);
  w.EndArray();
  w.Key("version").Uint(m.version);
  w.EndObject();
}

void WriteMetric(JsonWriter& w, const Metric& metric, Millis from, Millis to) {
  w.BeginObject();
  WriteMetricMembers(w, metric, from, to);
  w.EndObject();
}

}  // namespace cairn::projections
