// The endpoint handlers of API.md and the helpers they share. Each handler
// gets one authenticated Call and replies exactly once through call.reply,
// now (reads) or later from the writer thread (writes).
//
//   void GetGoal(Call call);   // GET /api/v1/goals/{id}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth.hpp"
#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/partial_state.hpp"
#include "router.hpp"
#include "sequencer.hpp"
#include "services.hpp"

namespace cairn::gateway {

struct Call {
  Services* services = nullptr;
  Request request;
  Principal principal;
  std::vector<std::string> params;  // the {} segments of the route, decoded
  std::string route;                // the route pattern, for logs/metrics
  Reply reply;                      // sets route and actor, then answers
};

using Handler = void (*)(Call call);

// --- helpers (handlers/common.cpp) ---

// The State a read answers from (the head, or `as_of`), and the clock its
// pacing uses (`now`, default the server clock or the as_of time). With
// `part`, an `as_of` State may hold only what `part` picks
// (TimeTravel::PartialStateAt): for views of some units' goals.
struct ReadView {
  std::shared_ptr<const State> state;
  Millis now = 0;
};
Result<ReadView> ViewFor(const Call& call, const UnitsOf* part = nullptr);
// The JSON response of `body` with status and an optional ETag version.
Response JsonResponse(unsigned status, std::string body,
                      std::optional<uint64_t> etag_version = std::nullopt);
// True when the principal's scope covers `unit` in `state`.
bool InScope(const Call& call, const State& state, const std::string& unit);
// Hands a parsed command to the Sequencer (If-Match, Idempotency-Key,
// content type checked here) and answers with `render`'s response.
// `precheck` (may be empty) runs on the writer thread before Decide.
void SubmitWrite(
    Call call, Result<Command> command, Renderer render, bool idempotent = true,
    std::function<std::optional<Error>(const State&)> precheck = {});
// A precheck: 404 when goal `id` does not exist or lies outside `scope`.
std::function<std::optional<Error>(const State&)> GoalVisible(
    std::string id, std::string scope);
// A precheck: 404 when unit `id` lies outside `scope` (an unknown unit is
// left to Decide).
std::function<std::optional<Error>(const State&)> UnitVisible(
    std::string id, std::string scope);
// The query parameter or "" when absent.
std::string QueryParam(const Call& call, const std::string& name);

// --- operations (handlers/ops.cpp) ---
void GetHealth(Call call);
void GetMetrics(Call call);
void ListEvents(Call call);
void CreateTokenHandler(Call call);
// GET /api/v1/me: the token's own name, role and unit scope.
void GetMe(Call call);
void ListTokens(Call call);
void RevokeTokenHandler(Call call);
void AdminBackup(Call call);

// --- writes (handlers/writes.cpp) ---
void CreateUnitHandler(Call call);
void EditUnitHandler(Call call);
void CreateCycleHandler(Call call);
void CloseCycleHandler(Call call);
void CreateGoalHandler(Call call);
void EditGoalHandler(Call call);
void ChangeGoalStatusHandler(Call call);
void CheckInHandler(Call call);
void DecomposeHandler(Call call);
void NoteRetroHandler(Call call);
void DefineMetricHandler(Call call);
void RecordMetricHandler(Call call);

// --- reads (handlers/reads.cpp) ---
void ListUnits(Call call);
void GetUnit(Call call);
void ListCycles(Call call);
void GetCycle(Call call);
void ListGoals(Call call);
void GetGoal(Call call);
void GetGoalHistory(Call call);
void ListMetrics(Call call);
void GetMetric(Call call);
void GetBoard(Call call);
void GetScorecard(Call call);
void GetRetro(Call call);
void GetDiff(Call call);

}  // namespace cairn::gateway
