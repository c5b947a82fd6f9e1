// A store in memory for domain tests: decides a command, appends the events
// the way the event store does (position, stream version, id, at, actor),
// and applies them to the live State.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/event.hpp"

namespace cairn::testing {

class Harness {
 public:
  // Decide + append + apply. On success returns the appended events.
  Result<std::vector<Event>> Run(const Command& cmd,
                                 const CommandContext& ctx) {
    auto pending = Decide(state_, cmd, ctx);
    if (!pending) return pending.error();
    std::vector<Event> out;
    std::map<std::string, uint64_t> next = versions_;
    for (const PendingEvent& p : *pending) {
      uint64_t& v = next[p.stream];
      if (v != p.expected_version) {
        return Error::Internal("expected version " +
                               std::to_string(p.expected_version) + " of " +
                               p.stream + ", store has " + std::to_string(v));
      }
      Event e;
      e.position = log_.size() + out.size() + 1;
      e.stream = p.stream;
      e.version = ++v;
      e.type = p.type;
      e.id = "ev" + std::to_string(e.position);
      at_ = std::max(at_, ctx.now);  // `at` never decreases with position
      e.at = at_;
      e.actor = ctx.actor;
      e.data = p.data;
      out.push_back(std::move(e));
    }
    versions_ = std::move(next);
    for (const Event& e : out) {
      Apply(state_, e);
      log_.push_back(e);
    }
    return out;
  }

  const State& state() const { return state_; }
  const std::vector<Event>& log() const { return log_; }

  // The State rebuilt from the log alone.
  State Replay() const {
    State s;
    for (const Event& e : log_) Apply(s, e);
    return s;
  }

 private:
  State state_;
  std::vector<Event> log_;
  std::map<std::string, uint64_t> versions_;
  Millis at_ = 0;
};

inline CommandContext Admin(Millis now, std::string actor = "admin") {
  CommandContext c;
  c.actor = std::move(actor);
  c.now = now;
  c.role = Role::kAdmin;
  return c;
}
inline CommandContext Editor(Millis now, std::string actor = "editor",
                             std::string scope = "") {
  CommandContext c;
  c.actor = std::move(actor);
  c.now = now;
  c.role = Role::kEditor;
  c.scope_unit = std::move(scope);
  return c;
}

}  // namespace cairn::testing
