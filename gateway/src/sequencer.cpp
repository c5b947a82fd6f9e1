#include "sequencer.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_set>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/json_writer.hpp"
#include "http_errors.hpp"
#include "limits.hpp"
#include "server_metrics.hpp"
#include "thread_name.hpp"
#include "time_travel.hpp"

namespace cairn::gateway {

namespace {

// The stored reply of an idempotent write: fingerprint, status, ETag and
// body, one per line (the body last; it may hold anything).
std::string EncodeReply(const std::string& fingerprint, const Response& r) {
  std::string etag;
  for (const auto& [name, value] : r.headers) {
    if (name == "ETag") etag = value;
  }
  return fingerprint + "\n" + std::to_string(r.status) + "\n" + etag + "\n" +
         r.body;
}

Response ReplayReply(const std::string& stored,
                     const std::string& fingerprint) {
  size_t a = stored.find('\n');
  size_t b = a == std::string::npos ? a : stored.find('\n', a + 1);
  size_t c = b == std::string::npos ? b : stored.find('\n', b + 1);
  if (c == std::string::npos) {
    return ErrorResponse(ErrorCode::kInternal, "stored reply is damaged");
  }
  if (stored.compare(0, a, fingerprint) != 0 || a != fingerprint.size()) {
    return ErrorResponse(ErrorCode::kIdempotencyKeyReused,
                         "this Idempotency-Key was used for another request",
                         "Idempotency-Key");
  }
  Response r;
  r.status = static_cast<unsigned>(std::stoul(stored.substr(a + 1, b - a - 1)));
  std::string etag = stored.substr(b + 1, c - b - 1);
  if (!etag.empty()) r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Idempotent-Replayed", "true");
  r.body = stored.substr(c + 1);
  return r;
}

std::string EventMeta(const WriteRequest& w) {
  JsonWriter m;
  m.BeginObject();
  if (!w.correlation_id.empty())
    m.Key("correlation_id").String(w.correlation_id);
  if (!w.raw_idempotency_key.empty()) {
    m.Key("idempotency_key").String(w.raw_idempotency_key);
  }
  m.EndObject();
  return std::move(m).Take();
}

Response Unavailable(std::string message) {
  return ErrorResponse(ErrorCode::kUnavailable, std::move(message));
}

}  // namespace

Result<std::shared_ptr<const State>> ReplayState(
    const eventstore::EventStore& store, uint64_t position) {
  auto state = std::make_shared<State>();
  Status st = store.ReadAll(0, [&](const Event& e) {
    if (e.position > position) return false;
    Apply(*state, e);
    return true;
  });
  if (!st) return st.error();
  return std::shared_ptr<const State>(std::move(state));
}

// Published States that no reader holds any more, ready to be brought up
// to date and reused as a batch's working State.
struct Sequencer::Pool {
  std::mutex mu;
  std::vector<std::unique_ptr<State>> free;
  // Bumped by Start: States published before it are not taken back.
  uint64_t generation = 0;
};

// A batch of writes, decided command by command against `work` (a private
// State: the published one plus the events predicted so far), then written
// with one AppendMany on the committer thread.
struct Sequencer::Batch {
  std::vector<WriteRequest> batch;
  std::unique_ptr<State> work;
  uint64_t from = 0;  // the position it was decided after
  uint64_t head = 0;  // the last predicted position
  Millis now = 0;
  // Per request of `batch`: its AppendRequest (-1: none), its reply when
  // rendered at once, whether it is rendered once published, and whether
  // it waits for an earlier write of its idempotency key.
  std::vector<int> request_of;
  std::vector<std::optional<Response>> replies;
  std::vector<bool> render_later;
  std::vector<bool> is_deferred;
  std::unordered_set<std::string> keys;  // idempotency keys being written
  std::vector<eventstore::AppendRequest> requests;
  std::vector<std::vector<Event>> predicted;              // per AppendRequest
  std::vector<Result<eventstore::AppendResult>> results;  // the committer's
  // Set by Settle: the events stored (and any recovered), whether they are
  // the predicted ones, and whether recovered events were found.
  std::vector<Event> changes;
  bool exact = false;
  bool caught_up = false;
  // When it was handed to the committer and when its write returned
  // (unset: never written).
  std::chrono::steady_clock::time_point handed_at{};
  std::chrono::steady_clock::time_point written_at{};
};

namespace {

// Free States kept for reuse (more are deleted).
constexpr size_t kPooledStates = 6;
// Events kept to bring a recycled State up to date; an older State is
// dropped and the published one copied instead.
constexpr size_t kRecentEvents = 16384;
// Change sets waiting for the publisher before the writer waits for it,
// and the most events merged into one waiting set.
constexpr size_t kMaxPendingChangeSets = 64;
constexpr size_t kMaxMergedEvents = 8192;
// Group commit while the committer is idle (Run): a batch waits for more
// only after one of at least kLingerFrom requests, kLingerGap at most for
// each next request and kLingerMax in all.
constexpr size_t kLingerFrom = 8;
constexpr auto kLingerGap = std::chrono::microseconds(150);
constexpr auto kLingerMax = std::chrono::microseconds(1000);

}  // namespace

Sequencer::Sequencer(eventstore::EventStore& store, ChangeHub* hub,
                     ServerMetrics* metrics)
    : store_(store),
      hub_(hub),
      metrics_(metrics),
      pool_(std::make_shared<Pool>()) {}

Sequencer::~Sequencer() { Stop(); }

Status Sequencer::Start() {
  Result<std::shared_ptr<const State>> state = Error::Internal("unset");
  if (time_travel_ != nullptr) {
    Result<State> loaded = LoadAtHead(store_);
    if (!loaded) return loaded.error();
    state = std::shared_ptr<const State>(
        std::make_shared<State>(std::move(*loaded)));
  } else {
    state = ReplayState(store_, store_.Head());
  }
  if (!state) return state.error();
  {
    std::lock_guard lock(state_mu_);
    state_ = *state;
  }
  if (metrics_ != nullptr) metrics_->SetHead((*state)->position);
  // A restart may find the log changed: recycle nothing from before.
  recent_.clear();
  {
    std::lock_guard lock(pool_->mu);
    pool_->free.clear();
    ++pool_->generation;
  }
  {
    std::lock_guard lock(pub_mu_);
    pub_stopping_ = false;
  }
  std::lock_guard lock(mu_);
  started_ = true;
  stopping_ = false;
  commit_job_ = nullptr;
  committed_.store(false);
  commit_stopping_ = false;
  publisher_ = std::thread([this] { RunPublisher(); });
  NameThread(publisher_, "cairn-publish");
  committer_ = std::thread([this] { RunCommitter(); });
  NameThread(committer_, "cairn-commit");
  thread_ = std::thread([this] { Run(); });
  NameThread(thread_, "cairn-writer");
  return Status::Ok();
}

void Sequencer::Submit(WriteRequest request) {
  bool stopping = false;
  request.queued_at = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (started_ && !stopping_ && queue_.size() < kMaxQueuedCommands) {
      queue_.push_back(std::move(request));
      cv_.notify_one();
      return;
    }
    stopping = stopping_ || !started_;
  }
  request.done(Unavailable(stopping ? "the server is shutting down"
                                    : "too many writes queued"));
}

