#include "cairn/core/decide.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <type_traits>

#include "cairn/core/decompose.hpp"
#include "cairn/core/event.hpp"
#include "cairn/core/grade.hpp"
#include "cairn/core/json_writer.hpp"

namespace cairn {

namespace {

constexpr size_t kMaxName = 200;       // unit, cycle, metric names
constexpr size_t kMaxTitle = 500;      // goal titles
constexpr size_t kMaxText = 10'000;    // descriptions, notes, reasons
constexpr size_t kMaxShortText = 64;   // measure units, sources
constexpr size_t kMaxChildren = 1000;  // parts of one decomposition

using Events = std::vector<PendingEvent>;

Error Forbidden(std::string message) {
  return Error{ErrorCode::kForbidden, std::move(message), {}};
}
Error Exists(std::string field, std::string message) {
  return Error{ErrorCode::kAlreadyExists, std::move(message), std::move(field)};
}
Error Invalid(std::string field, std::string message) {
  return Error::Validation(std::move(field), std::move(message));
}

Status NeedRole(const CommandContext& ctx, Role role) {
  if (static_cast<int>(ctx.role) < static_cast<int>(role)) {
    return Forbidden(std::string("this write needs the role ") +
                     RoleName(role));
  }
  return Status::Ok();
}

Status CheckIfMatch(const CommandContext& ctx, uint64_t version) {
  if (ctx.if_match && *ctx.if_match != version) {
    return Error{ErrorCode::kVersionConflict,
                 "the entity is at version " + std::to_string(version),
                 {}};
  }
  return Status::Ok();
}

Status CheckText(const std::string& field, const std::string& s, size_t max,
                 bool required) {
  if (required && s.empty()) return Invalid(field, field + " is required");
  if (s.size() > max) {
    return Invalid(field, field + " is longer than " + std::to_string(max));
  }
  return Status::Ok();
}

// An id the client chose (none: one is made): well formed, and no
// `what` already holds it in `taken`.
template <typename Taken>
Status CheckNewId(const std::string& id, const Taken& taken,
                  std::string_view what) {
  if (id.empty()) return Status::Ok();
  if (!IsValidId(id)) return Invalid("id", "malformed id");
  if (taken.count(id)) {
    return Exists("id", std::string(what) + " " + id + " exists");
  }
  return Status::Ok();
}

Status CheckNumber(const std::string& field, double v) {
  if (!std::isfinite(v)) return Invalid(field, field + " must be finite");
  return Status::Ok();
}

// A generated id: the seed (or the time and position), unique in `taken`.
template <typename Taken>
std::string NewId(const State& state, const CommandContext& ctx,
                  const Taken& taken, const std::set<std::string>& used,
                  std::string_view hint = {}) {
  std::string base;
  if (!ctx.id_seed.empty() && IsValidId(ctx.id_seed) &&
      ctx.id_seed.size() <= 48) {
    base = ctx.id_seed;
  } else {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%013lld-%08llu",
                  static_cast<long long>(ctx.now < 0 ? 0 : ctx.now),
                  static_cast<unsigned long long>(state.position + 1));
    base = buf;
  }
  if (!hint.empty()) base += "-" + std::string(hint);
  std::string id = base;
  for (int n = 2; taken.count(id) || used.count(id); ++n) {
    id = base + "-" + std::to_string(n);
  }
  return id;
}

void WriteDate(JsonWriter& w, std::optional<Day> d) {
  if (d) {
    w.String(FormatDate(*d));
  } else {
    w.Null();
  }
}
void WriteOptString(JsonWriter& w, const std::string& s) {
  if (s.empty()) {
    w.Null();
  } else {
    w.String(s);
  }
}
void WriteOptNumber(JsonWriter& w, std::optional<double> v) {
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
  if (m.stretch) w.Key("stretch").Number(*m.stretch);
  w.Key("direction").String(DirectionName(m.direction));
  if (!m.unit.empty()) w.Key("unit").String(m.unit);
  if (!m.metric.empty()) w.Key("metric").String(m.metric);
  w.Key("aggregate").String(AggregateName(m.aggregate));
  w.EndObject();
}

std::string GoalCreatedData(const Goal& g, int split_index) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("kind").String(GoalKindName(g.kind));
  w.Key("title").String(g.title);
  if (!g.description.empty()) w.Key("description").String(g.description);
  w.Key("unit").String(g.unit);
  w.Key("cycle").String(g.cycle);
  if (!g.owner.empty()) w.Key("owner").String(g.owner);
  if (!g.parent.empty()) w.Key("parent").String(g.parent);
  w.Key("weight").Number(g.weight);
  w.Key("committed").Bool(g.committed);
  if (g.perspective != Perspective::kNone) {
    w.Key("perspective").String(PerspectiveName(g.perspective));
  }
  if (g.due) w.Key("due").String(FormatDate(*g.due));
  if (g.measure) {
    w.Key("measure");
    WriteMeasure(w, *g.measure);
  }
  w.Key("status").String(GoalStatusName(g.status));
  if (!g.split_from.empty()) {
    w.Key("split_from").String(g.split_from);
    w.Key("split_index").Int(split_index);
  }
  w.EndObject();
  return std::move(w).Take();
}

// The measure's rules; `prefix` names the field ("measure").
Status CheckMeasure(const State& state, const Measure& m) {
  if (auto s = CheckNumber("measure.start", m.start); !s) return s;
  if (auto s = CheckNumber("measure.target", m.target); !s) return s;
  if (m.stretch) {
    if (auto s = CheckNumber("measure.stretch", *m.stretch); !s) return s;
  }
  switch (m.direction) {
    case Direction::kIncrease:
      if (!(m.target > m.start)) {
        return Invalid("measure.target",
                       "an increase needs target greater than start");
      }
      if (m.stretch && *m.stretch < m.target) {
        return Invalid("measure.stretch",
                       "the stretch lies beyond the target (>= target)");
      }
      break;
    case Direction::kDecrease:
      if (!(m.target < m.start)) {
        return Invalid("measure.target",
                       "a decrease needs target less than start");
      }
      if (m.stretch && *m.stretch > m.target) {
        return Invalid("measure.stretch",
                       "the stretch lies beyond the target (<= target)");
      }
      break;
    default:
      if (m.stretch) {
        return Invalid("measure.stretch",
                       "a stretch needs direction increase or decrease");
      }
      break;
  }
  if (auto s = CheckText("measure.unit", m.unit, kMaxShortText, false); !s) {
    return s;
  }
  if (!m.metric.empty() && !state.FindMetric(m.metric)) {
    return Invalid("measure.metric", "no metric " + m.metric);
  }
  return Status::Ok();
}

