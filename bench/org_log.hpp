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

#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
      : store_(store), tt_(tt), target_(target), activity_(20270201) {}

  void Run() {
    Setup();
    std::vector<std::string> goal_ids;
    for (const auto& [id, g] : draft_.goals) {
      if (g.measure) goal_ids.push_back(id);
    }
    while (count_ < target_) {
      Command c = activity_.Next(goal_ids, draft_, now_);
      Do(c, activity_.Context(false, now_));
    }
    Flush();
  }

  const State& live() const { return live_; }

 private:
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
      Do(c.command, activity_.Context(c.admin, now_));
    }
  }

  eventstore::EventStore& store_;
  gateway::TimeTravel& tt_;
  size_t target_;
  size_t count_ = 0;
  OrgActivity activity_;
  State draft_;  // provisional: positions and times of our own
  State live_;   // from the events as stored
  eventstore::AppendRequest batch_;
  Millis now_ = *ParseTime("2026-01-01T08:00:00.000Z");
};

}  // namespace cairn::bench