void Sequencer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    commit_stopping_ = true;
    commit_cv_.notify_all();
  }
  if (committer_.joinable()) committer_.join();
  {
    std::lock_guard lock(pub_mu_);
    pub_stopping_ = true;
    pub_cv_.notify_all();
  }
  if (publisher_.joinable()) publisher_.join();
  if (time_travel_ != nullptr) {
    auto state = Snapshot();
    if (state && state->position > 0)
      time_travel_->SnapshotNow(*state).IgnoreError();
  }
  std::lock_guard lock(mu_);
  started_ = false;
}

std::shared_ptr<const State> Sequencer::Snapshot() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

void Sequencer::Run() {
  // The batch the committer is writing, and the next one, decided while it
  // syncs against the State the first will leave (its predicted events).
  std::unique_ptr<Batch> in_flight;
  std::unique_ptr<Batch> next;
  // Group commit under load. While a batch syncs, the next one gathers what
  // arrives. When the committer is idle, a batch is written at once, unless
  // the last one was large (the replies of a burst are coming back): then
  // it waits while requests keep coming, kLingerGap at most between two
  // and kLingerMax in all, or until it is as large as the last one. Under
  // light load nothing waits; under a burst one fsync carries it instead
  // of a lone request's fsync and then the rest's.
  using Clock = std::chrono::steady_clock;
  size_t last_written = 0;
  bool gathering = false;  // `next` is a batch the idle committer waits for
  bool lingering = false;  // ... and it waits for more until linger_until
  Clock::time_point linger_start{};
  Clock::time_point linger_until{};
  for (;;) {
    std::vector<WriteRequest> taken;
    bool committed = false;
    {
      std::unique_lock lock(mu_);
      const auto room = [&] { return !next || next->batch.size() < kMaxBatch; };
      const auto ready = [&] {
        if (in_flight) return committed_.load() || (!queue_.empty() && room());
        return stopping_ || !queue_.empty();
      };
      if (lingering && !in_flight) {
        if (!cv_.wait_until(lock, linger_until, ready) || stopping_) {
          lingering = false;  // the burst is over: write what there is
        }
      } else {
        cv_.wait(lock, ready);
      }
      if (!in_flight && !next && queue_.empty()) return;  // stopping, all done
      committed = in_flight && committed_.exchange(false);
      // Once the write is back, the next batch is handed over first.
      if (!committed || !next) {
        size_t can_take = kMaxBatch - (next ? next->batch.size() : 0);
        while (!queue_.empty() && can_take > 0) {
          taken.push_back(std::move(queue_.front()));
          queue_.pop_front();
          --can_take;
        }
      }
    }
    if (!taken.empty()) {
      if (!next) next = StartBatch(in_flight.get());
      size_t i = 0;
      for (; i < taken.size(); ++i) {
        // The write came back: hand the batch over now, decide the rest
        // in the batch after it.
        if (!committed && in_flight && committed_.load()) {
          break;
        }
        DecideInto(*next, std::move(taken[i]), in_flight.get());
      }
      if (i < taken.size()) {
        taken.erase(taken.begin(),
                    taken.begin() + static_cast<std::ptrdiff_t>(i));
        Requeue(std::move(taken));
        continue;
      }
    }
    if (!committed && in_flight) continue;  // still syncing
    if (!in_flight && next && !next->requests.empty()) {
      const auto now = Clock::now();
      if (!gathering) {
        gathering = true;
        linger_start = now;
        lingering = last_written >= kLingerFrom;
        if (lingering) linger_until = now + kLingerGap;
      } else if (lingering && !taken.empty()) {
        linger_until = std::min(now + kLingerGap, linger_start + kLingerMax);
      }
      if (next->batch.size() >= last_written) lingering = false;
      if (lingering) continue;  // gathering the burst
    }
    gathering = false;
    lingering = false;
    std::unique_ptr<Batch> done = std::move(in_flight);
    if (done && !Settle(*done) && next) {
      // Decided against predictions that did not hold: decide again.
      Requeue(std::move(next->batch));
      next.reset();
    }
    if (next && !next->requests.empty()) {
      // The next write starts before this one's replies go out.
      last_written = next->batch.size();
      in_flight = std::move(next);
      in_flight->handed_at = Clock::now();
      std::lock_guard lock(mu_);
      commit_job_ = in_flight.get();
      commit_cv_.notify_one();
    }
    if (done) Finish(*done);
    if (next) {
      // Nothing to write: answered once the batch before it is published.
      Settle(*next);
      Finish(*next);
      next.reset();
    }
  }
}