Result<Measure> MeasureFromInput(const MeasureInput& in) {
  Measure m;
  m.direction = in.direction.value_or(Direction::kIncrease);
  m.start = in.start.value_or(0);
  if (in.target) {
    m.target = *in.target;
  } else if (m.direction == Direction::kBinary) {
    m.target = 1;
  } else {
    return Invalid("measure.target", "measure.target is required");
  }
  m.stretch = in.stretch;
  m.unit = in.unit;
  m.metric = in.metric;
  m.aggregate = in.aggregate.value_or(Aggregate::kLast);
  return m;
}

// Would making `parent` the parent of `id` close a loop?
template <typename Map>
bool MakesLoop(const Map& map, const std::string& id,
               const std::string& parent) {
  std::string at = parent;
  for (size_t steps = 0; !at.empty() && steps <= map.size(); ++steps) {
    if (at == id) return true;
    auto it = map.find(at);
    if (it == map.end()) return false;
    at = it->second.parent;
  }
  return !at.empty();  // a longer walk than there are entries: a loop
}

Status GoalScope(const State& state, const CommandContext& ctx,
                 const std::string& unit) {
  if (!UnitInScope(state, ctx.scope_unit, unit)) {
    return Forbidden("unit " + unit + " is outside the token's scope");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- units

Result<Events> DecideCreateUnit(const State& state, const CreateUnit& c,
                                const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  std::string id = c.id;
  if (auto s = CheckNewId(id, state.units, "unit"); !s) return s.error();
  if (auto s = CheckText("name", c.name, kMaxName, true); !s) return s.error();
  if (!c.kind) return Invalid("kind", "kind is required");
  if (c.parent.empty()) {
    for (const auto& [uid, u] : state.units) {
      if (u.parent.empty()) {
        return Invalid("parent", "parent is required (root is " + uid + ")");
      }
    }
    if (!ctx.scope_unit.empty()) {
      return Forbidden("a scoped token cannot create a root unit");
    }
  } else {
    if (!state.FindUnit(c.parent)) {
      return Invalid("parent", "no unit " + c.parent);
    }
    if (!UnitInScope(state, ctx.scope_unit, c.parent)) {
      return Forbidden("unit " + c.parent + " is outside the token's scope");
    }
  }
  if (id.empty()) id = NewId(state, ctx, state.units, {});
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("name").String(c.name);
  w.Key("kind").String(UnitKindName(*c.kind));
  if (!c.parent.empty()) w.Key("parent").String(c.parent);
  w.EndObject();
  return Events{{"unit-" + id, "unit.created", std::move(w).Take(), 0}};
}

Result<Events> DecideEditUnit(const State& state, const EditUnit& c,
                              const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  const Unit* u = state.FindUnit(c.id);
  if (!u) return Error::NotFound("no unit " + c.id);
  if (!UnitInScope(state, ctx.scope_unit, c.id)) {
    return Forbidden("unit " + c.id + " is outside the token's scope");
  }
  if (auto s = CheckIfMatch(ctx, u->version); !s) return s.error();
  JsonWriter w;
  w.BeginObject();
  w.Key("changes").BeginObject();
  bool changed = false;
  if (c.name) {
    if (auto s = CheckText("name", *c.name, kMaxName, true); !s) {
      return s.error();
    }
    if (*c.name != u->name) {
      w.Key("name").BeginObject();
      w.Key("from").String(u->name).Key("to").String(*c.name);
      w.EndObject();
      changed = true;
    }
  }
  if (c.parent) {
    if (c.parent->empty()) {
      return Invalid("parent", "a unit cannot be made a root");
    }
    if (!state.FindUnit(*c.parent)) {
      return Invalid("parent", "no unit " + *c.parent);
    }
    if (MakesLoop(state.units, c.id, *c.parent)) {
      return Invalid("parent", "the move would make a cycle");
    }
    if (!UnitInScope(state, ctx.scope_unit, *c.parent)) {
      return Forbidden("unit " + *c.parent + " is outside the token's scope");
    }
    if (*c.parent != u->parent) {
      w.Key("parent").BeginObject();
      w.Key("from");
      WriteOptString(w, u->parent);
      w.Key("to").String(*c.parent);
      w.EndObject();
      changed = true;
    }
  }
  w.EndObject();
  w.EndObject();
  if (!changed) return Events{};
  return Events{
      {"unit-" + c.id, "unit.edited", std::move(w).Take(), u->version}};
}

// ---------------------------------------------------------------- cycles

std::string CycleCreatedData(const Cycle& c) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(c.id);
  w.Key("name").String(c.name);
  w.Key("kind").String(CycleKindName(c.kind));
  w.Key("start").String(FormatDate(c.start));
  w.Key("end").String(FormatDate(c.end));
  if (!c.parent.empty()) w.Key("parent").String(c.parent);
  w.EndObject();
  return std::move(w).Take();
}

Result<Events> DecideCreateCycle(const State& state, const CreateCycle& c,
                                 const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  std::string id = c.id;
  if (auto s = CheckNewId(id, state.cycles, "cycle"); !s) return s.error();
  if (auto s = CheckText("name", c.name, kMaxName, true); !s) return s.error();
  if (!c.kind) return Invalid("kind", "kind is required");
  if (!c.start) return Invalid("start", "start is required");
  if (!c.end) return Invalid("end", "end is required");
  if (*c.end < *c.start) return Invalid("end", "end is before start");
  if (!c.parent.empty()) {
    const Cycle* p = state.FindCycle(c.parent);
    if (!p) return Invalid("parent", "no cycle " + c.parent);
    if (*c.start < p->start) {
      return Invalid("start", "the cycle starts before its parent");
    }
    if (*c.end > p->end) {
      return Invalid("end", "the cycle ends after its parent");
    }
  }
  if (id.empty()) id = NewId(state, ctx, state.cycles, {});
  Cycle cy;
  cy.id = id;
  cy.name = c.name;
  cy.kind = *c.kind;
  cy.start = *c.start;
  cy.end = *c.end;
  cy.parent = c.parent;
  return Events{{"cycle-" + id, "cycle.created", CycleCreatedData(cy), 0}};
}

Result<Events> DecideCloseCycle(const State& state, const CloseCycle& c,
                                const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  const Cycle* cy = state.FindCycle(c.id);
  if (!cy) return Error::NotFound("no cycle " + c.id);
  if (auto s = CheckIfMatch(ctx, cy->version); !s) return s.error();
  if (cy->closed) {
    return Error{ErrorCode::kCycleClosed, "cycle " + c.id + " is closed", {}};
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("grades").BeginObject();
  for (const auto& [gid, g] : state.goals) {
    if (g.cycle != c.id) continue;
    w.Key(gid).Number(GoalGrade(state, g, ctx.now));
  }
  w.EndObject();
  w.EndObject();
  return Events{
      {"cycle-" + c.id, "cycle.closed", std::move(w).Take(), cy->version}};
}

// ---------------------------------------------------------------- goals

Result<Events> DecideCreateGoal(const State& state, const CreateGoal& c,
                                const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  Goal g;
  g.id = c.id;
  if (auto s = CheckNewId(g.id, state.goals, "goal"); !s) return s.error();
  if (!c.kind) return Invalid("kind", "kind is required");
  g.kind = *c.kind;
  if (auto s = CheckText("title", c.title, kMaxTitle, true); !s) {
    return s.error();
  }
  g.title = c.title;
  if (auto s = CheckText("description", c.description, kMaxText, false); !s) {
    return s.error();
  }
  g.description = c.description;
  if (c.unit.empty()) return Invalid("unit", "unit is required");
  if (!state.FindUnit(c.unit)) return Invalid("unit", "no unit " + c.unit);
  g.unit = c.unit;
  if (c.cycle.empty()) return Invalid("cycle", "cycle is required");
  if (!state.FindCycle(c.cycle)) {
    return Invalid("cycle", "no cycle " + c.cycle);
  }
  g.cycle = c.cycle;
  if (!c.owner.empty() && !IsValidId(c.owner)) {
    return Invalid("owner", "malformed owner handle");
  }
  g.owner = c.owner;
  if (!c.parent.empty()) {
    if (c.parent == g.id)
      return Invalid("parent", "a goal cannot parent itself");
    if (!state.FindGoal(c.parent)) {
      return Invalid("parent", "no goal " + c.parent);
    }
  }
  g.parent = c.parent;
  g.weight = c.weight.value_or(1);
  if (!std::isfinite(g.weight) || g.weight <= 0) {
    return Invalid("weight", "weight must be greater than 0");
  }
  g.committed = c.committed;
  g.perspective = c.perspective;
  g.due = c.due;
  if (c.measure) {
    auto m = MeasureFromInput(*c.measure);
    if (!m) return m.error();
    if (auto s = CheckMeasure(state, *m); !s) return s.error();
    g.measure = std::move(*m);
  }
  g.status = c.status.value_or(GoalStatus::kActive);
  if (g.status != GoalStatus::kActive && g.status != GoalStatus::kDraft &&
      g.status != GoalStatus::kProposed) {
    return Invalid("status", "a new goal is draft, proposed or active");
  }
  if (auto s = GoalScope(state, ctx, g.unit); !s) return s.error();
  if (g.id.empty()) g.id = NewId(state, ctx, state.goals, {});
  return Events{{"goal-" + g.id, "goal.created", GoalCreatedData(g, 0), 0}};
}

// Collects `changes` of a goal.edited event.
class Changes {
 public:
  Changes() {
    w_.BeginObject();
    w_.Key("changes").BeginObject();
  }
  JsonWriter& Field(std::string_view path) {
    ++count_;
    return w_.Key(path).BeginObject().Key("from");
  }
  void Done() { w_.EndObject(); }
  int count() const { return count_; }
  std::string Finish(const std::string& reason) && {
    w_.EndObject();
    if (!reason.empty()) w_.Key("reason").String(reason);
    w_.EndObject();
    return std::move(w_).Take();
  }

 private:
  JsonWriter w_;
  int count_ = 0;
};

void StringChange(Changes& ch, std::string_view path, const std::string& from,
                  const std::string& to) {
  if (from == to) return;
  JsonWriter& w = ch.Field(path);
  WriteOptString(w, from);
  w.Key("to");
  WriteOptString(w, to);
  ch.Done();
}

void NumberChange(Changes& ch, std::string_view path,
                  std::optional<double> from, std::optional<double> to) {
  if (from == to) return;
  JsonWriter& w = ch.Field(path);
  WriteOptNumber(w, from);
  w.Key("to");
  WriteOptNumber(w, to);
  ch.Done();
}

// The parts of split goal `g` whose targets follow its measure `to`
// (rescale_parts): for a split by time or owners, shares of the new amount
// (target - start) by the parts' present amounts, whole numbers kept whole;
// for a funnel, every stage scaled with the target, the earlier ones
// rounded up as a split makes them, the last one the target itself. One
// goal.edited per part whose target moves, in the parts' order.
Result<Events> RescaledParts(const State& state, const CommandContext& ctx,
                             const Goal& g, const std::optional<Measure>& to,
                             const std::string& reason) {
  if (g.split == SplitBy::kNone) {
    return Invalid("rescale_parts", "goal " + g.id + " is not split");
  }
  if (!g.measure || !to) {
    return Invalid("rescale_parts", "parts follow a measure; there is none");
  }
  std::vector<const Goal*> parts;
  for (const std::string& id : g.children) {
    const Goal* p = state.FindGoal(id);
    if (p != nullptr && p->split_from == g.id && p->measure) parts.push_back(p);
  }
  if (parts.empty()) return Events{};
  std::vector<double> targets;
  if (g.split == SplitBy::kFunnel) {
    const double from = g.measure->target;
    if (!(to->target > 0) || !std::isfinite(to->target) || !(from > 0)) {
      return Invalid("measure.target", "a funnel needs a positive target");
    }
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const double raw = parts[i]->measure->target * (to->target / from);
      const double rounded9 = std::round(raw * 1e9) / 1e9;
      if (!std::isfinite(rounded9)) {
        return Invalid("measure.target", "the funnel overflows");
      }
      targets.push_back(std::ceil(rounded9));
    }
    targets.push_back(to->target);
  } else {
    std::vector<double> weights;
    const double amount = to->target - to->start;
    bool whole = amount == std::floor(amount);
    for (const Goal* p : parts) {
      const double part = p->measure->target - p->measure->start;
      weights.push_back(std::fabs(part));
      whole = whole && part == std::floor(part);
    }
    auto shares = SplitAmount(amount, weights, whole);
    if (!shares) {
      return Invalid("rescale_parts", "the parts' shares cannot be kept: " +
                                          shares.error().message);
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      targets.push_back(parts[i]->measure->start + (*shares)[i]);
    }
  }
  Events out;
  const std::string why =
      "scaled with " + g.id + (reason.empty() ? "" : ": " + reason);
  for (size_t i = 0; i < parts.size(); ++i) {
    const Goal& p = *parts[i];
    if (targets[i] == p.measure->target) continue;
    if (!UnitInScope(state, ctx.scope_unit, p.unit)) {
      return Forbidden("rescaling needs an editor of every part's unit; " +
                       p.id + " is outside this token's");
    }
    Changes ch;
    NumberChange(ch, "measure.target", p.measure->target, targets[i]);
    out.push_back(
        {"goal-" + p.id, "goal.edited", std::move(ch).Finish(why), p.version});
  }
  return out;
}

Result<Events> DecideEditGoal(const State& state, const EditGoal& c,
                              const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  const Goal* g = state.FindGoal(c.id);
  if (!g) return Error::NotFound("no goal " + c.id);
  if (auto s = GoalScope(state, ctx, g->unit); !s) return s.error();
  if (auto s = CheckIfMatch(ctx, g->version); !s) return s.error();
  if (c.title) {
    if (auto s = CheckText("title", *c.title, kMaxTitle, true); !s) {
      return s.error();
    }
  }
  if (c.description) {
    if (auto s = CheckText("description", *c.description, kMaxText, false);
        !s) {
      return s.error();
    }
  }
  if (c.owner && !c.owner->empty() && !IsValidId(*c.owner)) {
    return Invalid("owner", "malformed owner handle");
  }
  if (c.parent && !c.parent->empty()) {
    if (!state.FindGoal(*c.parent)) {
      return Invalid("parent", "no goal " + *c.parent);
    }
    if (MakesLoop(state.goals, c.id, *c.parent)) {
      return Invalid("parent", "the parent would make a cycle");
    }
  }
  if (c.weight && (!std::isfinite(*c.weight) || *c.weight <= 0)) {
    return Invalid("weight", "weight must be greater than 0");
  }
  if (auto s = CheckText("reason", c.reason, kMaxText, false); !s) {
    return s.error();
  }
  // The measure after the merge.
  std::optional<Measure> measure = g->measure;
  if (c.clear_measure) {
    measure.reset();
  } else if (c.measure) {
    const MeasurePatch& p = *c.measure;
    if (!measure) {
      if (!p.target &&
          p.direction.value_or(Direction::kIncrease) != Direction::kBinary) {
        return Invalid("measure.target", "measure.target is required");
      }
      measure = Measure{};
      if (p.direction == Direction::kBinary && !p.target) measure->target = 1;
    }
    Measure& m = *measure;
    if (p.start) m.start = *p.start;
    if (p.target) m.target = *p.target;
    if (p.stretch) m.stretch = *p.stretch;
    if (p.clear_stretch) m.stretch.reset();
    if (p.direction) m.direction = *p.direction;
    if (p.unit) m.unit = *p.unit;
    if (p.metric) m.metric = *p.metric;
    if (p.aggregate) m.aggregate = *p.aggregate;
    if (measure != g->measure) {
      if (auto s = CheckMeasure(state, m); !s) return s.error();
    }
  }

  Changes ch;
  if (c.title) StringChange(ch, "title", g->title, *c.title);
  if (c.description) {
    StringChange(ch, "description", g->description, *c.description);
  }
  if (c.owner) StringChange(ch, "owner", g->owner, *c.owner);
  if (c.parent) StringChange(ch, "parent", g->parent, *c.parent);
  if (c.weight) NumberChange(ch, "weight", g->weight, *c.weight);
  if (c.committed && *c.committed != g->committed) {
    ch.Field("committed").Bool(g->committed).Key("to").Bool(*c.committed);
    ch.Done();
  }
  if (c.perspective) {
    StringChange(ch, "perspective", PerspectiveName(g->perspective),
                 PerspectiveName(*c.perspective));
  }
  if (c.due && *c.due != g->due) {
    JsonWriter& w = ch.Field("due");
    WriteDate(w, g->due);
    w.Key("to");
    WriteDate(w, *c.due);
    ch.Done();
  }
  if (measure != g->measure) {
    if (!measure || !g->measure) {
      JsonWriter& w = ch.Field("measure");
      if (g->measure) {
        WriteMeasure(w, *g->measure);
      } else {
        w.Null();
      }
      w.Key("to");
      if (measure) {
        WriteMeasure(w, *measure);
      } else {
        w.Null();
      }
      ch.Done();
    } else {
      const Measure& a = *g->measure;
      const Measure& b = *measure;
      NumberChange(ch, "measure.start", a.start, b.start);
      NumberChange(ch, "measure.target", a.target, b.target);
      NumberChange(ch, "measure.stretch", a.stretch, b.stretch);
      StringChange(ch, "measure.direction", DirectionName(a.direction),
                   DirectionName(b.direction));
      StringChange(ch, "measure.unit", a.unit, b.unit);
      StringChange(ch, "measure.metric", a.metric, b.metric);
      StringChange(ch, "measure.aggregate", AggregateName(a.aggregate),
                   AggregateName(b.aggregate));
    }
  }
  if (ch.count() == 0) return Events{};
  Result<Events> parts = c.rescale_parts
                             ? RescaledParts(state, ctx, *g, measure, c.reason)
                             : Result<Events>(Events{});
  if (!parts) return parts.error();
  Events events{{"goal-" + c.id, "goal.edited", std::move(ch).Finish(c.reason),
                 g->version}};
  for (PendingEvent& e : *parts) events.push_back(std::move(e));
  return events;
}

bool TransitionAllowed(GoalStatus from, GoalStatus to) {
  using S = GoalStatus;
  switch (from) {
    case S::kDraft:
      return to == S::kProposed || to == S::kActive || to == S::kDropped ||
             to == S::kArchived;
    case S::kProposed:
      return to == S::kActive || to == S::kDraft || to == S::kDropped ||
             to == S::kArchived;
    case S::kActive:
      return to == S::kAchieved || to == S::kMissed || to == S::kDropped ||
             to == S::kArchived || to == S::kDraft;
    case S::kAchieved:
    case S::kMissed:
    case S::kDropped:
      return to == S::kActive || to == S::kArchived;
    case S::kArchived:
      return false;
  }
  return false;
}

Result<Events> DecideChangeStatus(const State& state, const ChangeGoalStatus& c,
                                  const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  const Goal* g = state.FindGoal(c.id);
  if (!g) return Error::NotFound("no goal " + c.id);
  if (auto s = GoalScope(state, ctx, g->unit); !s) return s.error();
  if (auto s = CheckIfMatch(ctx, g->version); !s) return s.error();
  if (!c.status) return Invalid("status", "status is required");
  if (auto s = CheckText("reason", c.reason, kMaxText, false); !s) {
    return s.error();
  }
  if (*c.status == g->status) return Events{};
  if (!TransitionAllowed(g->status, *c.status)) {
    return Invalid("status", std::string("a goal cannot go from ") +
                                 GoalStatusName(g->status) + " to " +
                                 GoalStatusName(*c.status));
  }
  if (g->status == GoalStatus::kProposed && *c.status == GoalStatus::kActive) {
    const std::string approver_unit = ApproverUnit(state, *g);
    if (!UnitInScope(state, ctx.scope_unit, approver_unit)) {
      return Forbidden("approving needs an editor of unit " + approver_unit);
    }
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("from").String(GoalStatusName(g->status));
  w.Key("to").String(GoalStatusName(*c.status));
  if (!c.reason.empty()) w.Key("reason").String(c.reason);
  w.EndObject();
  return Events{
      {"goal-" + c.id, "goal.status_changed", std::move(w).Take(), g->version}};
}

Result<Events> DecideCheckIn(const State& state, const AddCheckIn& c,
                             const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  const Goal* g = state.FindGoal(c.goal);
  if (!g) return Error::NotFound("no goal " + c.goal);
  if (auto s = GoalScope(state, ctx, g->unit); !s) return s.error();
  if (auto s = CheckIfMatch(ctx, g->version); !s) return s.error();
  if (g->split == SplitBy::kTime || g->split == SplitBy::kOwners) {
    return Invalid("goal", "this goal is split; check in on its parts instead");
  }
  if (const Cycle* cy = state.FindCycle(g->cycle); cy && cy->closed) {
    return Error{ErrorCode::kCycleClosed, "cycle " + cy->id + " is closed",
                 "cycle"};
  }
  if (c.value) {
    if (auto s = CheckNumber("value", *c.value); !s) return s.error();
  }
  if (c.confidence && (*c.confidence < 0 || *c.confidence > 10)) {
    return Invalid("confidence", "confidence is 0..10");
  }
  if (c.correction_of) {
    bool found = false;
    for (const CheckIn& earlier : g->check_ins) {
      found |= static_cast<int64_t>(earlier.position) == *c.correction_of;
    }
    if (!found) {
      return Invalid("correction_of",
                     "no check-in of this goal at that position");
    }
  }
  if (auto s = CheckText("note", c.note, kMaxText, false); !s) {
    return s.error();
  }
  Millis at = c.at.value_or(ctx.now);
  if (at > ctx.now) return Invalid("at", "at may not be in the future");
  if (at < 0) return Invalid("at", "at may not be before 1970");
  JsonWriter w;
  w.BeginObject();
  if (c.value) w.Key("value").Number(*c.value);
  if (c.confidence) w.Key("confidence").Int(*c.confidence);
  if (!c.note.empty()) w.Key("note").String(c.note);
  w.Key("at").String(FormatTime(at));
  if (c.correction_of) w.Key("correction_of").Int(*c.correction_of);
  w.EndObject();
  return Events{
      {"goal-" + c.goal, "goal.checked_in", std::move(w).Take(), g->version}};
}

// ------------------------------------------------------------ decompose

// Child id `<goal>-<suffix>` when that is a free, valid id; else generated.
std::string ChildId(const State& state, const CommandContext& ctx,
                    const std::set<std::string>& used, const std::string& goal,
                    const std::string& suffix) {
  std::string id = goal + "-" + suffix;
  if (IsValidId(id) && !state.goals.count(id) && !used.count(id)) return id;
  return NewId(state, ctx, state.goals, used, suffix);
}

Goal ChildOf(const Goal& parent, double share) {
  Goal child;
  child.kind = parent.kind;
  child.title = parent.title;
  child.unit = parent.unit;
  child.cycle = parent.cycle;
  child.owner = parent.owner;
  child.parent = parent.id;
  child.committed = parent.committed;
  child.perspective = parent.perspective;
  child.split_from = parent.id;
  Measure m;
  m.start = 0;
  m.target = share;
  m.direction = Direction::kIncrease;
  m.unit = parent.measure ? parent.measure->unit : "";
  child.measure = m;
  return child;
}

std::string PeriodLabel(const Period& p, SplitInto into) {
  char buf[32];
  switch (into) {
    case SplitInto::kMonth:
      std::snprintf(buf, sizeof buf, "%04d-%02d", YearOf(p.start),
                    MonthOf(p.start));
      return buf;
    case SplitInto::kWeek: {
      // ISO week of the period's Thursday (the week's own, even clipped).
      Day thursday = p.start - (Weekday(p.start) - 1) + 3;
      int year = YearOf(thursday);
      int week = (thursday - MakeDay(year, 1, 1)) / 7 + 1;
      std::snprintf(buf, sizeof buf, "%04d-W%02d", year, week);
      return buf;
    }
    case SplitInto::kDay:
      return FormatDate(p.start);
  }
  return FormatDate(p.start);
}

Result<Events> DecideDecompose(const State& state, const Decompose& c,
                               const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  const Goal* g = state.FindGoal(c.goal);
  if (!g) return Error::NotFound("no goal " + c.goal);
  if (auto s = GoalScope(state, ctx, g->unit); !s) return s.error();
  if (auto s = CheckIfMatch(ctx, g->version); !s) return s.error();
  if (c.by == SplitBy::kNone) return Invalid("by", "by is required");
  if (g->split != SplitBy::kNone) {
    return Exists("by", "goal " + g->id + " is already split");
  }
  Events events;
  std::vector<Goal> children;
  std::vector<int> indexes;
  std::set<std::string> used;
  JsonWriter d;
  d.BeginObject();
  d.Key("by").String(SplitByName(c.by));

  if (c.by == SplitBy::kTime || c.by == SplitBy::kOwners) {
    if (!g->measure || g->measure->direction != Direction::kIncrease) {
      return Invalid("by", "only increase goals split by time or owners");
    }
  }
  const double amount = g->measure ? g->measure->target - g->measure->start : 0;

  if (c.by == SplitBy::kTime) {
    if (!c.into) return Invalid("into", "into is required");
    const Cycle* cy = state.FindCycle(g->cycle);
    if (!cy) return Invalid("cycle", "the goal's cycle is unknown");
    std::vector<Period> periods = SplitPeriods(cy->start, cy->end, *c.into);
    if (periods.size() > kMaxChildren) {
      return Invalid("into", "a split makes at most " +
                                 std::to_string(kMaxChildren) + " parts");
    }
    std::vector<double> weights;
    if (c.weights) {
      if (c.weights->size() != periods.size()) {
        return Invalid("weights", "weights needs " +
                                      std::to_string(periods.size()) +
                                      " values, one per period");
      }
      weights = *c.weights;
    } else {
      weights = PeriodDays(periods, c.working_days);
    }
    auto shares = SplitAmount(amount, weights, c.integer);
    if (!shares) return shares.error();
    const char prefix = *c.into == SplitInto::kMonth  ? 'm'
                        : *c.into == SplitInto::kWeek ? 'w'
                                                      : 'd';
    const int width = *c.into == SplitInto::kDay ? 3 : 2;
    std::set<std::string> new_cycles;
    for (size_t i = 0; i < periods.size(); ++i) {
      if ((*shares)[i] == 0) continue;
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, "%c%0*d", prefix, width,
                    static_cast<int>(i + 1));
      std::string cycle_id = cy->id + "-" + suffix;
      if (const Cycle* have = state.FindCycle(cycle_id)) {
        if (have->start != periods[i].start || have->end != periods[i].end) {
          return Invalid("into",
                         "cycle " + cycle_id + " exists with other dates");
        }
      } else {
        if (!IsValidId(cycle_id)) {
          return Invalid("into", "the sub-cycle id would be too long");
        }
        if (ctx.role != Role::kAdmin) {
          return Forbidden("creating cycle " + cycle_id + " needs an admin");
        }
        Cycle nc;
        nc.id = cycle_id;
        nc.name = PeriodLabel(periods[i], *c.into);
        nc.kind = *c.into == SplitInto::kMonth  ? CycleKind::kMonth
                  : *c.into == SplitInto::kWeek ? CycleKind::kWeek
                                                : CycleKind::kDay;
        nc.start = periods[i].start;
        nc.end = periods[i].end;
        nc.parent = cy->id;
        events.push_back(
            {"cycle-" + cycle_id, "cycle.created", CycleCreatedData(nc), 0});
      }
      Goal child = ChildOf(*g, (*shares)[i]);
      child.id = ChildId(state, ctx, used, g->id, suffix);
      used.insert(child.id);
      child.cycle = cycle_id;
      child.title = g->title + " (" + PeriodLabel(periods[i], *c.into) + ")";
      children.push_back(std::move(child));
      indexes.push_back(static_cast<int>(i + 1));
    }
    d.Key("into").String(SplitIntoName(*c.into));
    d.Key("working_days").Bool(c.working_days);
    d.Key("integer").Bool(c.integer);
    if (c.weights) {
      d.Key("weights").BeginArray();
      for (double x : *c.weights) d.Number(x);
      d.EndArray();
    }
  } else if (c.by == SplitBy::kOwners) {
    if (c.parts.empty()) return Invalid("parts", "parts are required");
    if (c.parts.size() > kMaxChildren) {
      return Invalid("parts", "a split makes at most " +
                                  std::to_string(kMaxChildren) + " parts");
    }
    std::vector<double> weights;
    for (size_t i = 0; i < c.parts.size(); ++i) {
      const OwnerPart& p = c.parts[i];
      const std::string f = "parts[" + std::to_string(i) + "]";
      if (p.unit.empty()) return Invalid(f + ".unit", "unit is required");
      if (!state.FindUnit(p.unit)) {
        return Invalid(f + ".unit", "no unit " + p.unit);
      }
      if (!UnitInScope(state, ctx.scope_unit, p.unit)) {
        return Forbidden("unit " + p.unit + " is outside the token's scope");
      }
      if (!p.owner.empty() && !IsValidId(p.owner)) {
        return Invalid(f + ".owner", "malformed owner handle");
      }
      if (!p.weight) return Invalid(f + ".weight", "weight is required");
      if (!std::isfinite(*p.weight) || *p.weight < 0) {
        return Invalid(f + ".weight", "weight must be >= 0");
      }
      weights.push_back(*p.weight);
    }
    auto shares = SplitAmount(amount, weights, c.integer);
    if (!shares) {
      Error e = shares.error();
      if (e.field == "weights") e.field = "parts";
      return e;
    }
    d.Key("integer").Bool(c.integer);
    d.Key("parts").BeginArray();
    for (size_t i = 0; i < c.parts.size(); ++i) {
      const OwnerPart& p = c.parts[i];
      d.BeginObject();
      d.Key("unit").String(p.unit);
      if (!p.owner.empty()) d.Key("owner").String(p.owner);
      d.Key("weight").Number(*p.weight);
      d.EndObject();
      if ((*shares)[i] == 0) continue;
      Goal child = ChildOf(*g, (*shares)[i]);
      child.id = ChildId(state, ctx, used, g->id, "p" + std::to_string(i + 1));
      used.insert(child.id);
      child.unit = p.unit;
      child.owner = p.owner;
      const Unit* u = state.FindUnit(p.unit);
      child.title =
          g->title + " (" + (p.owner.empty() ? u->name : p.owner) + ")";
      children.push_back(std::move(child));
      indexes.push_back(static_cast<int>(i + 1));
    }
    d.EndArray();
  } else {  // funnel
    if (!g->measure || (g->measure->direction != Direction::kIncrease &&
                        g->measure->direction != Direction::kAtLeast)) {
      return Invalid("by", "a funnel needs an increase or at_least goal");
    }
    if (c.stages.size() > kMaxChildren) {
      return Invalid("stages", "a funnel has at most " +
                                   std::to_string(kMaxChildren) + " stages");
    }
    if (c.stages.size() < 2) {
      return Invalid("stages", "a funnel needs at least two stages");
    }
    std::vector<double> rates;
    for (size_t i = 0; i < c.stages.size(); ++i) {
      const FunnelStage& s = c.stages[i];
      const std::string f = "stages[" + std::to_string(i) + "]";
      if (auto st = CheckText(f + ".name", s.name, kMaxName, true); !st) {
        return st.error();
      }
      if (i == 0) continue;
      if (!s.rate) return Invalid(f + ".rate", "rate is required");
      rates.push_back(*s.rate);
    }
    auto targets = FunnelTargets(g->measure->target, rates);
    if (!targets) return targets.error();
    d.Key("stages").BeginArray();
    for (size_t i = 0; i < c.stages.size(); ++i) {
      d.BeginObject();
      d.Key("name").String(c.stages[i].name);
      if (i > 0) d.Key("rate").Number(*c.stages[i].rate);
      d.Key("target").Number((*targets)[i]);
      d.EndObject();
      Goal child = ChildOf(*g, (*targets)[i]);
      child.kind = GoalKind::kKeyResult;
      child.id = ChildId(state, ctx, used, g->id, "f" + std::to_string(i + 1));
      used.insert(child.id);
      child.title = c.stages[i].name;
      child.measure->unit = c.stages[i].name.size() <= kMaxShortText
                                ? c.stages[i].name
                                : std::string();
      children.push_back(std::move(child));
      indexes.push_back(static_cast<int>(i + 1));
    }
    d.EndArray();
  }
  if (children.empty()) return Invalid("by", "every share is zero");
  d.Key("children").BeginArray();
  for (const Goal& ch : children) d.String(ch.id);
  d.EndArray();
  d.Key("shares").BeginArray();
  for (const Goal& ch : children) d.Number(ch.measure->target);
  d.EndArray();
  d.EndObject();
  events.push_back(
      {"goal-" + g->id, "goal.decomposed", std::move(d).Take(), g->version});
  for (size_t i = 0; i < children.size(); ++i) {
    events.push_back({"goal-" + children[i].id, "goal.created",
                      GoalCreatedData(children[i], indexes[i]), 0});
  }
  return events;
}

// ---------------------------------------------------------------- retro

Result<Events> DecideNoteRetro(const State& state, const NoteRetro& c,
                               const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  if (c.unit.empty()) return Invalid("unit", "unit is required");
  if (!state.FindUnit(c.unit)) return Invalid("unit", "no unit " + c.unit);
  if (c.cycle.empty()) return Invalid("cycle", "cycle is required");
  if (!state.FindCycle(c.cycle)) {
    return Invalid("cycle", "no cycle " + c.cycle);
  }
  if (!c.goal.empty() && !state.FindGoal(c.goal)) {
    return Invalid("goal", "no goal " + c.goal);
  }
  if (!c.kind) return Invalid("kind", "kind is required");
  if (auto s = CheckText("text", c.text, kMaxText, true); !s) {
    return s.error();
  }
  if (auto s = GoalScope(state, ctx, c.unit); !s) return s.error();
  std::string stream = "retro-" + c.unit + "-" + c.cycle;
  uint64_t version = 0;
  for (const RetroNote& n : state.retro_notes) {
    if (n.unit.size() + n.cycle.size() + 7 == stream.size() &&
        "retro-" + n.unit + "-" + n.cycle == stream) {
      ++version;
    }
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("unit").String(c.unit);
  w.Key("cycle").String(c.cycle);
  if (!c.goal.empty()) w.Key("goal").String(c.goal);
  w.Key("kind").String(RetroNoteKindName(*c.kind));
  w.Key("text").String(c.text);
  w.EndObject();
  return Events{{stream, "retro.noted", std::move(w).Take(), version}};
}

// ---------------------------------------------------------------- metrics

Result<Events> DecideDefineMetric(const State& state, const DefineMetric& c,
                                  const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  std::string id = c.id;
  if (auto s = CheckNewId(id, state.metrics, "metric"); !s) {
    return s.error();
  }
  if (auto s = CheckText("name", c.name, kMaxName, true); !s) return s.error();
  if (auto s = CheckText("unit", c.unit, kMaxShortText, false); !s) {
    return s.error();
  }
  if (id.empty()) id = NewId(state, ctx, state.metrics, {});
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("name").String(c.name);
  if (!c.unit.empty()) w.Key("unit").String(c.unit);
  w.Key("aggregate")
      .String(AggregateName(c.aggregate.value_or(Aggregate::kLast)));
  w.EndObject();
  return Events{{"metric-" + id, "metric.defined", std::move(w).Take(), 0}};
}

Result<Events> DecideRecordMetric(const State& state, const RecordMetric& c,
                                  const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kEditor); !s) return s.error();
  const Metric* m = state.FindMetric(c.id);
  if (!m) return Error::NotFound("no metric " + c.id);
  if (auto s = CheckIfMatch(ctx, m->version); !s) return s.error();
  if (c.points.empty()) return Invalid("points", "points are required");
  if (c.points.size() > kMaxMetricPoints) {
    return Invalid("points", "at most 10000 points in one call");
  }
  if (auto s = CheckText("source", c.source, kMaxName, false); !s) {
    return s.error();
  }
  std::string data;
  data.reserve(c.points.size() * 48 + 32);
  JsonWriter w(std::move(data));
  w.BeginObject();
  w.Key("points").BeginArray();
  for (size_t i = 0; i < c.points.size(); ++i) {
    const MetricPoint& p = c.points[i];
    if (p.ts < 0) {
      return Invalid("points[" + std::to_string(i) + "].ts",
                     "ts may not be before 1970");
    }
    if (!std::isfinite(p.value)) {
      return Invalid("points[" + std::to_string(i) + "].value",
                     "value must be finite");
    }
    w.BeginObject();
    w.Key("ts").String(FormatTime(p.ts));
    w.Key("value").Number(p.value);
    w.EndObject();
  }
  w.EndArray();
  if (!c.source.empty()) w.Key("source").String(c.source);
  w.EndObject();
  return Events{
      {"metric-" + c.id, "metric.recorded", std::move(w).Take(), m->version}};
}

