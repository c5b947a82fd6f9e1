#include "time_travel.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "cairn/core/apply.hpp"
#include "cairn/core/partial_state.hpp"
#include "cairn/core/state_codec.hpp"
#include "thread_name.hpp"

namespace cairn::gateway {
namespace {

Error PastHead(uint64_t position, uint64_t head) {
  return Error::Validation("as_of",
                           "as_of position " + std::to_string(position) +
                               " is past the head " + std::to_string(head));
}

// The newest snapshot of `series` at or before `position` that `decode`
// (bytes -> Result<State>) accepts and that names its own position;
// nullopt when none.
template <typename Decode>
std::optional<State> NewestUsable(const eventstore::EventStore& store,
                                  uint64_t position, uint8_t series,
                                  Decode decode) {
  uint64_t max = position;
  while (max > 0) {
    auto snap = store.LatestSnapshot(max, series);
    if (!snap) return std::nullopt;
    if (snap->first == 0 || snap->first > max) return std::nullopt;
    Result<State> s = decode(snap->second);
    if (s.ok() && s->position == snap->first) return std::move(*s);
    max = snap->first - 1;  // skip it, never trust it
  }
  return std::nullopt;
}

// The same, decoded whole (by-reference ones with their check-ins from
// `history`).
std::optional<State> NewestUsableSnapshot(const eventstore::EventStore& store,
                                          uint64_t position, uint8_t series,
                                          const State* history = nullptr) {
  return NewestUsable(store, position, series, [&](std::string_view bytes) {
    return DecodeState(bytes, history);
  });
}

// Applies the events (state.position, position] to `state` with `apply`
// (Apply, or ApplyPartial for a partial State).
template <typename ApplyFn = void (*)(State&, const Event&)>
Status Replay(const eventstore::EventStore& store, State& state,
              uint64_t position, ApplyFn apply = &Apply) {
  if (state.position >= position) return Status::Ok();
  Status s = store.ReadAll(state.position, [&](const Event& e) {
    if (e.position > position) return false;
    apply(state, e);
    return e.position < position;
  });
  if (!s.ok()) return s;
  if (state.position != position) {
    return Error{ErrorCode::kCorruption,
                 "replay stopped at " + std::to_string(state.position) +
                     " before " + std::to_string(position),
                 {}};
  }
  return Status::Ok();
}

// LoadAt; `report`: log where it starts, progress every million events
// replayed and how long it took (start-up).
Result<State> Load(const eventstore::EventStore& store, uint64_t position,
                   bool report) {
  constexpr uint64_t kProgressEvery = 1'000'000;
  const auto started = std::chrono::steady_clock::now();
  State state;
  if (auto snap = NewestUsableSnapshot(store, position, kFullSeries)) {
    state = std::move(*snap);
  }
  const uint64_t from = state.position;
  if (report) {
    spdlog::info("loading the model: snapshot at {}, replaying {} events to {}",
                 from, position - from, position);
  }
  Status s = Replay(store, state, position, [&](State& st, const Event& e) {
    Apply(st, e);
    if (report && (e.position - from) % kProgressEvery == 0) {
      spdlog::info("loading the model: {} of {} events replayed",
                   e.position - from, position - from);
    }
  });
  if (!s.ok()) return s.error();
  if (report) {
    spdlog::info("model loaded at {} in {} ms", position,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
  }
  return state;
}

}  // namespace

Result<State> LoadAt(const eventstore::EventStore& store, uint64_t position) {
  return Load(store, position, /*report=*/false);
}

Result<State> LoadAtHead(const eventstore::EventStore& store) {
  return Load(store, store.Head(), /*report=*/true);
}

TimeTravel::TimeTravel(eventstore::EventStore& store, TimeTravelOptions options)
    : store_(store), options_(options) {
  if (auto snap = store_.LatestSnapshot(UINT64_MAX, kFullSeries)) {
    last_full_ = snap->first;
    fulls_.push_back(snap->first);
  }
  if (auto snap = store_.LatestSnapshot(UINT64_MAX, kByReferenceSeries)) {
    last_snapshot_ = snap->first;
  }
  writer_ = std::thread([this] { WriterLoop(); });
  NameThread(writer_, "cairn-snapshots");
}

TimeTravel::~TimeTravel() {
  {
    std::lock_guard lock(snap_mu_);
    stop_ = true;
  }
  snap_cv_.notify_all();
  writer_.join();
}

Result<AsOf> TimeTravel::ResolveAsOf(std::string_view as_of) const {
  const uint64_t head = store_.Head();
  if (!as_of.empty() && as_of.size() <= 20 &&
      as_of.find_first_not_of("0123456789") == std::string_view::npos) {
    uint64_t p = 0;
    bool overflow = false;
    for (char c : as_of) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (p > (UINT64_MAX - d) / 10) overflow = true;
      p = p * 10 + d;
    }
    if (overflow || p > head) return PastHead(p, head);
    return AsOf{p, std::nullopt};
  }
  Result<Millis> t = ParseTime(as_of);
  if (!t.ok()) {
    return Error::Validation(
        "as_of", "as_of must be an event position or an RFC 3339 time");
  }
  return AsOf{store_.PositionAtOrBefore(*t), *t};
}

std::shared_ptr<const State> TimeTravel::FindCached(uint64_t position,
                                                    bool exact) {
  std::lock_guard lock(cache_mu_);
  auto best = cache_.end();
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    uint64_t p = (*it)->position;
    if (p == position) {
      cache_.splice(cache_.begin(), cache_, it);  // most recently used
      return cache_.front();
    }
    if (!exact && p < position &&
        (best == cache_.end() || p > (*best)->position)) {
      best = it;
    }
  }
  return best == cache_.end() ? nullptr : *best;
}

