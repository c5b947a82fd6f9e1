// Time travel: the State as of any past position, fast (API.md,
// "Conventions": Time travel), and the snapshots that make it fast.
//
//   TimeTravel tt(*store);                          // snapshots every 10,000
//   Result<AsOf> a = tt.ResolveAsOf(query["as_of"]);  // "1042" or a time
//   if (!a) return a.error();                         // 422, field "as_of"
//   Result<std::shared_ptr<const State>> s = tt.StateAt(a->position, live);
//   Millis now = a->time.value_or((*s)->at);          // pacing clock
//
//   // The Sequencer, after each applied batch and on clean shutdown:
//   tt.AfterBatch(published_state);  // snapshot when N events have passed
//   tt.SnapshotNow(live_state);      // synchronous
//
//   // Start-up, instead of replaying from position 0:
//   Result<State> model = LoadAtHead(*store);
//
// A State as of p is the newest usable snapshot at or before p (decoded with
// DecodeState; one that fails its checksum, does not decode or names another
// position is skipped, never trusted), or a cached as-of State that is
// closer, plus Apply of the events (base, p]. Results are kept in a small
// LRU. Cost: decoding a snapshot is linear in the size of the whole State
// (every check-in and metric point), so a query far from any cached State
// costs a snapshot read + decode + at most `snapshot_every` events. Snapshots
// are written by one background thread so the writer only pays for encoding.
//
// Thread-safety: StateAt and ResolveAsOf may be called from any thread
// concurrently; AfterBatch and SnapshotNow from the writer thread. The
// EventStore must outlive the TimeTravel.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"
#include "cairn/eventstore/event_store.hpp"

namespace cairn::gateway {

struct TimeTravelOptions {
  // Take a snapshot once this many events have been applied since the last
  // one (0: never from AfterBatch). Default: 10,000.
  uint64_t snapshot_every = 10'000;
  // As-of States kept in memory for reuse. Default: 8.
  size_t cache_states = 8;
  // Replay from a cached State without reading any snapshot when it is at
  // most this many events before the position asked for (a snapshot could
  // save at most that much replay). Default: 10,000.
  uint64_t cached_base_reach = 10'000;
};

// A parsed `as_of`: the position it names, and the time when a time was
// given (pacing then uses that time as `now`).
struct AsOf {
  uint64_t position = 0;
  std::optional<Millis> time;
};

class TimeTravel {
 public:
  explicit TimeTravel(eventstore::EventStore& store,
                      TimeTravelOptions options = {});
  // Finishes the snapshot being written, if any.
  ~TimeTravel();
  TimeTravel(const TimeTravel&) = delete;
  TimeTravel& operator=(const TimeTravel&) = delete;

  // `as_of` as the contract has it: a decimal position (0 = the empty
  // state) or an RFC 3339 time (the last position whose `at` is at or
  // before it; 0 before the first event). A position past the store's head,
  // or text that is neither, is kValidationFailed with field "as_of".
  [[nodiscard]] Result<AsOf> ResolveAsOf(std::string_view as_of) const;

  // The State after the event at `position` (0: the empty State). When
  // `live` is given and is at `position` it is returned as is. Past the
  // head: kValidationFailed (field "as_of"). Store read errors pass through.
  [[nodiscard]] Result<std::shared_ptr<const State>> StateAt(
      uint64_t position, std::shared_ptr<const State> live = nullptr);

  // Called by the writer after each applied batch. When `snapshot_every`
  // events have passed since the last snapshot, encodes `live` (on the
  // calling thread) and hands the bytes to the background writer; returns
  // at once otherwise. Waits only when the previous snapshot is still
  // queued. A failed snapshot write is dropped (the next interval takes
  // another): snapshots are an optimisation, the log is the truth.
  void AfterBatch(const State& live);
  // The same for an immutable published State: it is kept alive and encoded
  // on the background thread, so the writer pays nothing but a pointer copy.
  void AfterBatch(std::shared_ptr<const State> live);
  // Encodes and writes a snapshot of `live` now, waiting for it (clean
  // shutdown). No-op when a snapshot at that position exists.
  [[nodiscard]] Status SnapshotNow(const State& live);

  // Position of the newest snapshot taken or found; 0 when none.
  uint64_t last_snapshot() const;

 private:
  void WriterLoop();
  std::shared_ptr<const State> FindCached(uint64_t position, bool exact);
  void Remember(std::shared_ptr<const State> state);

  eventstore::EventStore& store_;
  const TimeTravelOptions options_;

  mutable std::mutex cache_mu_;
  std::list<std::shared_ptr<const State>> cache_;  // most recent first

  mutable std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  struct Job {
    uint64_t position = 0;
    std::string bytes;                   // encoded, or
    std::shared_ptr<const State> state;  // to encode on the writer thread
  };
  bool Due(uint64_t position);  // claims the interval when due
  void Enqueue(Job job);
  std::optional<Job> pending_;  // guarded
  bool writing_ = false;        // guarded
  bool stop_ = false;           // guarded
  uint64_t last_snapshot_ = 0;  // guarded
  std::thread writer_;
};

// Loads the newest usable snapshot and replays the events after it: the
// State at the store's head, as a replay from position 0 would build it.
[[nodiscard]] Result<State> LoadAtHead(const eventstore::EventStore& store);

// The State as of `position` built from the newest usable snapshot at or
// before it plus replay; no caching. `position` must be <= the head.
[[nodiscard]] Result<State> LoadAt(const eventstore::EventStore& store,
                                   uint64_t position);

}  // namespace cairn::gateway