// ---------------------------------------------------------------- tokens

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char ch : s) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

Result<Events> DecideCreateToken(const State& state, const CreateToken& c,
                                 const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  if (c.name.empty()) return Invalid("name", "name is required");
  if (!IsValidId(c.name)) return Invalid("name", "malformed token name");
  if (c.name == kStartupAdminName) {
    return Invalid("name", std::string(kStartupAdminName) +
                               " is the start-up admin token's name");
  }
  if (state.tokens.count(c.name)) {
    return Exists("name", "token " + c.name + " exists");
  }
  if (!c.role) return Invalid("role", "role is required");
  if (!c.unit.empty() && !state.FindUnit(c.unit)) {
    return Invalid("unit", "no unit " + c.unit);
  }
  if (!ctx.scope_unit.empty() &&
      (c.unit.empty() || !UnitInScope(state, ctx.scope_unit, c.unit))) {
    return Forbidden("a scoped admin makes tokens only inside its unit");
  }
  if (!IsHex64(c.secret_hash)) {
    return Invalid("secret_hash", "secret_hash is 64 lowercase hex");
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("name").String(c.name);
  w.Key("role").String(RoleName(*c.role));
  if (!c.unit.empty()) w.Key("unit").String(c.unit);
  w.Key("secret_hash").String(c.secret_hash);
  w.EndObject();
  return Events{{"token-" + c.name, "token.created", std::move(w).Take(), 0}};
}

Result<Events> DecideRevokeToken(const State& state, const RevokeToken& c,
                                 const CommandContext& ctx) {
  if (auto s = NeedRole(ctx, Role::kAdmin); !s) return s.error();
  auto it = state.tokens.find(c.name);
  if (it == state.tokens.end()) return Error::NotFound("no token " + c.name);
  if (!ctx.scope_unit.empty() &&
      (it->second.unit.empty() ||
       !UnitInScope(state, ctx.scope_unit, it->second.unit))) {
    return Forbidden("a scoped admin revokes tokens only inside its unit");
  }
  if (it->second.revoked) return Events{};
  return Events{{"token-" + c.name, "token.revoked", "{}", it->second.version}};
}

}  // namespace