void TimeTravel::Remember(std::shared_ptr<const State> state) {
  if (options_.cache_states == 0) return;
  std::lock_guard lock(cache_mu_);
  for (const auto& s : cache_) {
    if (s->position == state->position) return;
  }
  cache_.push_front(std::move(state));
  while (cache_.size() > options_.cache_states) cache_.pop_back();
}

std::optional<Result<std::shared_ptr<const State>>> TimeTravel::AtHand(
    uint64_t position, const std::shared_ptr<const State>& live) {
  if (live && live->position == position) return live;
  const uint64_t head = store_.Head();
  if (position > head) return PastHead(position, head);
  if (position == 0) {
    static const std::shared_ptr<const State> kEmpty =
        std::make_shared<const State>();
    return kEmpty;
  }
  if (auto hit = FindCached(position, /*exact=*/true)) return hit;
  return std::nullopt;
}

std::shared_ptr<const State> TimeTravel::ClosestCached(
    uint64_t position, const std::shared_ptr<const State>& live) {
  // The live State can serve too when it is behind `position` (never
  // ahead: a State cannot be rewound).
  std::shared_ptr<const State> cached = FindCached(position, false);
  if (live && live->position < position &&
      (!cached || live->position > cached->position)) {
    cached = live;
  }
  return cached;
}

Result<std::shared_ptr<const State>> TimeTravel::StateAt(
    uint64_t position, std::shared_ptr<const State> live) {
  if (auto ready = AtHand(position, live)) return std::move(*ready);
  // The closest base: a cached State or the newest usable snapshot.
  std::shared_ptr<const State> cached = ClosestCached(position, live);
  State state;
  std::optional<State> snap;
  if (cached && position - cached->position <= options_.cached_base_reach) {
    state = *cached;  // close enough: no snapshot read at all
  } else if ((live &&
              (snap = NewestUsableSnapshot(store_, position, kByReferenceSeries,
                                           live.get()))) ||
             (snap = NewestUsableSnapshot(store_, position, kFullSeries))) {
    if (cached && cached->position >= snap->position) {
      state = *cached;
    } else {
      state = std::move(*snap);
    }
  } else if (cached) {
    state = *cached;
  }
  if (Status s = Replay(store_, state, position); !s.ok()) return s.error();
  auto result = std::make_shared<const State>(std::move(state));
  Remember(result);
  return result;
}

Result<std::shared_ptr<const State>> TimeTravel::PartialStateAt(
    uint64_t position, std::shared_ptr<const State> live,
    const UnitsOf& units_of) {
  if (auto ready = AtHand(position, live)) return std::move(*ready);
  // The closest base as StateAt picks it, cut to the part.
  std::shared_ptr<const State> cached = ClosestCached(position, live);
  PartialInfo info;
  std::optional<State> part;
  if (!cached || position - cached->position > options_.cached_base_reach) {
    auto decode = [&](const State* history) {
      return [&, history](std::string_view bytes) {
        return DecodePartialState(bytes, history, units_of, info);
      };
    };
    if (live) {
      part = NewestUsable(store_, position, kByReferenceSeries,
                          decode(live.get()));
    }
    if (!part) {
      part = NewestUsable(store_, position, kFullSeries, decode(nullptr));
    }
    if (part && cached && cached->position >= part->position) part.reset();
  }
  if (!part) part = PartialCopy(cached ? *cached : State{}, units_of, info);
  Status s = Replay(store_, *part, position, [&](State& st, const Event& e) {
    ApplyPartial(st, e, info);
  });
  if (!s.ok()) return s.error();
  // A later event needed a goal or metric left out: the whole State.
  if (!Covers(*part, units_of, info)) return StateAt(position, live);
  return std::make_shared<const State>(std::move(*part));
}

