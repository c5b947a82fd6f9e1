// The single writer (ARCHITECTURE.md): one thread owns the live State and
// the store's append.
//
//   Sequencer seq(store, &hub, &metrics);
//   seq.Start();                                    // replays the log
//   seq.Submit({.command = cmd, .ctx = ctx, .render = render,
//               .done = [](Response r) { ... }});   // from any thread
//   std::shared_ptr<const State> s = seq.Snapshot();  // readers, any thread
//
// Commands are decided one by one against a private working State (the
// events of those before them applied tentatively), then written as a batch
// with one AppendMany (one group commit, one fsync) on a committer thread.
// While a batch syncs, the writer goes on deciding what arrives into the
// next batch, against the State the syncing one predicts (when the
// committer is idle after a large batch, the next one gathers a burst for
// up to 150 us between requests and 1 ms in all before it is written);
// when the write returns, the next batch is handed to the committer at
// once, and only then is the first published and its requests completed.
// Nothing is acknowledged before it is durable. If a batch's stored events
// are not the predicted ones (a failed write, recovered events), the batch
// decided behind it is dropped and its requests are decided again. The
// writer only decides, applies and publishes: replies are rendered by the
// caller's thread (render_on_reply, Response::render_later) and the hub's
// change sets are described on a publisher thread.
//
// Readers never block the writer: the State is published copy-on-write as an
// immutable std::shared_ptr<const State> after each durable batch; Snapshot()
// only copies that pointer under a short lock. The working State of a batch
// is not copied from the published one: published States come back to the
// writer when their last reader drops them and are brought up to date with
// the events written since (kept in memory; CatchUp: check-ins are taken
// from the newer State, other events applied), so a batch costs O(its
// events), not O(State). Only when no such State is free (readers
// hold every one) is the published State copied. Every command of a batch
// is decided at one clock reading, which the store stamps on the events
// (AppendRequest::at). If the store's assigned `at`/positions still differ
// from the predicted ones (the log moved), or a write fails, the
// working State is dropped and a State is advanced with exactly the stored
// events, so the live State always equals a replay of the log. A batch
// answered 503 whose sync failed may still be found on disk by the store's
// recovery at a later write: those events are read back, applied and
// published, and requests that conflicted with them are decided again.
//
// Idempotency: a request with a key (already scoped to its token) whose key
// was stored answers the stored reply when the fingerprint matches, 422
// idempotency_key_reused otherwise; only successful replies are stored, with
// the events, in the same synced write (so those replies are rendered on the
// writer thread, before the write). A repeat of a key that the batch being
// decided or the one syncing is writing waits for that write, then replays.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "hub.hpp"
#include "router.hpp"