void Sequencer::RunCommitter() {
  for (;;) {
    Batch* job = nullptr;
    {
      std::unique_lock lock(mu_);
      commit_cv_.wait(
          lock, [&] { return commit_job_ != nullptr || commit_stopping_; });
      if (commit_job_ == nullptr) return;
      job = commit_job_;
    }
    auto t0 = std::chrono::steady_clock::now();
    job->results = store_.AppendMany(job->requests);
    job->written_at = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(job->written_at - t0).count();
    if (metrics_ != nullptr) metrics_->RecordAppend(job->requests.size(), secs);
    std::lock_guard lock(mu_);
    commit_job_ = nullptr;
    committed_.store(true);
    cv_.notify_all();
  }
}

void Sequencer::Requeue(std::vector<WriteRequest> requests) {
  if (requests.empty()) return;
  std::lock_guard lock(mu_);
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    queue_.push_front(std::move(*it));
  }
}

void Sequencer::RunPublisher() {
  for (;;) {
    std::pair<ChangeHub*, std::shared_ptr<ChangeSet>> item;
    {
      std::unique_lock lock(pub_mu_);
      pub_cv_.wait(lock, [&] { return pub_stopping_ || !pub_queue_.empty(); });
      if (pub_queue_.empty()) return;  // stopping, all published
      item = std::move(pub_queue_.front());
      pub_queue_.pop_front();
      pub_cv_.notify_all();  // the writer may wait for room
    }
    item.first->Publish(std::move(item.second));
  }
}

