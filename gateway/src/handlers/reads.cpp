// Read endpoints: answer from the published State (or a replayed one for
// `as_of`) without touching the writer. Anything outside the token's unit
// scope is 404, exactly as if it did not exist.
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/projections/board.hpp"
#include "cairn/projections/diff.hpp"
#include "cairn/projections/entities.hpp"
#include "cairn/projections/history.hpp"
#include "cairn/projections/retro.hpp"
#include "handlers/handlers.hpp"
#include "http_errors.hpp"

namespace cairn::gateway {

namespace {

void ReplyError(Call& call, const Error& e) { call.reply(ErrorResponse(e)); }

// The unit named by a query parameter or path, checked against the scope.
// Empty + replied when missing or out of scope.
bool CheckUnit(Call& call, const State& state, const std::string& unit,
               const char* field) {
  if (unit.empty()) {
    ReplyError(call,
               Error::Validation(field, std::string(field) + " is required"));
    return false;
  }
  if (state.FindUnit(unit) == nullptr || !InScope(call, state, unit)) {
    ReplyError(call, Error::NotFound("no unit " + unit));
    return false;
  }
  return true;
}

Result<int> DepthParam(const Call& call) {
  std::string d = QueryParam(call, "depth");
  if (d.empty()) return 0;
  if (d.size() > 3 || d.find_first_not_of("0123456789") != std::string::npos) {
    return Error::Validation("depth", "depth must be a whole number 0..999");
  }
  return std::stoi(d);
}

// The units whose goals the views of one goal read: its own unit's goals
// with those below them hold the goal and its roll-up. A goal's unit never
// changes and goals are never removed, so the live State names it; a goal
// it does not hold never existed, and no part holds it either.
UnitsOf GoalUnits(const Call& call, const std::string& id) {
  const std::shared_ptr<const State> live =
      call.services->sequencer->Snapshot();
  const Goal* g = live->FindGoal(id);
  return projections::BoardUnits(g != nullptr ? g->unit : std::string(), 0);
}

}  // namespace

void ListUnits(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  JsonWriter w;
  projections::WriteUnits(w, *view->state, call.principal.unit);
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetUnit(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  const Unit* u = s.FindUnit(call.params[0]);
  if (u == nullptr || !InScope(call, s, u->id)) {
    return ReplyError(call, Error::NotFound("no unit " + call.params[0]));
  }
  JsonWriter w;
  w.BeginObject();
  projections::WriteUnitMembers(w, *u, true);
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take(), u->version));
}

void ListCycles(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  JsonWriter w;
  projections::WriteCycles(w, *view->state);
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetCycle(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  const Cycle* c = s.FindCycle(call.params[0]);
  if (c == nullptr) {
    return ReplyError(call, Error::NotFound("no cycle " + call.params[0]));
  }
  JsonWriter w;
  w.BeginObject();
  projections::WriteCycleMembers(w, s, *c);
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take(), c->version));
}

void ListGoals(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  std::string unit = QueryParam(call, "unit");
  std::string cycle = QueryParam(call, "cycle");
  // `status`: goals in that status; `approver`: goals whose approval falls
  // to that unit's editors (ApproverUnit), e.g. ?status=proposed&approver=
  // for what a manager is asked to agree to.
  std::string status_name = QueryParam(call, "status");
  std::optional<GoalStatus> status;
  if (!status_name.empty() && !(status = ParseGoalStatus(status_name))) {
    return ReplyError(
        call, Error::Validation("status", "unknown status " + status_name));
  }
  std::string approver = QueryParam(call, "approver");
  JsonWriter w;
  w.BeginObject().Key("goals").BeginArray();
  projections::GoalWriter goals(s, view->now);
  for (const auto& [id, g] : s.goals) {
    if (!unit.empty() && g.unit != unit) continue;
    if (!cycle.empty() && g.cycle != cycle) continue;
    if (status && g.status != *status) continue;
    if (!approver.empty() && ApproverUnit(s, g) != approver) continue;
    if (!InScope(call, s, g.unit)) continue;
    goals.Write(w, g);
  }
  w.EndArray();
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetGoal(Call call) {
  const UnitsOf units = GoalUnits(call, call.params[0]);
  auto view = ViewFor(call, &units);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  const Goal* g = s.FindGoal(call.params[0]);
  if (g == nullptr || !InScope(call, s, g->unit)) {
    return ReplyError(call, Error::NotFound("no goal " + call.params[0]));
  }
  JsonWriter w;
  w.BeginObject();
  projections::WriteGoalMembers(w, s, *g, view->now);
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take(), g->version));
}

void GetGoalHistory(Call call) {
  const UnitsOf units = GoalUnits(call, call.params[0]);
  auto view = ViewFor(call, &units);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  const std::string& id = call.params[0];
  const Goal* g = s.FindGoal(id);
  if (g == nullptr || !InScope(call, s, g->unit)) {
    return ReplyError(call, Error::NotFound("no goal " + id));
  }
  auto events = call.services->store->ReadStream("goal-" + id, 1, false, 0);
  if (!events) return ReplyError(call, events.error());
  JsonWriter w;
  Status st = projections::WriteGoalHistory(w, id, *events, s.position);
  if (!st) return ReplyError(call, st.error());
  call.reply(JsonResponse(200, std::move(w).Take(), g->version));
}

