#include "cairn/core/apply.hpp"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cairn/core/command.hpp"

namespace cairn {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string Str(const element& e) {
  std::string_view sv;
  if (e.get_string().get(sv)) return {};
  return std::string(sv);
}
std::string Member(const object& o, std::string_view key) {
  element e;
  if (o[key].get(e)) return {};
  return Str(e);
}
std::optional<double> Num(const element& e) {
  double d;
  if (e.get_double().get(d)) return std::nullopt;
  return d;
}
std::optional<double> NumMember(const object& o, std::string_view key) {
  element e;
  if (o[key].get(e)) return std::nullopt;
  return Num(e);
}
std::optional<Day> Date(const element& e) {
  std::string_view sv;
  if (e.get_string().get(sv)) return std::nullopt;
  auto d = ParseDate(sv);
  if (!d) return std::nullopt;
  return *d;
}

void AddChild(std::vector<std::string>& children, const std::string& id) {
  if (std::find(children.begin(), children.end(), id) == children.end()) {
    children.push_back(id);
  }
}
void RemoveChild(std::vector<std::string>& children, const std::string& id) {
  children.erase(std::remove(children.begin(), children.end(), id),
                 children.end());
}

Measure ReadMeasure(const object& o) {
  Measure m;
  m.start = NumMember(o, "start").value_or(0);
  m.target = NumMember(o, "target").value_or(0);
  m.stretch = NumMember(o, "stretch");
  m.direction =
      ParseDirection(Member(o, "direction")).value_or(Direction::kIncrease);
  m.unit = Member(o, "unit");
  m.metric = Member(o, "metric");
  m.aggregate =
      ParseAggregate(Member(o, "aggregate")).value_or(Aggregate::kLast);
  return m;
}

void ApplyUnitCreated(State& s, const Event& e, const object& d) {
  std::string id = Member(d, "id");
  if (id.empty()) return;
  Unit& u = s.units[id];
  u.id = id;
  u.name = Member(d, "name");
  u.kind = ParseUnitKind(Member(d, "kind")).value_or(UnitKind::kTeam);
  u.parent = Member(d, "parent");
  u.version = e.version;
  u.position = e.position;
  if (!u.parent.empty() && u.parent != id) {
    auto p = s.units.find(u.parent);
    if (p != s.units.end()) AddChild(p->second.children, id);
  }
}

void ApplyUnitEdited(State& s, Unit& u, const Event& e, const object& d) {
  u.version = e.version;
  u.position = e.position;
  object changes;
  if (d["changes"].get(changes)) return;
  element ch;
  if (!changes["name"].get(ch)) {
    element to;
    if (!ch["to"].get(to)) u.name = Str(to);
  }
  if (!changes["parent"].get(ch)) {
    element to;
    if (!ch["to"].get(to)) {
      std::string np = Str(to);
      if (auto p = s.units.find(u.parent); p != s.units.end()) {
        RemoveChild(p->second.children, u.id);
      }
      u.parent = np;
      if (np != u.id) {
        if (auto p = s.units.find(np); p != s.units.end()) {
          AddChild(p->second.children, u.id);
        }
      }
    }
  }
}

void ApplyCycleCreated(State& s, const Event& e, const object& d) {
  std::string id = Member(d, "id");
  if (id.empty()) return;
  Cycle& c = s.cycles[id];
  c.id = id;
  c.name = Member(d, "name");
  c.kind = ParseCycleKind(Member(d, "kind")).value_or(CycleKind::kCustom);
  element el;
  if (!d["start"].get(el)) c.start = Date(el).value_or(0);
  if (!d["end"].get(el)) c.end = Date(el).value_or(0);
  c.parent = Member(d, "parent");
  c.version = e.version;
  c.position = e.position;
}

void ApplyCycleClosed(State& s, Cycle& c, const Event& e, const object& d) {
  c.closed = true;
  c.closed_at = e.at;
  c.version = e.version;
  c.position = e.position;
  object grades;
  if (d["grades"].get(grades)) return;
  for (auto field : grades) {
    auto g = s.goals.find(std::string(field.key));
    if (g == s.goals.end()) continue;
    if (auto v = Num(field.value)) g->second.frozen_grade = *v;
  }
}

void ApplyGoalCreated(State& s, const Event& e, const object& d) {
  std::string id = Member(d, "id");
  if (id.empty()) return;
  Goal& g = s.goals[id];
  g.id = id;
  g.kind = ParseGoalKind(Member(d, "kind")).value_or(GoalKind::kObjective);
  g.title = Member(d, "title");
  g.description = Member(d, "description");
  g.unit = Member(d, "unit");
  g.cycle = Member(d, "cycle");
  g.owner = Member(d, "owner");
  g.parent = Member(d, "parent");
  g.weight = NumMember(d, "weight").value_or(1);
  bool b = false;
  element el;
  if (!d["committed"].get(el) && !el.get_bool().get(b)) g.committed = b;
  g.perspective =
      ParsePerspective(Member(d, "perspective")).value_or(Perspective::kNone);
  if (!d["due"].get(el)) g.due = Date(el);
  object m;
  if (!d["measure"].get(m)) g.measure = ReadMeasure(m);
  g.status = ParseGoalStatus(Member(d, "status")).value_or(GoalStatus::kActive);
  g.split_from = Member(d, "split_from");
  g.created_at = e.at;
  g.created_by = e.actor;
  g.version = e.version;
  g.position = e.position;
  if (!g.parent.empty() && g.parent != id) {
    auto p = s.goals.find(g.parent);
    if (p != s.goals.end()) AddChild(p->second.children, id);
  }
}

void ApplyGoalEdited(State& s, Goal& g, const Event& e, const object& d) {
  g.version = e.version;
  g.position = e.position;
  object changes;
  if (d["changes"].get(changes)) return;
  for (auto field : changes) {
    std::string_view path = field.key;
    object ch;
    if (field.value.get(ch)) continue;
    element to;
    if (ch["to"].get(to)) continue;
    if (path == "title") {
      g.title = Str(to);
    } else if (path == "description") {
      g.description = Str(to);
    } else if (path == "owner") {
      g.owner = Str(to);
    } else if (path == "parent") {
      std::string np = Str(to);
      if (auto p = s.goals.find(g.parent); p != s.goals.end()) {
        RemoveChild(p->second.children, g.id);
      }
      g.parent = np;
      if (np != g.id) {
        if (auto p = s.goals.find(np); p != s.goals.end()) {
          AddChild(p->second.children, g.id);
        }
      }
    } else if (path == "weight") {
      g.weight = Num(to).value_or(g.weight);
    } else if (path == "committed") {
      bool b;
      if (!to.get_bool().get(b)) g.committed = b;
    } else if (path == "perspective") {
      g.perspective = ParsePerspective(Str(to)).value_or(Perspective::kNone);
    } else if (path == "due") {
      g.due = Date(to);
    } else if (path == "measure") {
      object m;
      if (to.get(m)) {
        g.measure.reset();
      } else {
        g.measure = ReadMeasure(m);
      }
    } else if (path.substr(0, 8) == "measure." && g.measure) {
      std::string_view sub = path.substr(8);
      Measure& m = *g.measure;
      if (sub == "start") {
        m.start = Num(to).value_or(m.start);
      } else if (sub == "target") {
        m.target = Num(to).value_or(m.target);
      } else if (sub == "stretch") {
        m.stretch = Num(to);
      } else if (sub == "direction") {
        m.direction = ParseDirection(Str(to)).value_or(m.direction);
      } else if (sub == "unit") {
        m.unit = Str(to);
      } else if (sub == "metric") {
        m.metric = Str(to);
      } else if (sub == "aggregate") {
        m.aggregate = ParseAggregate(Str(to)).value_or(m.aggregate);
      }
    }
  }
}

void ApplyCheckedIn(Goal& g, const Event& e, const object& d) {
  g.version = e.version;
  g.position = e.position;
  CheckIn c;
  c.position = e.position;
  c.recorded_at = e.at;
  c.at = e.at;
  std::string at = Member(d, "at");
  if (auto t = ParseTime(at)) c.at = *t;
  c.value = NumMember(d, "value");
  element el;
  int64_t conf;
  if (!d["confidence"].get(el) && !el.get_int64().get(conf)) {
    c.confidence = static_cast<int>(conf);
  }
  c.note = Member(d, "note");
  c.actor = e.actor;
  int64_t of;
  if (!d["correction_of"].get(el) && !el.get_int64().get(of) && of > 0) {
    c.corrects = static_cast<uint64_t>(of);
  }
  AppendCheckIn(g, std::move(c));
}

void ApplyMetricRecorded(Metric& m, const Event& e, const object& d) {
  m.version = e.version;
  m.position = e.position;
  simdjson::dom::array points;
  if (d["points"].get(points)) return;
  std::vector<MetricPoint> fresh;
  fresh.reserve(points.size());
  for (element p : points) {
    object po;
    if (p.get(po)) continue;
    MetricPoint mp;
    mp.position = e.position;
    element el;
    std::string_view ts;
    if (po["ts"].get(el) || el.get_string().get(ts)) continue;
    auto t = ParseTime(ts);
    if (!t) continue;
    mp.ts = *t;
    mp.value = NumMember(po, "value").value_or(0);
    fresh.push_back(mp);
  }
  if (fresh.empty()) return;
  auto by_ts = [](const MetricPoint& a, const MetricPoint& b) {
    return a.ts < b.ts;
  };
  if (!std::is_sorted(fresh.begin(), fresh.end(), by_ts)) {
    std::stable_sort(fresh.begin(), fresh.end(), by_ts);
  }
  if (!m.points.empty() && by_ts(fresh.front(), m.points.back())) {
    // Late data: only the old points later than the earliest new one
    // move, which usually is the recent tail of a long series. Old points
    // stay before new ones of equal ts.
    auto from = std::upper_bound(m.points.begin(), m.points.end(),
                                 fresh.front(), by_ts);
    std::vector<MetricPoint> merged;
    merged.reserve(static_cast<size_t>(m.points.end() - from) + fresh.size());
    std::merge(from, m.points.end(), fresh.begin(), fresh.end(),
               std::back_inserter(merged), by_ts);
    m.points.truncate(static_cast<size_t>(from - m.points.begin()));
    fresh = std::move(merged);
  }
  for (const MetricPoint& p : fresh) m.points.push_back(p);
}

}  // namespace