std::unique_ptr<State> Sequencer::WorkingCopy(
    const std::shared_ptr<const State>& base) {
  const uint64_t target = base->position;
  // Positions recent_ can bring a State from: [oldest - 1, target].
  const uint64_t oldest =
      recent_.empty() ? target + 1 : recent_.front().position;
  std::unique_ptr<State> s;
  std::vector<std::unique_ptr<State>> stale;
  {
    std::lock_guard lock(pool_->mu);
    auto& free = pool_->free;
    for (auto it = free.begin(); it != free.end();) {
      const uint64_t p = (*it)->position;
      const bool usable = p == target || (p < target && p + 1 >= oldest);
      if (!usable) {
        stale.push_back(std::move(*it));
        it = free.erase(it);
        continue;
      }
      if (!s || p > s->position) {
        if (s) {
          // Keep the older one pooled: swap.
          std::swap(s, *it);
        } else {
          s = std::move(*it);
          it = free.erase(it);
          continue;
        }
      }
      ++it;
    }
  }
  stale.clear();  // freed outside the pool's lock
  if (!s) {
    if (metrics_ != nullptr) metrics_->StateCopied();
    return std::make_unique<State>(*base);
  }
  if (s->position < target) {
    auto it = std::lower_bound(
        recent_.begin(), recent_.end(), s->position + 1,
        [](const Event& e, uint64_t p) { return e.position < p; });
    // Now equal to `base`, holding the touched history in base's chunks,
    // so pooled States do not each keep their own copy of new check-ins.
    std::vector<const Event*> events;
    for (; it != recent_.end() && it->position <= target; ++it) {
      events.push_back(&*it);
    }
    CatchUp(*s, *base, events);
  }
  return s;
}

std::shared_ptr<const State> Sequencer::Publishable(
    std::unique_ptr<State> state) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(pool_->mu);
    generation = pool_->generation;
  }
  return std::shared_ptr<const State>(
      state.release(), [pool = pool_, generation](const State* p) {
        std::unique_ptr<State> owned(const_cast<State*>(p));
        {
          std::lock_guard lock(pool->mu);
          if (pool->generation == generation &&
              pool->free.size() < kPooledStates) {
            pool->free.push_back(std::move(owned));
          }
        }
        // Not pooled: freed here, outside the lock.
      });
}

void Sequencer::Remember(const std::vector<Event>& events) {
  for (const Event& e : events) recent_.push_back(e);
  while (recent_.size() > kRecentEvents) recent_.pop_front();
}

std::unique_ptr<Sequencer::Batch> Sequencer::StartBatch(
    const Batch* in_flight) {
  auto b = std::make_unique<Batch>();
  std::shared_ptr<const State> base = Snapshot();
  b->work = WorkingCopy(base);
  if (in_flight != nullptr) {
    // Behind a batch still syncing: start from the State it predicts.
    std::vector<const Event*> events;
    for (const std::vector<Event>& predicted : in_flight->predicted) {
      for (const Event& e : predicted) events.push_back(&e);
    }
    CatchUp(*b->work, *in_flight->work, events);
  }
  // The batch's clock: every command is decided at it and the store stamps
  // the events with it (AppendRequest::at), so the prediction holds.
  b->now = std::max(NowMillis(), b->work->at);
  b->from = b->work->position;
  b->head = b->from;
  return b;
}