void ListMetrics(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  // The goals bound to each metric, those the token may see.
  std::map<std::string_view, std::vector<std::string>> bound;
  for (const auto& [id, g] : s.goals) {
    if (g.measure && !g.measure->metric.empty() && InScope(call, s, g.unit)) {
      bound[g.measure->metric].push_back(id);
    }
  }
  static const std::vector<std::string> kNone;
  JsonWriter w;
  w.BeginObject().Key("metrics").BeginArray();
  for (const auto& [id, m] : s.metrics) {
    auto it = bound.find(id);
    projections::WriteMetricSummary(w, m,
                                    it == bound.end() ? kNone : it->second);
  }
  w.EndArray();
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetMetric(Call call) {
  auto view = ViewFor(call);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  const Metric* m = s.FindMetric(call.params[0]);
  if (m == nullptr) {
    return ReplyError(call, Error::NotFound("no metric " + call.params[0]));
  }
  Millis from = std::numeric_limits<Millis>::min();
  Millis to = std::numeric_limits<Millis>::max();
  for (auto [name, bound] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
    std::string v = QueryParam(call, name);
    if (v.empty()) continue;
    Result<Millis> t = ParseTime(v);
    if (!t) {
      Result<Day> d = ParseDate(v);
      if (!d) {
        return ReplyError(call, Error::Validation(name, std::string(name) +
                                                            " must be a time"));
      }
      *bound = StartOfDay(*d);
    } else {
      *bound = *t;
    }
  }
  JsonWriter w;
  w.BeginObject();
  projections::WriteMetricMembers(w, *m, from, to);
  w.Key("position").Uint(s.position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take(), m->version));
}

// A view of a unit (and its sub-units to `depth`) for a cycle, the board
// or the scorecard: `write(w, state, unit, cycle, depth, now)`.
template <typename Write>
void ReplyUnitView(Call& call, Write write) {
  auto depth = DepthParam(call);
  const UnitsOf units =
      projections::BoardUnits(call.params[0], depth.ok() ? *depth : 0);
  auto view = ViewFor(call, &units);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  if (!CheckUnit(call, s, call.params[0], "unit")) return;
  if (!depth) return ReplyError(call, depth.error());
  std::string cycle = QueryParam(call, "cycle");
  if (!cycle.empty() && s.FindCycle(cycle) == nullptr) {
    return ReplyError(call, Error::NotFound("no cycle " + cycle));
  }
  JsonWriter w;
  write(w, s, call.params[0], cycle, *depth, view->now);
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetBoard(Call call) {
  ReplyUnitView(call, [](JsonWriter& w, const State& s, const std::string& unit,
                         const std::string& cycle, int depth, Millis now) {
    projections::WriteBoard(w, s, unit, cycle, depth, now);
  });
}

void GetScorecard(Call call) {
  ReplyUnitView(call, [](JsonWriter& w, const State& s, const std::string& unit,
                         const std::string& cycle, int depth, Millis now) {
    projections::WriteScorecard(w, s, unit, cycle, now, depth);
  });
}

void GetRetro(Call call) {
  std::string unit = QueryParam(call, "unit");
  const UnitsOf units =
      projections::BoardUnits(unit, 0);  // the unit's goals only
  auto view = ViewFor(call, &units);
  if (!view) return ReplyError(call, view.error());
  const State& s = *view->state;
  std::string cycle = QueryParam(call, "cycle");
  if (!CheckUnit(call, s, unit, "unit")) return;
  if (cycle.empty()) {
    return ReplyError(call, Error::Validation("cycle", "cycle is required"));
  }
  std::vector<Event> events;
  for (const std::string& stream : projections::RetroStreams(s, unit, cycle)) {
    auto r = call.services->store->ReadStream(stream, 1, false, 0);
    if (!r) return ReplyError(call, r.error());
    for (Event& e : *r) {
      if (e.position <= s.position) events.push_back(std::move(e));
    }
  }
  auto retro = projections::ComputeRetro(s, unit, cycle, events, view->now);
  if (!retro) return ReplyError(call, retro.error());
  JsonWriter w;
  projections::WriteRetro(w, *retro);
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void GetDiff(Call call) {
  std::string unit = QueryParam(call, "unit");
  std::string cycle = QueryParam(call, "cycle");
  std::string from = QueryParam(call, "from");
  std::string to = QueryParam(call, "to");
  // Each side is a view as_of that point (to defaults to the head), of the
  // unit's goals only.
  const UnitsOf units = projections::BoardUnits(unit, 0);
  Call side = call;
  side.request.query.erase("now");
  side.request.query["as_of"] = from.empty() ? "0" : from;
  auto a = ViewFor(side, &units);
  if (!a) {
    Error e = a.error();
    if (e.field == "as_of") e.field = "from";
    return ReplyError(call, e);
  }
  if (to.empty()) {
    side.request.query.erase("as_of");
  } else {
    side.request.query["as_of"] = to;
  }
  auto b = ViewFor(side, &units);
  if (!b) {
    Error e = b.error();
    if (e.field == "as_of") e.field = "to";
    return ReplyError(call, e);
  }
  if (!CheckUnit(call, *b->state, unit, "unit")) return;
  if (cycle.empty()) {
    return ReplyError(call, Error::Validation("cycle", "cycle is required"));
  }
  auto diff =
      projections::DiffGoals(*a->state, *b->state, unit, cycle, a->now, b->now);
  JsonWriter w;
  projections::WriteDiff(w, diff);
  call.reply(JsonResponse(200, std::move(w).Take()));
}

}  // namespace cairn::gateway