void Apply(State& s, const Event& e) {
  s.position = e.position;
  s.at = e.at;
  thread_local simdjson::dom::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the text: parsed where
  // it lies when its string has that room (DecodeEnvelopeInto leaves it),
  // else from a reused padded copy; either way a parse allocates nothing.
  thread_local std::string padded;
  const char* json = e.data.data();
  if (e.data.capacity() - e.data.size() < simdjson::SIMDJSON_PADDING) {
    padded.assign(e.data);
    padded.reserve(e.data.size() + simdjson::SIMDJSON_PADDING);
    json = padded.data();
  }
  object d;
  if (parser.parse(json, e.data.size(), false).get(d)) return;
  const std::string_view type = e.type;
  const std::string_view id = SplitStream(e.stream).id;

  if (type == "goal.checked_in") {
    if (Goal* g = s.MutableGoal(id)) ApplyCheckedIn(*g, e, d);
  } else if (type == "metric.recorded") {
    if (Metric* m = s.MutableMetric(id)) ApplyMetricRecorded(*m, e, d);
  } else if (type == "goal.created") {
    ApplyGoalCreated(s, e, d);
  } else if (type == "goal.edited") {
    if (Goal* g = s.MutableGoal(id)) ApplyGoalEdited(s, *g, e, d);
  } else if (type == "goal.status_changed") {
    if (Goal* g = s.MutableGoal(id)) {
      g->status = ParseGoalStatus(Member(d, "to")).value_or(g->status);
      g->version = e.version;
      g->position = e.position;
    }
  } else if (type == "goal.decomposed") {
    if (Goal* g = s.MutableGoal(id)) {
      g->split = ParseSplitBy(Member(d, "by")).value_or(g->split);
      g->version = e.version;
      g->position = e.position;
    }
  } else if (type == "unit.created") {
    ApplyUnitCreated(s, e, d);
  } else if (type == "unit.edited") {
    if (auto u = s.units.find(std::string(id)); u != s.units.end()) {
      ApplyUnitEdited(s, u->second, e, d);
    }
  } else if (type == "cycle.created") {
    ApplyCycleCreated(s, e, d);
  } else if (type == "cycle.closed") {
    if (auto c = s.cycles.find(std::string(id)); c != s.cycles.end()) {
      ApplyCycleClosed(s, c->second, e, d);
    }
  } else if (type == "metric.defined") {
    std::string mid = Member(d, "id");
    if (mid.empty()) return;
    Metric& m = s.metrics[mid];
    m.id = mid;
    m.name = Member(d, "name");
    m.unit = Member(d, "unit");
    m.aggregate =
        ParseAggregate(Member(d, "aggregate")).value_or(Aggregate::kLast);
    m.version = e.version;
    m.position = e.position;
  } else if (type == "retro.noted") {
    RetroNote n;
    n.unit = Member(d, "unit");
    n.cycle = Member(d, "cycle");
    n.goal = Member(d, "goal");
    n.kind = ParseRetroNoteKind(Member(d, "kind"))
                 .value_or(RetroNoteKind::kHighlight);
    n.text = Member(d, "text");
    n.actor = e.actor;
    n.at = e.at;
    n.position = e.position;
    s.retro_notes.push_back(std::move(n));
  } else if (type == "token.created") {
    std::string name = Member(d, "name");
    if (name.empty()) return;
    auto [it, new_name] = s.tokens.try_emplace(name);
    Token& t = it->second;
    t.name = name;
    t.role = ParseRole(Member(d, "role")).value_or(Role::kViewer);
    t.unit = Member(d, "unit");
    t.secret_hash = Member(d, "secret_hash");
    t.revoked = false;
    t.version = e.version;
    s.token_index.Created(s.tokens, t, new_name);
  } else if (type == "token.revoked") {
    if (auto t = s.tokens.find(std::string(id)); t != s.tokens.end()) {
      t->second.revoked = true;
      t->second.version = e.version;
    }
  }
}

