// bench/asof: boards as of random past positions, and start-up time, on a
// real store.
//
// Generates a log through Decide (200 units, 20,000 goals, then check-ins,
// metric points, edits and status changes up to N events), appends it to a
// RocksDB store in a temp dir in batches of 10,000 events, with the
// TimeTravel taking a snapshot every 10,000 events as the Sequencer would.
// As in bench/replay, the clock moves 30 s per command, so the log spans
// most of 2026: check-ins are back-dated up to 3 days and metric points up
// to 7, and a metric batch lands near the end of its series, as it does
// from a real source.
// Then: random `as_of` board queries of a random unit (depth 1) and cycle
// timed one by one (p50, p99) as the server answers them
// (TimeTravel::PartialStateAt + WriteBoard), each checked against the board
// from the whole State (StateAt, timed too: whole_state_p50_ms and
// whole_state_p99_ms, the cost of views that read all of it); and start-up
// timed twice after reopening the store: LoadAtHead (newest snapshot +
// tail) and a replay from position 0. The last line is one JSON object.
//
//   build/bench/asof [events] [queries]     (default 1000000 100)
//   CAIRN_BENCH_KEEP=1 keeps the store for a look afterwards, and
//   CAIRN_BENCH_STORE=<dir> runs the timings on such a kept store instead of
//   generating one (quicker A/B runs of the read path).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "allocator.hpp"
#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "cairn/projections/board.hpp"
#include "org_log.hpp"
#include "time_travel.hpp"

namespace cairn {
namespace {

using bench::kGoals;
using bench::kUnits;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "asof: %s\n", what.c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * v.size())) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace
}  // namespace cairn

