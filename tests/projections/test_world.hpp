// A State built the way the server builds it: request bodies parsed into
// Commands, decided, and the resulting events applied in position order.
//
//   World w(*ParseTime("2026-02-01T00:00:00Z"));
//   w.Do(ParseCreateUnit(R"({"id":"co","name":"Co","kind":"company"})"));
//   const State& s = w.state();
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/command_json.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/event.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"

namespace cairn::testing {

class World {
 public:
  explicit World(Millis now) : now_(now) {}

  // Decides and applies one command as an admin; fails the test on error.
  // Returns the events appended.
  std::vector<Event> Do(const Result<Command>& cmd) {
    EXPECT_TRUE(cmd.ok()) << (cmd.ok() ? "" : cmd.error().message);
    if (!cmd.ok()) return {};
    CommandContext ctx;
    ctx.actor = "alice";
    ctx.now = now_;
    ctx.role = Role::kAdmin;
    auto events = Decide(state_, *cmd, ctx);
    EXPECT_TRUE(events.ok())
        << (events.ok() ? ""
                        : events.error().field + ": " + events.error().message);
    std::vector<Event> out;
    if (!events.ok()) return out;
    for (const PendingEvent& p : *events) {
      Event e;
      e.position = state_.position + 1;
      e.stream = p.stream;
      e.version = p.expected_version + 1;
      e.type = p.type;
      e.id = "ev" + std::to_string(e.position);
      e.at = now_;
      e.actor = ctx.actor;
      e.data = p.data;
      Apply(state_, e);
      out.push_back(e);
    }
    return out;
  }

  void Advance(Millis ms) { now_ += ms; }
  void SetNow(Millis now) { now_ = now; }
  Millis now() const { return now_; }
  const State& state() const { return state_; }

 private:
  State state_;
  Millis now_;
};

// Parses the writer's output; fails the test when it is not valid JSON.
inline simdjson::dom::element ParseJson(simdjson::dom::parser& parser,
                                        const std::string& json) {
  simdjson::dom::element doc;
  auto err = parser.parse(json).get(doc);
  EXPECT_FALSE(err) << simdjson::error_message(err) << "\n" << json;
  return doc;
}

// The member names of an object, in order.
inline std::vector<std::string> Keys(simdjson::dom::element e) {
  std::vector<std::string> keys;
  simdjson::dom::object o;
  if (e.get(o)) return keys;
  for (auto field : o) keys.emplace_back(field.key);
  return keys;
}

}  // namespace cairn::testing
