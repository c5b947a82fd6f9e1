// Decide: the domain's rules. Given the State and one Command, either the
// events the command appends or the error that refuses it.
//
//   Result<std::vector<PendingEvent>> r = Decide(state, cmd, ctx);
//   if (!r) return r.error();     // 4xx: nothing is appended
//   for (auto& p : *r) ...        // append all (one batch), then Apply each
//
// Pure and deterministic: no I/O, no clock (ctx.now), no randomness
// (generated ids come from ctx.id_seed / ctx.now and the State). An empty
// vector is a success that changes nothing (a PATCH without changes).
// Errors carry the contract code and, where one input is to blame, its field
// as the request names it ("measure.target", "parts[1].weight").
// Authorization rules that are domain rules live here: viewers write
// nothing; units, cycles and tokens are admin-only; a scoped token writes
// only inside its unit's subtree; `proposed -> active` needs an editor whose
// scope covers the parent goal's unit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"

namespace cairn {

// One event to append. The store assigns position, version (= expected
// version + 1), id, at and actor (ctx.actor).
struct PendingEvent {
  std::string stream;  // "goal-kr-cac"
  std::string type;    // "goal.checked_in"
  std::string data;    // compact JSON object
  // The stream's version before this event (0: a new stream). Several events
  // on one stream in one result count up.
  uint64_t expected_version = 0;
  bool operator==(const PendingEvent&) const = default;
};

[[nodiscard]] Result<std::vector<PendingEvent>> Decide(
    const State& state, const Command& command, const CommandContext& ctx);

// True when `unit` is `scope` or lies under it (an empty scope covers all).
bool UnitInScope(const State& state, const std::string& scope,
                 const std::string& unit);

// The unit whose editors approve `goal` (proposed -> active: the manager
// agrees to what the employee proposed): its parent goal's unit, else its
// own unit's parent, else its own unit.
std::string ApproverUnit(const State& state, const Goal& goal);

}  // namespace cairn