void ShareHistory(State& s, const State& same, const Event& e) {
  const auto [kind, view] = SplitStream(e.stream);
  const std::string id(view);
  if (kind == "goal") {
    auto mine = s.goals.find(id);
    auto theirs = same.goals.find(id);
    if (mine != s.goals.end() && theirs != same.goals.end() &&
        mine->second.check_ins.size() == theirs->second.check_ins.size()) {
      mine->second.check_ins.ShareChunksOf(theirs->second.check_ins);
    }
  } else if (kind == "metric") {
    auto mine = s.metrics.find(id);
    auto theirs = same.metrics.find(id);
    if (mine != s.metrics.end() && theirs != same.metrics.end() &&
        mine->second.points.size() == theirs->second.points.size()) {
      mine->second.points.ShareChunksOf(theirs->second.points);
    }
  }
}

void CatchUp(State& s, const State& target,
             std::span<const Event* const> events) {
  // The touched goals in `s` and in `target`; false when the events are not
  // all check-ins on goals both hold, numbered on from s.position.
  std::vector<std::pair<Goal*, const Goal*>> goals;
  const auto only_checkins = [&] {
    if (events.empty() || events.back()->position != target.position) {
      return false;
    }
    uint64_t next = s.position + 1;
    for (const Event* e : events) {
      const auto [kind, id] = SplitStream(e->stream);
      if (e->position != next++ || e->type != "goal.checked_in" ||
          kind != "goal") {
        return false;
      }
      Goal* mine = s.MutableGoal(id);
      const Goal* theirs = target.FindGoal(std::string(id));
      if (mine == nullptr || theirs == nullptr) return false;
      goals.emplace_back(mine, theirs);
    }
    return true;
  };
  if (!only_checkins()) {
    for (const Event* e : events) Apply(s, *e);
    for (const Event* e : events) ShareHistory(s, target, *e);
    return;
  }
  // Exactly what ApplyCheckedIn and AppendCheckIn change.
  for (const auto& [mine, theirs] : goals) {
    mine->check_ins.ExtendTo(theirs->check_ins);
    mine->check_ins_in_order = theirs->check_ins_in_order;
    mine->corrections = theirs->corrections;
    mine->trend = theirs->trend;
    mine->version = theirs->version;
    mine->position = theirs->position;
  }
  s.position = target.position;
  s.at = target.at;
}

}  // namespace cairn
