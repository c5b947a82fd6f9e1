// Write endpoints: parse the body into a Command (command_json.hpp), hand it
// to the Sequencer, and render the reply from the State published after its
// batch (on the I/O thread; on the writer for idempotent replies, from the
// State right after the command). Renderers find what they report by the
// write's events, never by "the last one".
#include "cairn/core/command_json.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/projections/entities.hpp"
#include "handlers/handlers.hpp"
#include "http_errors.hpp"

namespace cairn::gateway {

namespace {

// The id of the entity a write created: from its first event on a stream
// with `prefix`, else `fallback`.
std::string IdFromEvents(const std::vector<Event>& events,
                         std::string_view prefix, const std::string& fallback) {
  for (const Event& e : events) {
    if (e.stream.rfind(prefix, 0) == 0) return e.stream.substr(prefix.size());
  }
  return fallback;
}

Renderer GoalRenderer(std::string id, unsigned status) {
  return [id = std::move(id), status](const State& state,
                                      const std::vector<Event>& events) {
    std::string goal_id = IdFromEvents(events, "goal-", id);
    const Goal* goal = state.FindGoal(goal_id);
    if (goal == nullptr) {
      return ErrorResponse(Error::NotFound("no goal " + goal_id));
    }
    JsonWriter w;
    w.BeginObject();
    projections::WriteGoalMembers(w, state, *goal, state.at);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(status, std::move(w).Take(), goal->version);
  };
}

Renderer UnitRenderer(std::string id, unsigned status) {
  return [id = std::move(id), status](const State& state,
                                      const std::vector<Event>& events) {
    std::string unit_id = IdFromEvents(events, "unit-", id);
    const Unit* unit = state.FindUnit(unit_id);
    if (unit == nullptr) {
      return ErrorResponse(Error::NotFound("no unit " + unit_id));
    }
    JsonWriter w;
    w.BeginObject();
    projections::WriteUnitMembers(w, *unit, true);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(status, std::move(w).Take(), unit->version);
  };
}

Renderer CycleRenderer(std::string id, unsigned status) {
  return [id = std::move(id), status](const State& state,
                                      const std::vector<Event>& events) {
    std::string cycle_id = IdFromEvents(events, "cycle-", id);
    const Cycle* cycle = state.FindCycle(cycle_id);
    if (cycle == nullptr) {
      return ErrorResponse(Error::NotFound("no cycle " + cycle_id));
    }
    JsonWriter w;
    w.BeginObject();
    projections::WriteCycleMembers(w, state, *cycle);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(status, std::move(w).Take(), cycle->version);
  };
}

template <typename T>
std::string IdOf(const Result<Command>& cmd, std::string T::*member) {
  if (!cmd) return {};
  const T* c = std::get_if<T>(&*cmd);
  return c == nullptr ? std::string() : c->*member;
}

}  // namespace

void CreateUnitHandler(Call call) {
  Result<Command> cmd = ParseCreateUnit(call.request.body);
  std::string id = IdOf<CreateUnit>(cmd, &CreateUnit::id);
  SubmitWrite(std::move(call), std::move(cmd), UnitRenderer(id, 201));
}

void EditUnitHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseEditUnit(id, call.request.body);
  SubmitWrite(std::move(call), std::move(cmd), UnitRenderer(id, 200));
}

void CreateCycleHandler(Call call) {
  Result<Command> cmd = ParseCreateCycle(call.request.body);
  std::string id = IdOf<CreateCycle>(cmd, &CreateCycle::id);
  SubmitWrite(std::move(call), std::move(cmd), CycleRenderer(id, 201));
}

void CloseCycleHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseCloseCycle(id, call.request.body);
  SubmitWrite(std::move(call), std::move(cmd), CycleRenderer(id, 200));
}

void CreateGoalHandler(Call call) {
  Result<Command> cmd = ParseCreateGoal(call.request.body);
  std::string id = IdOf<CreateGoal>(cmd, &CreateGoal::id);
  std::string unit = IdOf<CreateGoal>(cmd, &CreateGoal::unit);
  std::string scope = call.principal.unit;
  SubmitWrite(std::move(call), std::move(cmd), GoalRenderer(id, 201), true,
              UnitVisible(unit, scope));
}

void EditGoalHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseEditGoal(id, call.request.body);
  std::string scope = call.principal.unit;
  SubmitWrite(std::move(call), std::move(cmd), GoalRenderer(id, 200), true,
              GoalVisible(id, scope));
}

void ChangeGoalStatusHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseChangeGoalStatus(id, call.request.body);
  std::string scope = call.principal.unit;
  SubmitWrite(std::move(call), std::move(cmd), GoalRenderer(id, 200), true,
              GoalVisible(id, scope));
}

void CheckInHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseCheckIn(id, call.request.body);
  std::string scope = call.principal.unit;
  SubmitWrite(std::move(call), std::move(cmd), GoalRenderer(id, 201), true,
              GoalVisible(id, scope));
}

void DecomposeHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseDecompose(id, call.request.body);
  Renderer render = [id](const State& state, const std::vector<Event>& events) {
    JsonWriter w;
    w.BeginObject().Key("goals").BeginArray();
    projections::GoalWriter goals(state, state.at);
    for (const Event& e : events) {
      if (e.type != "goal.created") continue;
      const Goal* g = state.FindGoal(e.stream.substr(5));
      if (g != nullptr) goals.Write(w, *g);
    }
    w.EndArray();
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(201, std::move(w).Take());
  };
  std::string scope = call.principal.unit;
  SubmitWrite(std::move(call), std::move(cmd), std::move(render), true,
              GoalVisible(id, scope));
}

void NoteRetroHandler(Call call) {
  Result<Command> cmd = ParseNoteRetro(call.request.body);
  Renderer render = [](const State& state, const std::vector<Event>& events) {
    // The note of this write (the State may hold later ones of its batch).
    const RetroNote* note = nullptr;
    for (auto it = state.retro_notes.rbegin(); it != state.retro_notes.rend();
         ++it) {
      if (!events.empty() && it->position == events.front().position) {
        note = &*it;
        break;
      }
    }
    if (note == nullptr) {
      return ErrorResponse(Error::Internal("the note was not recorded"));
    }
    const RetroNote& n = *note;
    JsonWriter w;
    w.BeginObject();
    w.Key("unit").String(n.unit);
    w.Key("cycle").String(n.cycle);
    w.Key("goal");
    if (n.goal.empty()) {
      w.Null();
    } else {
      w.String(n.goal);
    }
    w.Key("kind").String(RetroNoteKindName(n.kind));
    w.Key("text").String(n.text);
    w.Key("actor").String(n.actor);
    w.Key("at").String(FormatTime(n.at));
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(201, std::move(w).Take());
  };
  SubmitWrite(std::move(call), std::move(cmd), std::move(render));
}

void DefineMetricHandler(Call call) {
  Result<Command> cmd = ParseDefineMetric(call.request.body);
  std::string id = IdOf<DefineMetric>(cmd, &DefineMetric::id);
  Renderer render = [id](const State& state, const std::vector<Event>& events) {
    std::string metric_id = IdFromEvents(events, "metric-", id);
    const Metric* m = state.FindMetric(metric_id);
    if (m == nullptr)
      return ErrorResponse(Error::NotFound("no metric " + metric_id));
    JsonWriter w;
    w.BeginObject();
    projections::WriteMetricMembers(w, *m, std::numeric_limits<Millis>::min(),
                                    std::numeric_limits<Millis>::max());
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(201, std::move(w).Take(), m->version);
  };
  SubmitWrite(std::move(call), std::move(cmd), std::move(render));
}

void RecordMetricHandler(Call call) {
  std::string id = call.params[0];
  Result<Command> cmd = ParseRecordMetric(id, call.request.body);
  size_t count = 0;
  if (cmd) {
    if (const auto* r = std::get_if<RecordMetric>(&*cmd))
      count = r->points.size();
  }
  Renderer render = [id, count](const State& state, const std::vector<Event>&) {
    const Metric* m = state.FindMetric(id);
    if (m == nullptr) return ErrorResponse(Error::NotFound("no metric " + id));
    JsonWriter w;
    w.BeginObject();
    w.Key("id").String(id);
    w.Key("recorded").Uint(count);
    w.Key("points").Uint(m->points.size());
    w.Key("version").Uint(m->version);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(201, std::move(w).Take(), m->version);
  };
  SubmitWrite(std::move(call), std::move(cmd), std::move(render));
}

}  // namespace cairn::gateway
