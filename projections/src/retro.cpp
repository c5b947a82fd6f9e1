#include "cairn/projections/retro.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "cairn/core/command.hpp"
#include "cairn/core/grade.hpp"
#include "cairn/projections/history.hpp"

namespace cairn::projections {
namespace {

bool Exceeded(const Measure& m, double current) {
  switch (m.direction) {
    case Direction::kIncrease:
    case Direction::kAtLeast:
      return current > m.target;
    case Direction::kDecrease:
    case Direction::kAtMost:
      return current < m.target;
    case Direction::kBinary:
      return false;
  }
  return false;
}

bool IsRetargetField(const std::string& f) {
  return f == "measure.target" || f == "measure.start" ||
         f == "measure.stretch";
}

void WriteGoal(JsonWriter& w, const RetroGoal& g) {
  w.BeginObject();
  w.Key("id").String(g.id);
  w.Key("title").String(g.title);
  w.Key("owner").String(g.owner);
  w.Key("status").String(GoalStatusName(g.status));
  w.Key("current").Number(g.current);
  w.Key("target");
  if (g.target) {
    w.Number(*g.target);
  } else {
    w.Null();
  }
  w.Key("grade").Number(g.grade);
  if (g.status == GoalStatus::kDropped) w.Key("reason").String(g.reason);
  w.EndObject();
}

}  // namespace

std::vector<std::string> RetroStreams(const State& state,
                                      const std::string& unit,
                                      const std::string& cycle) {
  std::vector<std::string> out;
  for (const auto& [id, g] : state.goals) {
    if (g.unit == unit && g.cycle == cycle) out.push_back("goal-" + id);
  }
  return out;
}

Result<Retro> ComputeRetro(const State& state, const std::string& unit,
                           const std::string& cycle,
                           const std::vector<Event>& events, Millis now) {
  if (!state.FindUnit(unit)) return Error::NotFound("no unit " + unit);
  const Cycle* cy = state.FindCycle(cycle);
  if (!cy) return Error::NotFound("no cycle " + cycle);
  Retro r;
  r.unit = unit;
  r.cycle = cycle;
  r.position = state.position;

  GradeBook book(state, now);
  for (const auto& [id, g] : state.goals) {
    if (g.unit != unit || g.cycle != cycle) continue;
    const GoalFigures& f = book.Of(g);
    RetroGoal rg{.id = g.id,
                 .title = g.title,
                 .owner = g.owner,
                 .status = g.status,
                 .current = f.current,
                 .target = g.measure ? std::optional<double>(g.measure->target)
                                     : std::nullopt,
                 .grade = f.grade,
                 .reason = {}};
    if (g.status == GoalStatus::kDropped) {
      r.dropped.push_back(std::move(rg));
    } else if (g.measure && Exceeded(*g.measure, f.current)) {
      r.exceeded.push_back(std::move(rg));
    } else if (f.grade >= 1.0) {
      r.achieved.push_back(std::move(rg));
    } else {
      r.missed.push_back(std::move(rg));
    }
    const CorrectedCheckIns corrected(g);
    for (const CheckIn& c : g.check_ins) {
      if (corrected(c)) continue;  // its correction counts in its place
      ++r.check_ins;
      ++r.check_ins_by_owner[g.owner.empty() ? c.actor : g.owner];
    }
  }

  // Why each dropped goal was dropped: the reason of the last status change
  // that dropped it.
  if (!r.dropped.empty()) {
    std::unordered_map<std::string, const Event*> dropping;
    for (const Event& e : events) {
      if (e.position > state.position || e.stream.rfind("goal-", 0) != 0 ||
          StatusChangedTo(e) != "dropped") {
        continue;
      }
      const Event*& last = dropping[e.stream.substr(5)];
      if (last == nullptr || last->position < e.position) last = &e;
    }
    for (RetroGoal& g : r.dropped) {
      if (auto it = dropping.find(g.id); it != dropping.end()) {
        g.reason = EventReason(*it->second);
      }
    }
  }

  const Millis cycle_start = StartOfDay(cy->start);
  std::vector<const Event*> edits;
  for (const Event& e : events) {
    if (e.position > state.position || e.type != "goal.edited" ||
        e.at < cycle_start || e.stream.rfind("goal-", 0) != 0) {
      continue;
    }
    const Goal* g = state.FindGoal(e.stream.substr(5));
    if (!g || g->unit != unit || g->cycle != cycle) continue;
    edits.push_back(&e);
  }
  std::sort(edits.begin(), edits.end(), [](const Event* a, const Event* b) {
    return a->position < b->position;
  });
  for (const Event* e : edits) {
    std::string reason = EventReason(*e);
    for (FieldChange& c : GoalEditChanges(*e)) {
      if (!IsRetargetField(c.field)) continue;
      r.retargeted.push_back(Retarget{.goal = e->stream.substr(5),
                                      .field = std::move(c.field),
                                      .from = std::move(c.from),
                                      .to = std::move(c.to),
                                      .at = e->at,
                                      .actor = e->actor,
                                      .reason = reason,
                                      .position = e->position});
    }
  }

  for (const RetroNote& n : state.retro_notes) {
    if (n.unit == unit && n.cycle == cycle) r.notes.push_back(n);
  }
  std::stable_sort(r.notes.begin(), r.notes.end(),
                   [](const RetroNote& a, const RetroNote& b) {
                     return a.position < b.position;
                   });
  return r;
}

void WriteRetro(JsonWriter& w, const Retro& r) {
  w.BeginObject();
  w.Key("unit").String(r.unit);
  w.Key("cycle").String(r.cycle);
  auto list = [&](std::string_view key, const std::vector<RetroGoal>& goals) {
    w.Key(key).BeginArray();
    for (const RetroGoal& g : goals) WriteGoal(w, g);
    w.EndArray();
  };
  list("exceeded", r.exceeded);
  list("achieved", r.achieved);
  list("missed", r.missed);
  list("dropped", r.dropped);
  w.Key("retargeted").BeginArray();
  for (const Retarget& t : r.retargeted) {
    w.BeginObject();
    w.Key("goal").String(t.goal);
    w.Key("field").String(t.field);
    w.Key("from").Raw(t.from);
    w.Key("to").Raw(t.to);
    w.Key("at").String(FormatTime(t.at));
    w.Key("actor").String(t.actor);
    w.Key("reason").String(t.reason);
    w.Key("position").Uint(t.position);
    w.EndObject();
  }
  w.EndArray();
  w.Key("notes").BeginArray();
  for (const RetroNote& n : r.notes) {
    w.BeginObject();
    w.Key("kind").String(RetroNoteKindName(n.kind));
    w.Key("text").String(n.text);
    w.Key("goal").String(n.goal);
    w.Key("actor").String(n.actor);
    w.Key("at").String(FormatTime(n.at));
    w.Key("position").Uint(n.position);
    w.EndObject();
  }
  w.EndArray();
  w.Key("check_ins").BeginObject();
  w.Key("count").Uint(r.check_ins);
  w.Key("by_owner").BeginObject();
  for (const auto& [owner, n] : r.check_ins_by_owner) w.Key(owner).Uint(n);
  w.EndObject();
  w.EndObject();
  w.Key("position").Uint(r.position);
  w.EndObject();
}

}  // namespace cairn::projections