void Sequencer::DecideInto(Batch& b, WriteRequest request,
                           const Batch* in_flight) {
  const size_t i = b.batch.size();
  b.batch.push_back(std::move(request));
  b.request_of.push_back(-1);
  b.replies.emplace_back();
  b.render_later.push_back(false);
  b.is_deferred.push_back(false);
  WriteRequest& w = b.batch.back();
  w.decided_at = std::chrono::steady_clock::now();
  State& work = *b.work;
  if (!w.idempotency_key.empty()) {
    if (b.keys.count(w.idempotency_key) != 0 ||
        (in_flight != nullptr &&
         in_flight->keys.count(w.idempotency_key) != 0)) {
      // The same key again before the first is written: it waits for it.
      b.is_deferred[i] = true;
      return;
    }
    if (store_.FindId(w.idempotency_key)) {
      eventstore::AppendRequest probe;
      probe.idempotency_key = w.idempotency_key;
      Result<eventstore::AppendResult> r = store_.Append(probe);
      if (!r) {
        b.replies[i] = ErrorResponse(r.error());
      } else {
        b.replies[i] = ReplayReply(r->reply, w.fingerprint);
      }
      return;
    }
    b.keys.insert(w.idempotency_key);
  }
  const Millis now =
      w.record_at ? std::clamp(*w.record_at, work.at, b.now) : b.now;
  w.ctx.now = now;
  if (w.precheck) {
    if (std::optional<Error> refused = w.precheck(work)) {
      b.replies[i] = ErrorResponse(*refused);
      return;
    }
  }
  Result<std::vector<PendingEvent>> decided = Decide(work, w.command, w.ctx);
  if (!decided) {
    b.replies[i] = ErrorResponse(decided.error());
    return;
  }
  eventstore::AppendRequest req;
  req.at = now;
  std::vector<Event> events;
  events.reserve(decided->size());
  req.events.reserve(decided->size());
  const std::string meta = EventMeta(w);
  std::set<std::string> expected_streams;
  for (PendingEvent& p : *decided) {
    Event e;
    e.position = ++b.head;
    e.stream = p.stream;
    e.version = p.expected_version + 1;
    e.type = p.type;
    e.at = now;
    e.actor = w.ctx.actor;
    e.data = p.data;
    e.meta = meta;
    if (expected_streams.insert(p.stream).second) {
      req.expectations.push_back(
          {p.stream,
           p.expected_version == 0
               ? eventstore::ExpectedVersion::NoStream()
               : eventstore::ExpectedVersion::Exact(p.expected_version)});
    }
    req.events.push_back(eventstore::NewEvent{.stream = std::move(p.stream),
                                              .type = std::move(p.type),
                                              .id = {},
                                              .actor = w.ctx.actor,
                                              .data = std::move(p.data),
                                              .meta = meta});
    Apply(work, e);
    events.push_back(std::move(e));
  }
  const bool later = w.render_on_reply && w.idempotency_key.empty();
  if (later) {
    b.render_later[i] = true;
  } else {
    b.replies[i] = w.render(work, events);
  }
  if (req.events.empty() && w.idempotency_key.empty()) {
    return;  // nothing changed, nothing to write
  }
  if (!w.idempotency_key.empty()) {
    req.idempotency_key = w.idempotency_key;
    req.reply = EncodeReply(w.fingerprint, *b.replies[i]);
  }
  b.request_of[i] = static_cast<int>(b.requests.size());
  b.requests.push_back(std::move(req));
  b.predicted.push_back(std::move(events));
}

bool Sequencer::Settle(Batch& b) {
  std::shared_ptr<const State> base = Snapshot();
  std::vector<Result<eventstore::AppendResult>>& results = b.results;

  // Did the store assign exactly what was predicted, after the State it was
  // decided on?
  bool exact = results.size() == b.requests.size() && b.from == base->position;
  for (size_t k = 0; exact && k < results.size(); ++k) {
    if (!results[k] || results[k]->duplicate ||
        results[k]->events.size() != b.predicted[k].size()) {
      exact = false;
      break;
    }
    for (size_t j = 0; j < b.predicted[k].size(); ++j) {
      const Event& s = results[k]->events[j];
      const Event& p = b.predicted[k][j];
      if (s.position != p.position || s.version != p.version || s.at != p.at ||
          s.stream != p.stream) {
        exact = false;
        break;
      }
    }
  }

  std::vector<Event>& changes = b.changes;
  for (auto& r : results) {
    if (r && !r->duplicate) {
      for (const Event& e : r->events) changes.push_back(e);
    }
  }
  // The log is the truth. A batch answered 503 because its sync failed may
  // still have reached the WAL, and the store's recovery (at this or a later
  // write) then finds it: the log holds events the published State lacks.
  // They are read back and applied, and published like any other change.
  // (Nothing else writes meanwhile: the next batch is handed over after.)
  if (store_.Head() > base->position + changes.size()) {
    std::vector<Event> stored;
    Status read = store_.ReadAll(base->position, [&](const Event& e) {
      stored.push_back(e);
      return true;
    });
    if (read.ok() && stored.size() > changes.size()) {
      changes = std::move(stored);
      exact = false;
      b.caught_up = true;
    }
  }
  if (b.work->position != base->position + changes.size()) {
    exact = false;  // e.g. nothing written, yet decided behind a batch
  }
  b.exact = exact;
  return exact;
}

