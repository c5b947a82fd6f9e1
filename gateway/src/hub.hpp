// The live hub: the single writer publishes each durable change set once;
// the hub describes it once (goal views rendered once, shared by every
// session) and hands it to every WebSocket session with a matching
// subscription.
//
//   Hub hub(store->Head());                        // at start-up
//   Sequencer seq(store, &hub, &metrics);          // seq calls hub.Publish
//
//   // A session (any thread): register "live after position H".
//   uint64_t h = hub.AddSubscription(sink_id, "s1", filter);
//   // ... replay (from, h] from the store; every batch with events > h
//   // that matches reaches the sink's Deliver.
//
// Publish never blocks on a session: it only asks each matching sink to
// take the batch (a sink posts to its own strand) and holds sinks by weak
// pointer. Publish must be called by one thread at a time, in position
// order, after the events are durable (a new subscription replays up to the
// last published position from the store). Every method is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/core/event.hpp"
#include "cairn/core/model.hpp"
#include "live_event.hpp"

namespace cairn::gateway {

// What the Sequencer publishes after each durable batch that appended
// something, on the writer thread, in position order.
struct ChangeSet {
  std::vector<Event> events;           // as stored, in position order
  std::shared_ptr<const State> state;  // the State after the batch
};

// The Sequencer's view of the hub. Publish must not block (post to
// sessions' strands and return).
class ChangeHub {
 public:
  virtual ~ChangeHub() = default;
  virtual void Publish(std::shared_ptr<const ChangeSet> changes) = 0;
};

// What the hub delivers to. Implementations must return quickly (post).
class LiveSink {
 public:
  virtual ~LiveSink() = default;
  // A batch with at least one event matching one of the sink's
  // subscriptions. Called on the publishing thread.
  virtual void Deliver(std::shared_ptr<const LiveBatch> batch) = 0;
  // The server is shutting down: close (WebSocket code 1001).
  virtual void Shutdown() = 0;
};

class Hub : public ChangeHub {
 public:
  // `head`: the store's head when the hub starts; nothing at or before it
  // will be published.
  explicit Hub(uint64_t head, LiveRenderer renderer = {});
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Registers a sink; returns its id for the calls below. After Shutdown
  // the sink is told to shut down at once and 0 is returned.
  uint64_t Attach(std::weak_ptr<LiveSink> sink);
  // Forgets a sink and its subscriptions. Idempotent.
  void Detach(uint64_t sink_id);

  // Adds (or replaces) one subscription of a sink and returns the last
  // published position H, atomically: every later batch with an event
  // matching `filter` reaches the sink; events <= H were published before
  // and are in the store. With `at_h`, also the State after H when the hub
  // holds it (the last batch published with one), else null: no replay
  // needed to know what the subscriber sees first.
  uint64_t AddSubscription(uint64_t sink_id, const std::string& sub,
                           const LiveFilter& filter,
                           std::shared_ptr<const State>* at_h = nullptr);
  void RemoveSubscription(uint64_t sink_id, const std::string& sub);

  // Describes an event with the hub's renderer, goal views computed at the
  // event's `at` (see DescribeEvent). Used for live traffic and for replay,
  // so both render the same way.
  LiveEvent Describe(const State& after, const Event& event) const;

  // ChangeHub: describes every event against `changes->state` (goal views
  // of a multi-event batch are as of the batch's end) and publishes them.
  // With no subscription at all it only advances the last published
  // position (nothing is described).
  void Publish(std::shared_ptr<const ChangeSet> changes) override;
  // Publishes described events (see the class comment). Events at or
  // before the last published position are ignored.
  void PublishBatch(std::shared_ptr<const LiveBatch> batch);

  uint64_t last_published() const;
  size_t sink_count() const;

  // Tells every sink to close with 1001; later Attach calls are refused.
  void Shutdown();

 private:
  struct SinkEntry {
    std::weak_ptr<LiveSink> sink;
    std::map<std::string, LiveFilter> subs;
  };

  const LiveRenderer renderer_;
  mutable std::mutex mu_;
  uint64_t last_published_;  // guarded by mu_
  // The State after last_published_, when it came with one; guarded by mu_.
  std::shared_ptr<const State> last_state_;
  uint64_t next_id_ = 1;                 // guarded by mu_
  bool shut_down_ = false;               // guarded by mu_
  std::map<uint64_t, SinkEntry> sinks_;  // guarded by mu_
};

}  // namespace cairn::gateway
