// Request bodies (JSON) to Commands, one parser per write endpoint of the
// contract (../shared/API.md). The gateway calls these; Decide then checks
// the domain rules.
//
//   Result<Command> cmd = ParseCreateGoal(body);
//   if (!cmd) return Reply(cmd.error());   // 400 bad_json / 422 + field
//   auto events = Decide(state, *cmd, ctx);
//
// Shape only: invalid JSON or invalid UTF-8 is kBadJson; a body that is not
// an object, an unknown member (never stored), a wrong type, an unknown enum
// name or a malformed date/time is kValidationFailed naming the member
// ("measure.target", "parts[1].weight"). JSON null counts as absent, except
// in ParseEditGoal where it clears an optional member (description, owner,
// parent, perspective, due, measure, measure.stretch/unit/metric).
// Path parameters (ids in the URL) are taken as given; Decide answers
// not_found for unknown ones. Thread-safe (one parser per thread).
#pragma once

#include <string_view>

#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"

namespace cairn {

// POST /units {"id"?, "name", "kind", "parent"?}
Result<Command> ParseCreateUnit(std::string_view body);
// PATCH /units/{id} {"name"?, "parent"?}
Result<Command> ParseEditUnit(std::string_view id, std::string_view body);
// POST /cycles {"id"?, "name", "kind", "start", "end", "parent"?}
Result<Command> ParseCreateCycle(std::string_view body);
// POST /cycles/{id}/close (the body is empty or {})
Result<Command> ParseCloseCycle(std::string_view id, std::string_view body);
// POST /goals
Result<Command> ParseCreateGoal(std::string_view body);
// PATCH /goals/{id}
Result<Command> ParseEditGoal(std::string_view id, std::string_view body);
// POST /goals/{id}/status {"status", "reason"?}
Result<Command> ParseChangeGoalStatus(std::string_view id,
                                      std::string_view body);
// POST /goals/{id}/check-ins {"value"?, "confidence"?, "note"?, "at"?}
Result<Command> ParseCheckIn(std::string_view id, std::string_view body);
// POST /goals/{id}/decompose {"by", ...}
Result<Command> ParseDecompose(std::string_view id, std::string_view body);
// POST /retro/notes {"unit", "cycle", "goal"?, "kind", "text"}
Result<Command> ParseNoteRetro(std::string_view body);
// POST /metrics {"id"?, "name", "unit"?, "aggregate"?}
Result<Command> ParseDefineMetric(std::string_view body);
// POST /metrics/{id}/values {"points": [{"ts", "value"}], "source"?}
Result<Command> ParseRecordMetric(std::string_view id, std::string_view body);
// POST /tokens {"name", "role", "unit"?}. The result's secret_hash is empty:
// the gateway makes the secret and sets std::get<CreateToken>(cmd).secret_hash.
Result<Command> ParseCreateToken(std::string_view body);
// DELETE /tokens/{name}
Result<Command> ParseRevokeToken(std::string_view name);

}  // namespace cairn