namespace cairn::gateway {

class ServerMetrics;
class TimeTravel;

// Renders the HTTP reply of a decided command. On the writer thread (the
// default, and always for a reply stored with an idempotency key): from the
// State right after the command's events were applied (`events` as
// predicted; positions and versions exact). With render_on_reply: later, on
// the thread that finishes the reply, from the State published after the
// command's batch (`events` as stored).
using Renderer = std::function<Response(const State& state,
                                        const std::vector<Event>& events)>;

struct WriteRequest {
  Command command;
  CommandContext ctx;  // ctx.now is set by the Sequencer (batch clock)
  // Record the command at this past time instead of the batch clock (the
  // demo company's history). Raised to the time of the event before it,
  // never past the clock: `at` still never decreases with position.
  std::optional<Millis> record_at;
  // Scoped idempotency key ("<token>\n<key>"); empty = none.
  std::string idempotency_key;
  std::string raw_idempotency_key;  // as the client sent it, for event meta
  // Identifies the request (method, path, body hash) for key reuse checks.
  std::string fingerprint;
  // False: the reply is not stored with the key (it holds a secret).
  bool keep_reply = true;
  std::string correlation_id;
  Renderer render;
  // Optional check against the State the command is decided on, before
  // Decide (e.g. visibility: an entity outside the token's scope is 404).
  std::function<std::optional<Error>(const State&)> precheck;
  // True: `render` is not run on the writer thread; `done` gets a Response
  // with render_later set (FinishResponse renders it). Ignored when the
  // reply is stored with an idempotency key.
  bool render_on_reply = false;
  // Called exactly once, on the writer thread; must not block.
  std::function<void(Response)> done;
  // Set by the Sequencer, for the write path's metrics: when the request
  // was queued and when the writer decided it.
  std::chrono::steady_clock::time_point queued_at{};
  std::chrono::steady_clock::time_point decided_at{};
};

class Sequencer {
 public:
  Sequencer(eventstore::EventStore& store, ChangeHub* hub,
            ServerMetrics* metrics);
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Rebuilds the State (newest snapshot + replay when a TimeTravel is set,
  // else a replay from 0), then starts the writer thread.
  Status Start();
  // Queues a write. When stopped or the queue is full, `done` is called at
  // once with 503 unavailable.
  void Submit(WriteRequest request);
  // Finishes every queued write, then stops the thread. Idempotent.
  void Stop();

  // The State after the last durable batch.
  std::shared_ptr<const State> Snapshot() const;
  void SetHub(ChangeHub* hub) { hub_ = hub; }
  // Snapshots for fast time travel: loaded at Start (LoadAtHead), taken
  // after batches (AfterBatch) and at Stop (SnapshotNow). Call before Start.
  void SetTimeTravel(TimeTravel* time_travel) { time_travel_ = time_travel; }

 private:
  struct Pool;
  struct Batch;
  void Run();
  void RunCommitter();
  void RunPublisher();
  // A batch decided after the published State, or, while `in_flight`
  // syncs, after the State it predicts.
  std::unique_ptr<Batch> StartBatch(const Batch* in_flight);
  void DecideInto(Batch& batch, WriteRequest request, const Batch* in_flight);
  // After a batch's write returned, before the next is handed over: are the
  // stored events the predicted ones? When not, a batch decided behind it
  // must be decided again.
  bool Settle(Batch& batch);
  // Then, while the next batch is written: publishes the State after it,
  // answers its requests and hands its changes to the hub.
  void Finish(Batch& batch);
  void Requeue(std::vector<WriteRequest> requests);
  // A private State equal to `base`: a recycled one brought up to date
  // from recent_, or a copy.
  std::unique_ptr<State> WorkingCopy(const std::shared_ptr<const State>& base);
  // Wraps a State for publishing: when its last reader drops it, it goes
  // back to the pool.
  std::shared_ptr<const State> Publishable(std::unique_ptr<State> state);
  void Remember(const std::vector<Event>& events);

  eventstore::EventStore& store_;
  ChangeHub* hub_;
  ServerMetrics* metrics_;
  TimeTravel* time_travel_ = nullptr;

  mutable std::mutex state_mu_;
  std::shared_ptr<const State> state_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteRequest> queue_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread thread_;
  // The batch handed to committer_ (null: none), guarded by mu_, and
  // whether its write has returned: set under mu_ (with cv_), also read
  // without it while the writer decides, to hand the next batch over at
  // once.
  std::condition_variable commit_cv_;
  Batch* commit_job_ = nullptr;
  std::atomic<bool> committed_{false};
  bool commit_stopping_ = false;
  std::thread committer_;

  // Writer thread only: the events of the last batches, oldest first, for
  // bringing recycled States up to date.
  std::deque<Event> recent_;
  // Published States whose readers are all gone (shared with their
  // deleters, which may outlive the Sequencer).
  std::shared_ptr<Pool> pool_;

  // Change sets for the hub, described and published on publisher_ in
  // position order.
  std::mutex pub_mu_;
  std::condition_variable pub_cv_;
  std::deque<std::pair<ChangeHub*, std::shared_ptr<ChangeSet>>> pub_queue_;
  bool pub_stopping_ = false;
  std::thread publisher_;
};

// A State rebuilt by replaying the store's events 1..position.
Result<std::shared_ptr<const State>> ReplayState(
    const eventstore::EventStore& store, uint64_t position);

}  // namespace cairn::gateway
