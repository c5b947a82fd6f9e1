// Fuzzes the request-body parsers of every write endpoint (command_json.hpp)
// and then Decide against the demo company, so the domain's validation runs
// on whatever the parsers let through.
//
// Input: three header bytes, then the body.
//   [0] which parser (mod 14, in the order of kParsers below)
//   [1] the path id for parsers that take one: an id of the demo State that
//       suits the endpoint (goal, unit, cycle, metric, token), or an unknown
//       id for the last index
//   [2] who writes: admin, editor, editor scoped to a unit, viewer (mod 4)
// Checks: no crash; a success from Decide is events with valid stream names
// and JSON object data that Apply folds in without crashing.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/command_json.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/demo.hpp"
#include "cairn/core/event.hpp"
#include "cairn/core/time.hpp"

namespace {

using cairn::Command;
using cairn::Result;

enum class IdKind { kNone, kUnit, kCycle, kGoal, kMetric, kToken };

struct Parser {
  IdKind id;
  Result<Command> (*with_id)(std::string_view, std::string_view);
  Result<Command> (*body_only)(std::string_view);
};

Result<Command> RevokeToken(std::string_view id, std::string_view) {
  return cairn::ParseRevokeToken(id);
}

const Parser kParsers[] = {
    {IdKind::kNone, nullptr, cairn::ParseCreateUnit},
    {IdKind::kUnit, cairn::ParseEditUnit, nullptr},
    {IdKind::kNone, nullptr, cairn::ParseCreateCycle},
    {IdKind::kCycle, cairn::ParseCloseCycle, nullptr},
    {IdKind::kNone, nullptr, cairn::ParseCreateGoal},
    {IdKind::kGoal, cairn::ParseEditGoal, nullptr},
    {IdKind::kGoal, cairn::ParseChangeGoalStatus, nullptr},
    {IdKind::kGoal, cairn::ParseCheckIn, nullptr},
    {IdKind::kGoal, cairn::ParseDecompose, nullptr},
    {IdKind::kNone, nullptr, cairn::ParseNoteRetro},
    {IdKind::kNone, nullptr, cairn::ParseDefineMetric},
    {IdKind::kMetric, cairn::ParseRecordMetric, nullptr},
    {IdKind::kNone, nullptr, cairn::ParseCreateToken},
    {IdKind::kToken, RevokeToken, nullptr},
};
constexpr size_t kParserCount = sizeof(kParsers) / sizeof(kParsers[0]);

struct World {
  cairn::State state;
  cairn::Millis now = 0;
  std::vector<std::string> units, cycles, goals, metrics, tokens;
};

template <typename Map>
std::vector<std::string> Keys(const Map& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

// The demo company decided and applied in memory, the way the store would.
World MakeWorld() {
  World w;
  w.now = *cairn::ParseTime("2026-05-15T12:00:00.000Z");
  std::map<std::string, uint64_t> versions;
  for (auto& [ctx, cmd] : cairn::DemoCommands(w.now)) {
    auto pending = cairn::Decide(w.state, cmd, ctx);
    if (!pending) std::abort();
    for (const cairn::PendingEvent& p : *pending) {
      cairn::Event e;
      e.position = w.state.position + 1;
      e.stream = p.stream;
      e.version = ++versions[p.stream];
      e.type = p.type;
      e.id = "ev" + std::to_string(e.position);
      e.at = ctx.now;
      e.actor = ctx.actor;
      e.data = p.data;
      cairn::Apply(w.state, e);
    }
  }
  w.units = Keys(w.state.units);
  w.cycles = Keys(w.state.cycles);
  w.goals = Keys(w.state.goals);
  w.metrics = Keys(w.state.metrics);
  w.tokens = Keys(w.state.tokens);
  if (w.units.empty() || w.goals.empty()) std::abort();
  return w;
}

std::string PickId(const World& w, IdKind kind, uint8_t b) {
  const std::vector<std::string>* ids = nullptr;
  switch (kind) {
    case IdKind::kNone:
      return "";
    case IdKind::kUnit:
      ids = &w.units;
      break;
    case IdKind::kCycle:
      ids = &w.cycles;
      break;
    case IdKind::kGoal:
      ids = &w.goals;
      break;
    case IdKind::kMetric:
      ids = &w.metrics;
      break;
    case IdKind::kToken:
      ids = &w.tokens;
      break;
  }
  size_t i = b % (ids->size() + 1);
  return i < ids->size() ? (*ids)[i] : "no-such-id";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const World world = MakeWorld();
  if (size < 3) return 0;
  const Parser& p = kParsers[data[0] % kParserCount];
  std::string id = PickId(world, p.id, data[1]);
  std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);
  Result<Command> cmd =
      p.with_id != nullptr ? p.with_id(id, body) : p.body_only(body);
  if (!cmd) {
    if (cmd.error().code != cairn::ErrorCode::kBadJson &&
        cmd.error().code != cairn::ErrorCode::kValidationFailed) {
      std::abort();
    }
    return 0;
  }

  cairn::CommandContext ctx;
  ctx.actor = "fuzz";
  ctx.now = world.now;
  switch (data[2] % 4) {
    case 0:
      ctx.role = cairn::Role::kAdmin;
      break;
    case 1:
      ctx.role = cairn::Role::kEditor;
      break;
    case 2:
      ctx.role = cairn::Role::kEditor;
      ctx.scope_unit = world.units[data[2] / 4 % world.units.size()];
      break;
    default:
      ctx.role = cairn::Role::kViewer;
      break;
  }
  auto pending = cairn::Decide(world.state, *cmd, ctx);
  if (!pending) return 0;
  if (pending->empty()) return 0;

  thread_local simdjson::dom::parser parser;
  cairn::State after = world.state;
  for (const cairn::PendingEvent& pe : *pending) {
    if (!cairn::IsValidStreamName(pe.stream)) std::abort();
    simdjson::dom::element doc;
    if (parser.parse(pe.data).get(doc) != simdjson::SUCCESS ||
        !doc.is_object()) {
      std::fprintf(stderr, "%s %s: bad data %s\n", pe.stream.c_str(),
                   pe.type.c_str(), pe.data.c_str());
      std::abort();
    }
    cairn::Event e;
    e.position = after.position + 1;
    e.stream = pe.stream;
    e.version = pe.expected_version + 1;
    e.type = pe.type;
    e.id = "ev" + std::to_string(e.position);
    e.at = ctx.now;
    e.actor = ctx.actor;
    e.data = pe.data;
    cairn::Apply(after, e);
  }
  return 0;
}