void Sequencer::Finish(Batch& b) {
  std::shared_ptr<const State> base = Snapshot();
  std::vector<Result<eventstore::AppendResult>>& results = b.results;
  std::unique_ptr<State> work = std::move(b.work);
  const bool caught_up = b.caught_up;
  auto changes = std::make_shared<ChangeSet>();
  changes->events = std::move(b.changes);
  std::shared_ptr<const State> next = base;
  if (!changes->events.empty()) {
    if (!b.exact) {
      // Advance a State equal to the last durable one with exactly what was
      // stored; the working State (with the predicted events) is dropped.
      work.reset();
      work = WorkingCopy(base);
      for (const Event& e : changes->events) Apply(*work, e);
    }
    Remember(changes->events);
    next = Publishable(std::move(work));
    std::lock_guard lock(state_mu_);
    state_ = next;
  } else if (work->position == base->position) {
    // Nothing written and nothing applied: the working State still equals
    // the published one and may serve again.
    Publishable(std::move(work));
  }
  if (metrics_ != nullptr) metrics_->SetHead(next->position);
  if (time_travel_ != nullptr && !changes->events.empty()) {
    time_travel_->AfterBatch(next);  // encoded off the writer thread
  }

  std::vector<WriteRequest> deferred;
  // Each request's time queued, waiting for its batch to be written, and
  // from the write's return to its answer (the metrics' write phases).
  using Clock = std::chrono::steady_clock;
  const bool written = b.written_at != Clock::time_point{};
  std::vector<double> queued, waiting, answering;
  const auto answer = [&](WriteRequest& w, Response r) {
    if (metrics_ != nullptr) {
      const auto secs = [](Clock::time_point from, Clock::time_point to) {
        return std::chrono::duration<double>(to - from).count();
      };
      queued.push_back(secs(w.queued_at, w.decided_at));
      if (written) {
        waiting.push_back(secs(w.decided_at, b.handed_at));
        answering.push_back(secs(b.written_at, Clock::now()));
      }
    }
    w.done(std::move(r));
  };
  for (size_t i = 0; i < b.batch.size(); ++i) {
    WriteRequest& w = b.batch[i];
    if (b.is_deferred[i]) {
      deferred.push_back(std::move(w));
      continue;
    }
    int k = b.request_of[i];
    std::vector<Event> stored;
    if (k >= 0) {
      Result<eventstore::AppendResult>& r = results[static_cast<size_t>(k)];
      if (!r) {
        const ErrorCode code = r.error().code;
        if (caught_up && (code == ErrorCode::kVersionConflict ||
                          code == ErrorCode::kAlreadyExists)) {
          // Decided against a model that lacked the recovered events: it
          // is decided again, next turn, against the model equal to the log.
          deferred.push_back(std::move(w));
          continue;
        }
        answer(w, ErrorResponse(r.error()));
        continue;
      }
      if (r->duplicate) {
        answer(w, ReplayReply(r->reply, w.fingerprint));
        continue;
      }
      stored = std::move(r->events);
    }
    if (b.render_later[i]) {
      Response lazy;
      lazy.render_later = [render = std::move(w.render), state = next,
                           events = std::move(stored)]() {
        return render(*state, events);
      };
      answer(w, std::move(lazy));
      continue;
    }
    answer(w, std::move(*b.replies[i]));
  }
  if (metrics_ != nullptr) {
    metrics_->RecordWritePhases(queued, waiting, answering);
  }

  if (!changes->events.empty() && hub_ != nullptr) {
    changes->state = next;
    std::unique_lock lock(pub_mu_);
    if (!pub_queue_.empty() && pub_queue_.back().first == hub_ &&
        pub_queue_.back().second->events.size() < kMaxMergedEvents) {
      // The publisher is behind: extend the waiting change set (one set
      // as of the later State) rather than hold one State per batch.
      ChangeSet& waiting = *pub_queue_.back().second;
      for (Event& e : changes->events) waiting.events.push_back(std::move(e));
      waiting.state = std::move(changes->state);
    } else {
      pub_cv_.wait(lock, [&] {
        return pub_queue_.size() < kMaxPendingChangeSets || pub_stopping_;
      });
      pub_queue_.emplace_back(hub_, std::move(changes));
    }
    pub_cv_.notify_all();
  }

  Requeue(std::move(deferred));
}

}  // namespace cairn::gateway
