#include "hub.hpp"

#include <algorithm>
#include <utility>

namespace cairn::gateway {

Hub::Hub(uint64_t head, LiveRenderer renderer)
    : renderer_(std::move(renderer)), last_published_(head) {}

uint64_t Hub::Attach(std::weak_ptr<LiveSink> sink) {
  {
    std::lock_guard lock(mu_);
    if (!shut_down_) {
      const uint64_t id = next_id_++;
      sinks_[id].sink = std::move(sink);
      return id;
    }
  }
  if (auto s = sink.lock()) s->Shutdown();
  return 0;
}

void Hub::Detach(uint64_t sink_id) {
  std::lock_guard lock(mu_);
  sinks_.erase(sink_id);
}

uint64_t Hub::AddSubscription(uint64_t sink_id, const std::string& sub,
                              const LiveFilter& filter,
                              std::shared_ptr<const State>* at_h) {
  std::lock_guard lock(mu_);
  auto it = sinks_.find(sink_id);
  if (it != sinks_.end()) it->second.subs[sub] = filter;
  if (at_h != nullptr) {
    *at_h = last_state_ && last_state_->position == last_published_
                ? last_state_
                : nullptr;
  }
  return last_published_;
}

void Hub::RemoveSubscription(uint64_t sink_id, const std::string& sub) {
  std::lock_guard lock(mu_);
  auto it = sinks_.find(sink_id);
  if (it != sinks_.end()) it->second.subs.erase(sub);
}

LiveEvent Hub::Describe(const State& after, const Event& event) const {
  return DescribeEvent(after, event, event.at, renderer_);
}

void Hub::Publish(std::shared_ptr<const ChangeSet> changes) {
  if (!changes || changes->events.empty() || !changes->state) return;
  {
    // No subscription anywhere: nothing to describe or deliver. The
    // position still advances (atomically with the check), so a
    // subscription added later starts after these events and replays them
    // from the store.
    std::lock_guard lock(mu_);
    bool listening = false;
    for (const auto& [id, entry] : sinks_) {
      if (!entry.subs.empty()) {
        listening = true;
        break;
      }
    }
    if (!listening) {
      if (changes->events.back().position > last_published_) {
        last_published_ = changes->events.back().position;
        last_state_ = changes->state;
      }
      return;
    }
  }
  auto batch = std::make_shared<LiveBatch>();
  batch->state = changes->state;
  batch->events.reserve(changes->events.size());
  for (const Event& e : changes->events) {
    batch->events.push_back(Describe(*changes->state, e));
  }
  PublishBatch(std::move(batch));
}

void Hub::PublishBatch(std::shared_ptr<const LiveBatch> change_set) {
  if (!change_set || change_set->events.empty()) return;
  std::vector<std::shared_ptr<LiveSink>> targets;
  {
    std::lock_guard lock(mu_);
    if (change_set->last_position() <= last_published_) return;
    last_published_ = change_set->last_position();
    last_state_ = change_set->state;
    // A revoked token's sessions close whatever they subscribe to.
    const bool revokes = std::any_of(
        change_set->events.begin(), change_set->events.end(),
        [](const LiveEvent& e) { return !e.revoked_token.empty(); });
    for (auto it = sinks_.begin(); it != sinks_.end();) {
      std::shared_ptr<LiveSink> sink = it->second.sink.lock();
      if (!sink) {
        it = sinks_.erase(it);
        continue;
      }
      bool match = revokes;
      for (const auto& [sub, filter] : it->second.subs) {
        if (match) break;
        for (const LiveEvent& e : change_set->events) {
          if (Matches(filter, e)) {
            match = true;
            break;
          }
        }
      }
      if (match) targets.push_back(std::move(sink));
      ++it;
    }
  }
  // Outside the lock: subscribing never waits for a fan-out.
  for (const auto& sink : targets) sink->Deliver(change_set);
}

uint64_t Hub::last_published() const {
  std::lock_guard lock(mu_);
  return last_published_;
}

size_t Hub::sink_count() const {
  std::lock_guard lock(mu_);
  return sinks_.size();
}

void Hub::Shutdown() {
  std::vector<std::shared_ptr<LiveSink>> all;
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    for (auto& [id, entry] : sinks_) {
      if (auto s = entry.sink.lock()) all.push_back(std::move(s));
    }
  }
  for (const auto& s : all) s->Shutdown();
}

}  // namespace cairn::gateway