bool UnitInScope(const State& state, const std::string& scope,
                 const std::string& unit) {
  if (scope.empty()) return true;
  std::string at = unit;
  for (size_t steps = 0; !at.empty() && steps <= state.units.size(); ++steps) {
    if (at == scope) return true;
    const Unit* u = state.FindUnit(at);
    if (!u) return false;
    at = u->parent;
  }
  return false;
}

std::string ApproverUnit(const State& state, const Goal& goal) {
  if (const Goal* p = state.FindGoal(goal.parent)) return p->unit;
  if (const Unit* u = state.FindUnit(goal.unit); u && !u->parent.empty()) {
    return u->parent;
  }
  return goal.unit;
}

Result<std::vector<PendingEvent>> Decide(const State& state,
                                         const Command& command,
                                         const CommandContext& ctx) {
  if (ctx.role == Role::kViewer) {
    return Forbidden("a viewer token cannot write");
  }
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateUnit>) {
          return DecideCreateUnit(state, c, ctx);
        } else if constexpr (std::is_same_v<T, EditUnit>) {
          return DecideEditUnit(state, c, ctx);
        } else if constexpr (std::is_same_v<T, CreateCycle>) {
          return DecideCreateCycle(state, c, ctx);
        } else if constexpr (std::is_same_v<T, CloseCycle>) {
          return DecideCloseCycle(state, c, ctx);
        } else if constexpr (std::is_same_v<T, CreateGoal>) {
          return DecideCreateGoal(state, c, ctx);
        } else if constexpr (std::is_same_v<T, EditGoal>) {
          return DecideEditGoal(state, c, ctx);
        } else if constexpr (std::is_same_v<T, ChangeGoalStatus>) {
          return DecideChangeStatus(state, c, ctx);
        } else if constexpr (std::is_same_v<T, AddCheckIn>) {
          return DecideCheckIn(state, c, ctx);
        } else if constexpr (std::is_same_v<T, Decompose>) {
          return DecideDecompose(state, c, ctx);
        } else if constexpr (std::is_same_v<T, NoteRetro>) {
          return DecideNoteRetro(state, c, ctx);
        } else if constexpr (std::is_same_v<T, DefineMetric>) {
          return DecideDefineMetric(state, c, ctx);
        } else if constexpr (std::is_same_v<T, RecordMetric>) {
          return DecideRecordMetric(state, c, ctx);
        } else if constexpr (std::is_same_v<T, CreateToken>) {
          return DecideCreateToken(state, c, ctx);
        } else {
          static_assert(std::is_same_v<T, RevokeToken>);
          return DecideRevokeToken(state, c, ctx);
        }
      },
      command);
}

}  // namespace cairn
