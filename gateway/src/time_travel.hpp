// Time travel: the State as of any past position, fast (API.md,
// "Conventions": Time travel), and the snapshots that make it fast.
//
//   TimeTravel tt(*store);                // snapshots every 10,000 events
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
//   // A board, scorecard, retro or diff as of a point: only the part of
//   // the State it reads (partial_state.hpp), a fraction of StateAt's cost.
//   auto part = tt.PartialStateAt(a->position, live, units_of);
//
// Two series of snapshots (EventStore snapshot series):
// - kByReferenceSeries, every `snapshot_every` events: the model with each
//   goal's check-ins by reference (SnapshotHistory::kByReference). Small, and
//   decoding costs O(entities): the check-ins are shared from the live State,
//   whose history extends every earlier one. These serve `as_of`.
// - kFullSeries, every `full_snapshot_every` events and at SnapshotNow: the
//   whole model. Start-up (LoadAtHead) reads the newest; the older ones are
//   pruned, keeping `full_snapshots_kept`.
//
// A State as of p is the newest usable snapshot at or before p (one that
// fails its checksum, does not decode, names another position or whose
// check-ins the live State does not hold is skipped, never trusted), or a
// cached as-of State that is closer, plus Apply of the events (base, p].
// Results are kept in a small LRU. Cost of a query far from any cached
// State: a by-reference snapshot read + decode (entities, metric points)
// + at most `snapshot_every` events. Without a live State, or in a store
// written before by-reference snapshots, a full snapshot serves (decode
// linear in the whole history). Snapshots are written by one background
// thread so the writer only pays for a pointer copy.
//
// PartialStateAt picks its base the same way and cuts it to the goals of
// some units (and the goals below them, and their metrics): from a snapshot
// it decodes only those (entities carry their length, so the others are
// stepped over), and of the events after it, it parses only theirs and the
// other entities'. It costs a snapshot read (~3 MB at 20,000 goals), a
// scan of its goal keys and the replay's reads, not the 20,000 goals.
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
#include <utility>
#include <vector>

#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/partial_state.hpp"
#include "cairn/core/time.hpp"
#include "cairn/eventstore/event_store.hpp"

namespace cairn::gateway {

// The EventStore snapshot series TimeTravel writes.
inline constexpr uint8_t kFullSeries = 0;
inline constexpr uint8_t kByReferenceSeries = 1;

struct TimeTravelOptions {
  // Take a by-reference snapshot once this many events have been applied
  // since the last one (0: never from AfterBatch). Default: 10,000.
  uint64_t snapshot_every = 10'000;
  // Take a full snapshot once this many events have been applied since the
  // last one (0: only at SnapshotNow). Default: 100,000, so a start-up after
  // a crash replays at most that many events.
  uint64_t full_snapshot_every = 100'000;
  // Full snapshots kept when a new one is written (older ones are deleted;
  // at least 1). Default: 2, so a damaged newest one leaves another.
  uint64_t full_snapshots_kept = 2;
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

  // The part of the State after `position` that `units_of` picks
  // (partial_state.hpp): all a board, scorecard, retro or diff of those
  // units reads, in a fraction of StateAt's time (only the kept goals are
  // decoded and only their events applied). The base is chosen as StateAt
  // chooses it; the result is not cached. It is the whole State when that
  // is at hand (the live one, an exact cache hit) or when a later event
  // needed a goal the part left out (Covers). Errors as StateAt's.
  [[nodiscard]] Result<std::shared_ptr<const State>> PartialStateAt(
      uint64_t position, std::shared_ptr<const State> live,
      const UnitsOf& units_of);

  // Called by the writer after each applied batch. When a snapshot is due
  // (see the options), encodes `live` (on the calling thread) and hands the
  // bytes to the background writer; returns at once otherwise. Waits only when
  // the previous snapshot is still queued. A failed snapshot write is dropped
  // (the next interval takes another): snapshots are an optimisation, the log
  // is the truth.
  void AfterBatch(const State& live);
  // The same for an immutable published State: it is kept alive and encoded
  // on the background thread, so the writer pays nothing but a pointer copy.
  void AfterBatch(std::shared_ptr<const State> live);
  // Encodes and writes a full snapshot of `live` now, waiting for it (clean
  // shutdown). No-op when a full snapshot at that position exists.
  [[nodiscard]] Status SnapshotNow(const State& live);

  // Position of the newest snapshot (either series) taken or found; 0 when
  // none.
  uint64_t last_snapshot() const;

 private:
  void WriterLoop();
  std::shared_ptr<const State> FindCached(uint64_t position, bool exact);
  // The answer of StateAt and PartialStateAt when no State need be built:
  // the live one at `position`, past the head, the empty State, an exact
  // cache hit.
  std::optional<Result<std::shared_ptr<const State>>> AtHand(
      uint64_t position, const std::shared_ptr<const State>& live);
  // The cached State (or `live`) closest before `position`, or null.
  std::shared_ptr<const State> ClosestCached(
      uint64_t position, const std::shared_ptr<const State>& live);
  void Remember(std::shared_ptr<const State> state);

  eventstore::EventStore& store_;
  const TimeTravelOptions options_;

  mutable std::mutex cache_mu_;
  std::list<std::shared_ptr<const State>> cache_;  // most recent first

  mutable std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  struct Job {
    uint64_t position = 0;
    bool by_reference_due = false;       // a by-reference snapshot
    bool full = false;                   // a full snapshot
    std::string by_reference, whole;     // encoded, or
    std::shared_ptr<const State> state;  // to encode on the writer thread
  };
  // Claims the interval(s) due at `position`: whether a by-reference
  // snapshot and a full one are due.
  std::pair<bool, bool> Due(uint64_t position);
  void Enqueue(Job job);
  // Writes a full snapshot and prunes older ones beyond the kept number.
  Status WriteFull(uint64_t position, const std::string& bytes);
  std::optional<Job> pending_;   // guarded
  bool writing_ = false;         // guarded
  bool stop_ = false;            // guarded
  uint64_t last_snapshot_ = 0;   // guarded: by-reference series
  uint64_t last_full_ = 0;       // guarded: full series
  std::vector<uint64_t> fulls_;  // guarded: full snapshots written, in order
  std::thread writer_;
};

// Loads the newest usable snapshot and replays the events after it: the
// State at the store's head, as a replay from position 0 would build it.
// Start-up logs (spdlog, info) where it started and how long it took, and,
// replaying more than a million events (a store whose snapshots are gone
// or of an older format), its progress every million.
[[nodiscard]] Result<State> LoadAtHead(const eventstore::EventStore& store);

// The State as of `position` built from the newest usable snapshot at or
// before it plus replay; no caching. `position` must be <= the head.
[[nodiscard]] Result<State> LoadAt(const eventstore::EventStore& store,
                                   uint64_t position);

}  // namespace cairn::gateway