std::pair<bool, bool> TimeTravel::Due(uint64_t position) {
  std::lock_guard lock(snap_mu_);
  const bool by_reference =
      options_.snapshot_every != 0 &&
      position >= last_snapshot_ + options_.snapshot_every;
  const bool full = options_.full_snapshot_every != 0 &&
                    position >= last_full_ + options_.full_snapshot_every;
  if (by_reference) last_snapshot_ = position;
  if (full) last_full_ = position;
  return {by_reference, full};
}

void TimeTravel::Enqueue(Job job) {
  {
    // At most one snapshot waits while another is written; the writer
    // only waits here when the disk is slower than N events.
    std::unique_lock lock(snap_mu_);
    snap_cv_.wait(lock, [&] { return !pending_.has_value(); });
    pending_.emplace(std::move(job));
  }
  snap_cv_.notify_all();
}

void TimeTravel::AfterBatch(const State& live) {
  auto [by_reference, full] = Due(live.position);
  if (!by_reference && !full) return;
  Job job{live.position, by_reference, full, {}, {}, nullptr};
  if (by_reference) {
    job.by_reference = EncodeState(live, SnapshotHistory::kByReference);
  }
  if (full) job.whole = EncodeState(live);
  Enqueue(std::move(job));
}

void TimeTravel::AfterBatch(std::shared_ptr<const State> live) {
  if (!live) return;
  auto [by_reference, full] = Due(live->position);
  if (!by_reference && !full) return;
  uint64_t position = live->position;
  Enqueue(Job{position, by_reference, full, {}, {}, std::move(live)});
}

Status TimeTravel::SnapshotNow(const State& live) {
  if (live.position == 0) return Status::Ok();
  if (auto snap = store_.LatestSnapshot(live.position, kFullSeries);
      snap && snap->first == live.position) {
    return Status::Ok();
  }
  std::string bytes = EncodeState(live);
  {
    // Let a background write finish first so snapshots land in order.
    std::unique_lock lock(snap_mu_);
    snap_cv_.wait(lock, [&] { return !writing_ && !pending_; });
    last_full_ = std::max(last_full_, live.position);
  }
  return WriteFull(live.position, bytes);
}

Status TimeTravel::WriteFull(uint64_t position, const std::string& bytes) {
  Status s = store_.PutSnapshot(position, bytes, kFullSeries);
  if (!s.ok()) return s;
  std::lock_guard lock(snap_mu_);
  if (fulls_.empty() || fulls_.back() < position) fulls_.push_back(position);
  const size_t keep = std::max<uint64_t>(options_.full_snapshots_kept, 1);
  if (fulls_.size() <= keep) return Status::Ok();
  const uint64_t below = fulls_[fulls_.size() - keep];
  fulls_.erase(fulls_.begin(),
               fulls_.end() - static_cast<std::ptrdiff_t>(keep));
  // Pruning is housekeeping: a failure leaves older snapshots, nothing else.
  store_.DeleteSnapshots(kFullSeries, below).IgnoreError();
  return Status::Ok();
}

uint64_t TimeTravel::last_snapshot() const {
  std::lock_guard lock(snap_mu_);
  return std::max(last_snapshot_, last_full_);
}

void TimeTravel::WriterLoop() {
  std::unique_lock lock(snap_mu_);
  for (;;) {
    snap_cv_.wait(lock, [&] { return stop_ || pending_.has_value(); });
    if (!pending_) return;  // stop_ and nothing left to write
    Job job = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    lock.unlock();
    snap_cv_.notify_all();
    if (job.state) {
      if (job.full) job.whole = EncodeState(*job.state);
      if (job.by_reference_due) {
        job.by_reference =
            EncodeState(*job.state, SnapshotHistory::kByReference);
      }
      job.state.reset();
    }
    // A failed write is dropped: the next interval takes another, and the
    // log is the truth.
    if (!job.by_reference.empty()) {
      store_.PutSnapshot(job.position, job.by_reference, kByReferenceSeries)
          .IgnoreError();
    }
    if (job.full) WriteFull(job.position, job.whole).IgnoreError();
    lock.lock();
    writing_ = false;
    snap_cv_.notify_all();
  }
}

}  // namespace cairn::gateway
