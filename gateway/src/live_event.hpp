// What the live hub publishes: each durable event with the goal views it
// changed and what it touches, described once by the writer and shared by
// every WebSocket session (../shared/API.md, "Live updates").
//
//   // Writer side (Hub::Publish does this), after Apply(state, e):
//   auto batch = std::make_shared<LiveBatch>();
//   batch->events.push_back(DescribeEvent(state, e, e.at));
//   hub.PublishBatch(std::move(batch));
//
//   // Any thread: does a subscription want it?
//   LiveFilter f{.unit = "sales", .depth = 1, .cycle = "2026-q1"};
//   if (Matches(f, live_event)) ...
//
// Goal responses are rendered once per event (as of that event) and shared
// read-only. Touches carry each touched unit with its ancestor chain, so a
// subscription (unit + depth + cycle) matches without looking at the State.
// Everything here is an immutable value once built; thread-safe to read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cairn/core/event.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn::gateway {

// Something an event touches. `units` is the touched unit followed by its
// ancestors up to the root (empty: every unit, e.g. a cycle event); `cycle`
// empty means every cycle (e.g. a unit event).
struct LiveTouch {
  std::vector<std::string> units;
  std::string cycle;
};

// One goal response as of an event, rendered once.
struct LiveGoal {
  std::string id;
  LiveTouch where;   // the goal's unit chain and cycle
  std::string json;  // the goal response (API.md, "Goals")
};

struct LiveEvent {
  uint64_t position = 0;
  std::string envelope;  // EncodeEnvelope of the stored event
  // A goal's event: the goal's unit chain, and the envelope without what a
  // subscription outside that chain may not read (it gets the event only
  // for a goal of its own that the event changed, a parent's roll-up):
  // position, stream, version, type, id, at, "withheld": true and empty
  // data. Empty for other events (the envelope goes to every match).
  std::vector<std::string> own_units;
  std::string withheld_envelope;
  std::vector<LiveTouch> touches;
  std::vector<std::shared_ptr<const LiveGoal>> goals;
  // token.revoked: the token's name. Delivered to every session (Hub), and
  // the sessions of that token close (4001 "token revoked").
  std::string revoked_token;
};

// Described events of one durable write, in position order (never empty
// when published). Shared read-only by every session it is delivered to;
// Shared() lets them share the bytes they send as well.
struct LiveBatch {
  std::vector<LiveEvent> events;
  // The State after the last event, when the publisher has it (Hub::Publish
  // sets it); a subscription registered at that position starts from it.
  std::shared_ptr<const State> state;
  uint64_t last_position() const {
    return events.empty() ? 0 : events.back().position;
  }

  // The message `render()` makes for events[index] and `key`, made by the
  // first caller with that (index, key) and shared with every later one:
  // 10,000 sessions with the same subscription send one rendered string.
  // `key` must identify everything `render` depends on besides the event
  // (e.g. the sub id and the filter). Thread-safe; `index` < events.size().
  template <typename Render>
  std::shared_ptr<const std::string> Shared(size_t index,
                                            const std::string& key,
                                            Render&& render) const {
    std::lock_guard lock(cache_mu_);
    std::vector<std::shared_ptr<const std::string>>& slots = cache_[key];
    if (slots.size() < events.size()) slots.resize(events.size());
    std::shared_ptr<const std::string>& slot = slots[index];
    if (!slot) slot = std::make_shared<const std::string>(render());
    return slot;
  }

 private:
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string,
                             std::vector<std::shared_ptr<const std::string>>>
      cache_;  // guarded by cache_mu_
};

// A subscription's scope: `unit` and its sub-units down to `depth` levels
// (-1: all levels), goals of `cycle` (empty: every cycle).
struct LiveFilter {
  std::string unit;
  int depth = 0;
  std::string cycle;
};

// True when `where` lies inside the filter's scope.
bool InScope(const LiveFilter& filter, const LiveTouch& where);
// True when any of the event's touches lies inside the filter's scope.
bool Matches(const LiveFilter& filter, const LiveEvent& event);
// The envelope a subscription with `filter` gets: the whole one, or for an
// event of a goal outside the filter's unit subtree (any depth) the
// withheld one. The filter's unit lies inside its token's scope, so what
// a token may not read over REST never reaches it here either.
std::string_view EnvelopeFor(const LiveFilter& filter, const LiveEvent& event);

// Pluggable parts of describing an event; the defaults below are used for
// every member left empty.
struct LiveRenderer {
  // Goal ids whose response changed with `event` (applied to `after`):
  // the goal itself, parents whose roll-up moved, goals bound to a recorded
  // metric, children of a decomposition.
  std::function<std::vector<std::string>(const State& after, const Event&)>
      goals_touched_by;
  // The goal response JSON as of `after`, computed at `now`.
  std::function<std::string(const State& after, const Goal&, Millis now)>
      write_goal;
};

// Describes `event` as the live hub publishes it. `after` is the State with
// the event applied; `now` is the clock the goal views are computed at (the
// event's `at`, so that replay renders exactly what live traffic rendered).
LiveEvent DescribeEvent(const State& after, const Event& event, Millis now,
                        const LiveRenderer& renderer = {});

// Default goals_touched_by: the event's goal and its ancestors, every goal
// bound to a recorded metric and their ancestors, a decomposed goal's
// children.
std::vector<std::string> DefaultGoalsTouchedBy(const State& after,
                                               const Event& event);
// Default write_goal: a goal response with the contract's identity, measure
// and grade members.
std::string DefaultWriteGoal(const State& after, const Goal& goal, Millis now);

// `unit` followed by its ancestors (stops at a missing unit or a loop).
std::vector<std::string> UnitChain(const State& state, const std::string& unit);

}  // namespace cairn::gateway