int main(int argc, char** argv) {
  using namespace cairn;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show at once
  gateway::TuneAllocator();                  // as the server does
  const size_t events =
      argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int queries = argc > 2 ? std::atoi(argv[2]) : 100;
  const char* reuse = std::getenv("CAIRN_BENCH_STORE");
  std::string dir = reuse != nullptr
                        ? std::string(reuse)
                        : (std::filesystem::temp_directory_path() /
                           ("cairn-asof-" + std::to_string(NowMillis())))
                              .string();
  eventstore::Options opts;
  opts.path = dir;
  opts.sync = false;  // the bench measures reads; appends are set-up

  auto t0 = std::chrono::steady_clock::now();
  State live;
  if (reuse != nullptr) {
    auto store = eventstore::EventStore::Open(opts);
    if (!store.ok()) Die("open " + dir + ": " + store.error().message);
    Result<State> head = gateway::LoadAtHead(**store);
    if (!head.ok()) Die("load: " + head.error().message);
    live = std::move(*head);
    std::printf("reusing the store in %s\n", dir.c_str());
  } else {
    auto store = eventstore::EventStore::Open(opts);
    if (!store.ok()) Die("open: " + store.error().message);
    gateway::TimeTravel tt(**store);
    bench::OrgLogGenerator gen(**store, tt, events);
    gen.Run();
    live = gen.live();
    // Clean shutdown: a snapshot at the head.
    if (Status s = tt.SnapshotNow(live); !s.ok()) Die(s.error().message);
    std::printf("generated and appended %llu events in %.1f s\n",
                static_cast<unsigned long long>(live.position), Seconds(t0));
  }

  // One open and close first, so that neither timing below pays for
  // RocksDB recovering the set-up's write-ahead log.
  {
    auto warm = eventstore::EventStore::Open(opts);
    if (!warm.ok()) Die("reopen: " + warm.error().message);
  }

  // Start-up with snapshots: open + newest snapshot + tail.
  auto t1 = std::chrono::steady_clock::now();
  auto store = eventstore::EventStore::Open(opts);
  if (!store.ok()) Die("reopen: " + store.error().message);
  Result<State> loaded = gateway::LoadAtHead(**store);
  const double startup_s = Seconds(t1);
  if (!loaded.ok()) Die("load: " + loaded.error().message);
  if (!(*loaded == live)) Die("LoadAtHead differs from the live state");
  store->reset();

  // Start-up without snapshots: open + replay from position 0.
  auto t2 = std::chrono::steady_clock::now();
  store = eventstore::EventStore::Open(opts);
  if (!store.ok()) Die("reopen: " + store.error().message);
  State replayed;
  Status rs = (*store)->ReadAll(0, [&](const Event& e) {
    Apply(replayed, e);
    return true;
  });
  const double startup_no_snapshot_s = Seconds(t2);
  if (!rs.ok()) Die("replay: " + rs.error().message);
  if (!(replayed == live)) Die("replay differs from the live state");
  std::printf("startup: %.3f s with a snapshot, %.3f s replaying from 0\n",
              startup_s, startup_no_snapshot_s);

  // Random as_of board queries, as the server answers them: the part of
  // the State the board reads (TimeTravel::PartialStateAt). Each board is
  // checked against the one from the whole State (StateAt, also timed: the
  // cost of views that read everything, such as the goals list), each from its
  // own TimeTravel so that neither serves the other from its cache.
  gateway::TimeTravel tt(**store, {.snapshot_every = 0});
  gateway::TimeTravel whole_tt(**store, {.snapshot_every = 0});
  auto live_ptr = std::make_shared<const State>(std::move(live));
  std::mt19937_64 rng(7);
  std::vector<double> ms, whole_ms;
  size_t bytes = 0;
  for (int i = 0; i < queries; ++i) {
    uint64_t p = 1 + rng() % live_ptr->position;
    std::string unit = "u" + std::to_string(rng() % kUnits);
    std::string cycle = "q" + std::to_string(1 + rng() % 4);
    const int depth = 1;
    const UnitsOf units_of = projections::BoardUnits(unit, depth);
    auto q0 = std::chrono::steady_clock::now();
    auto s = tt.PartialStateAt(p, live_ptr, units_of);
    if (!s.ok()) Die("as_of: " + s.error().message);
    JsonWriter w;
    projections::WriteBoard(w, **s, unit, cycle, depth, (*s)->at);
    ms.push_back(Seconds(q0) * 1000);
    s->reset();
    bytes += w.str().size();

    auto q1 = std::chrono::steady_clock::now();
    auto whole = whole_tt.StateAt(p, live_ptr);
    if (!whole.ok()) Die("as_of: " + whole.error().message);
    JsonWriter ww;
    projections::WriteBoard(ww, **whole, unit, cycle, depth, (*whole)->at);
    whole_ms.push_back(Seconds(q1) * 1000);
    if (ww.str() != w.str()) {
      Die("the board of " + unit + " as of " + std::to_string(p) +
          " differs between the partial and the whole State");
    }
  }
  const double p50 = Percentile(ms, 0.5), p99 = Percentile(ms, 0.99);
  const double whole_p50 = Percentile(whole_ms, 0.5);
  const double whole_p99 = Percentile(whole_ms, 0.99);
  std::printf(
      "%d as_of board queries: p50 %.2f ms, p99 %.2f ms, max %.2f ms "
      "(%.1f KB per board, each equal to the whole State's)\n",
      queries, p50, p99, *std::max_element(ms.begin(), ms.end()),
      bytes / 1024.0 / queries);
  std::printf(
      "whole State as of the same positions: p50 %.2f ms, p99 %.2f ms\n",
      whole_p50, whole_p99);
  store->reset();
  if (reuse != nullptr || std::getenv("CAIRN_BENCH_KEEP")) {
    std::printf("store kept in %s\n", dir.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::printf(
      "{\"bench\":\"asof\",\"events\":%llu,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
      "\"startup_s\":%.3f,\"startup_no_snapshot_s\":%.3f,"
      "\"whole_state_p50_ms\":%.2f,\"whole_state_p99_ms\":%.2f}\n",
      static_cast<unsigned long long>(live_ptr->position), p50, p99, startup_s,
      startup_no_snapshot_s, whole_p50, whole_p99);
  return 0;
}
