// The log the model benchmarks read: the realistic organisation
// (realistic_org.hpp: 200 units, 20,000 goals), then check-ins, metric
// points, edits, status changes and retro notes up to N events, decided
// through Decide and appended to a real store in batches of 10,000 events,
// with the TimeTravel seeing each batch (snapshots every 10,000 events, as
// the Sequencer would). The clock moves 30 s per command from 2026-01-01,
// so the log spans most of 2026: check-ins are back-dated up to 3 days and
// metric points up to 7. Shared by bench/asof and bench/snapshots.
//
//   bench::OrgLogGenerator gen(store, time_travel, 300'000);
//   gen.Run();
//   const State& head = gen.live();
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/time.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "realistic_org.hpp"
#include "time_travel.hpp"

namespace cairn::bench {

// Decides commands against its own State (with provisional events) and
// appends them to the store in batches; the live State is built from the
// events as stored, and the TimeTravel sees it after every batch.
class OrgLogGenerator {
 public:
  static constexpr size_t kBatch = 10'000;

  OrgLogGenerator(eventstore::EventStore& store, gateway::TimeTravel& tt,
                  size_t target)
      : store_(store), tt_(tt), target_(target), rng_(20270201) {}

  void Run() {
    Setup();
    std::vector<std::string> goal_ids;
    for (const auto& [id, g] : draft_.goals) {
      if (g.measure) goal_ids.push_back(id);
    }
    auto any_goal = [&] {
      return goal_ids[Int(0, static_cast<int>(goal_ids.size()) - 1)];
    };
    while (count_ < target_) {
      int r = Int(0, 999);
      if (r < 860) {
        AddCheckIn c;
        c.goal = any_goal();
        c.value = std::round(Real(0, 1000) * 100) / 100;
        if (Int(0, 2) > 0) c.confidence = Int(3, 10);
        if (Int(0, 9) == 0) c.note = "Steady progress; two deals in review";
        c.at = now_ - Int(0, 3 * 86'400) * int64_t{1000};
        Do(c, Editor());
      } else if (r < 960) {
        RecordMetric m;
        m.id = "metric-" + std::to_string(Int(0, kMetrics - 1));
        int n = Int(0, 9) == 0 ? Int(20, 200) : Int(1, 5);
        for (int i = 0; i < n; ++i) {
          m.points.push_back(
              {now_ - Int(0, 7 * 86'400) * int64_t{1000}, Real(0, 500)});
        }
        m.source = "warehouse";
        Do(m, Editor());
      } else if (r < 990) {
        EditGoal e;
        e.id = any_goal();
        const Goal& g = draft_.goals.at(e.id);
        if (Int(0, 1) == 0) {
          e.measure = MeasurePatch{};
          e.measure->target = g.measure->target + (Int(0, 1) ? 10 : -5);
          e.reason = "replanned after the quarterly review";
        } else {
          e.title = g.title + " (revised)";
        }
        Do(e, Editor());
      } else if (r < 998) {
        ChangeGoalStatus s;
        s.id = any_goal();
        static const GoalStatus kTo[] = {
            GoalStatus::kActive, GoalStatus::kAchieved, GoalStatus::kMissed};
        s.status = kTo[Int(0, 2)];
        Do(s, Editor());
      } else {
        NoteRetro n;
        n.unit = "u" + std::to_string(Int(0, kUnits - 1));
        n.cycle = "q" + std::to_string(Int(1, 4));
        n.kind = static_cast<RetroNoteKind>(Int(0, 3));
        n.text = "We learned to agree weights before splitting targets";
        Do(n, Editor());
      }
    }
    Flush();
  }

  const State& live() const { return live_; }

 private:
  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  double Real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  CommandContext Admin() {
    CommandContext c;
    c.actor = "admin";
    c.now = now_;
    c.role = Role::kAdmin;
    return c;
  }
  CommandContext Editor() {
    CommandContext c;
    c.actor = "user" + std::to_string(Int(0, 149));
    c.now = now_;
    c.role = Role::kEditor;
    return c;
  }

  void Do(const Command& cmd, const CommandContext& ctx) {
    auto r = Decide(draft_, cmd, ctx);
    if (!r.ok()) return;  // invalid commands append nothing
    for (const PendingEvent& p : *r) {
      if (count_ >= target_) return;
      Event e;
      e.position = ++count_;
      e.stream = p.stream;
      e.version = p.expected_version + 1;
      e.type = p.type;
      e.at = now_;
      e.actor = ctx.actor;
      e.data = p.data;
      Apply(draft_, e);
      eventstore::NewEvent n;
      n.stream = std::move(e.stream);
      n.type = std::move(e.type);
      n.actor = std::move(e.actor);
      n.data = std::move(e.data);
      batch_.events.push_back(std::move(n));
      if (batch_.events.size() >= kBatch) Flush();
    }
    now_ += 30'000;  // as bench/replay: a command every 30 s
  }

  void Flush() {
    if (batch_.events.empty()) return;
    batch_.at = now_;  // the time of the batch's last command
    Result<eventstore::AppendResult> r = store_.Append(batch_);
    if (!r.ok()) {
      std::fprintf(stderr, "bench: append: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    for (const Event& e : r->events) Apply(live_, e);
    batch_.events.clear();
    tt_.AfterBatch(live_);
  }

  void Setup() {
    for (const bench::OrgCommand& c : bench::RealisticOrgCommands()) {
      Do(c.command, c.admin ? Admin() : Editor());
    }
  }

  eventstore::EventStore& store_;
  gateway::TimeTravel& tt_;
  size_t target_;
  size_t count_ = 0;
  std::mt19937_64 rng_;
  State draft_;  // provisional: positions and times of our own
  State live_;   // from the events as stored
  eventstore::AppendRequest batch_;
  Millis now_ = *ParseTime("2026-01-01T08:00:00.000Z");
};

}  // namespace cairn::bench
