// Test helpers: commands decided by the real domain (Decide) and either
// appended to a real event store in a temp dir (Log) or turned into events
// with scripted positions and times (Script) for pure view tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "temp_dir.hpp"

namespace cairn::testing {

inline CommandContext Admin(Millis now) {
  return CommandContext{.actor = "admin", .now = now, .role = Role::kAdmin};
}
inline CommandContext Editor(std::string actor, Millis now) {
  return CommandContext{
      .actor = std::move(actor), .now = now, .role = Role::kEditor};
}

using cairn::testing::TempDir;

// A real store plus the live State, fed through Decide.
class Log {
 public:
  Log() {
    auto s = eventstore::EventStore::Open(
        {.path = dir_.Sub("store"), .sync = false});
    EXPECT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  // Decides and appends; false when Decide refused (nothing appended).
  bool Run(const Command& cmd, const CommandContext& ctx) {
    Result<std::vector<PendingEvent>> r = Decide(state_, cmd, ctx);
    if (!r.ok() || r->empty()) return false;
    eventstore::AppendRequest req;
    for (const PendingEvent& p : *r) {
      req.events.push_back({.stream = p.stream,
                            .type = p.type,
                            .actor = ctx.actor,
                            .data = p.data});
    }
    Result<eventstore::AppendResult> a = store_->Append(req);
    EXPECT_TRUE(a.ok()) << a.error().message;
    if (!a.ok()) return false;
    for (const Event& e : a->events) Apply(state_, e);
    return true;
  }
  eventstore::EventStore& store() { return *store_; }
  const State& state() const { return state_; }

 private:
  TempDir dir_;
  std::unique_ptr<eventstore::EventStore> store_;
  State state_;
};

// Pure: events with positions and times the test chooses.
class Script {
 public:
  // Decides `cmd` at time `now` and applies the events; returns them.
  std::vector<Event> Run(const Command& cmd, const CommandContext& ctx) {
    Result<std::vector<PendingEvent>> r = Decide(state_, cmd, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    std::vector<Event> out;
    if (!r.ok()) return out;
    for (const PendingEvent& p : *r) {
      Event e;
      e.position = ++position_;
      e.stream = p.stream;
      e.version = p.expected_version + 1;
      e.type = p.type;
      e.id = "e" + std::to_string(e.position);
      e.at = ctx.now;
      e.actor = ctx.actor;
      e.data = p.data;
      Apply(state_, e);
      events_.push_back(e);
      out.push_back(e);
    }
    return out;
  }
  const State& state() const { return state_; }
  const std::vector<Event>& events() const { return events_; }

 private:
  State state_;
  std::vector<Event> events_;
  uint64_t position_ = 0;
};

// Random valid traffic: units, a cycle, goals, edits (retargets with
// reasons), check-ins, status changes, retro notes, metric points; with
// `state` (the State the runner's commands build) also corrections of
// earlier check-ins.
template <typename Runner>
void RandomTraffic(Runner& run, uint64_t seed, int commands, Millis now,
                   const State* state = nullptr) {
  std::mt19937_64 rng(seed);
  auto admin = Admin(now);
  Day today = DayOf(now);
  run(CreateUnit{.id = "acme", .name = "Acme", .kind = UnitKind::kCompany},
      admin);
  run(CreateUnit{.id = "sales",
                 .name = "Sales",
                 .kind = UnitKind::kTeam,
                 .parent = "acme"},
      admin);
  run(CreateUnit{.id = "eng",
                 .name = "Eng",
                 .kind = UnitKind::kTeam,
                 .parent = "acme"},
      admin);
  run(CreateCycle{.id = "q1",
                  .name = "Q1",
                  .kind = CycleKind::kQuarter,
                  .start = today - 30,
                  .end = today + 60},
      admin);
  run(DefineMetric{.id = "cac", .name = "CAC"}, admin);
  const char* units[] = {"acme", "sales", "eng"};
  const char* people[] = {"alice", "bob", "carol"};
  int goals = 0;
  for (int i = 0; i < commands; ++i) {
    std::string who = people[rng() % 3];
    auto ed = Editor(who, now);
    std::string gid = "g" + std::to_string(goals ? rng() % goals : 0);
    switch (goals == 0 ? 0 : rng() % 8) {
      case 0: {
        CreateGoal c{.id = "g" + std::to_string(goals),
                     .kind = GoalKind::kKeyResult,
                     .title = "Goal number " + std::to_string(goals),
                     .unit = units[rng() % 3],
                     .cycle = "q1",
                     .owner = who};
        if (rng() % 4) {
          c.measure =
              MeasureInput{.start = 0, .target = double(50 + rng() % 100)};
          if (rng() % 5 == 0) c.measure->metric = "cac";
        }
        if (goals > 0 && rng() % 3 == 0) {
          c.parent = "g" + std::to_string(rng() % goals);
        }
        if (run(c, ed)) ++goals;
        break;
      }
      case 1: {
        EditGoal e{.id = gid, .reason = "because " + std::to_string(i)};
        if (rng() % 2) e.title = "Title " + std::to_string(rng() % 10);
        if (rng() % 2) {
          e.measure = MeasurePatch{.target = double(60 + rng() % 100)};
        }
        if (rng() % 4 == 0) e.weight = double(1 + rng() % 3);
        run(e, ed);
        break;
      }
      case 2: {
        const GoalStatus all[] = {GoalStatus::kActive, GoalStatus::kAchieved,
                                  GoalStatus::kMissed, GoalStatus::kDropped};
        run(
            ChangeGoalStatus{
                .id = gid, .status = all[rng() % 4], .reason = "r"},
            ed);
        break;
      }
      case 3:
        run(NoteRetro{.unit = units[rng() % 3],
                      .cycle = "q1",
                      .kind = RetroNoteKind::kLesson,
                      .text = "lesson"},
            ed);
        break;
      case 4:
        run(RecordMetric{.id = "cac",
                         .points = {{now - int64_t(rng() % 1000000),
                                     double(rng() % 300)}}},
            ed);
        break;
      default: {
        AddCheckIn c{.goal = gid,
                     .value = double(rng() % 200),
                     .confidence = int64_t(rng() % 11),
                     .note = "n",
                     .at = now - int64_t(rng() % 86'400'000)};
        const Goal* g = state ? state->FindGoal(gid) : nullptr;
        if (g && !g->check_ins.empty() && rng() % 5 == 0) {
          const CheckIn& wrong = g->check_ins[rng() % g->check_ins.size()];
          c.correction_of = static_cast<int64_t>(wrong.position);
          if (rng() % 2) c.at = wrong.at;  // else a day of its own
        }
        run(c, ed);
        break;
      }
    }
  }
}

}  // namespace cairn::testing
