// The writes of the contract (../shared/API.md) as plain values.
//
//   Command cmd = CreateGoal{.id = "kr-cac", .kind = GoalKind::kKeyResult,
//                            .title = "Cut CAC to $150", ...};
//   CommandContext ctx{.actor = "alice", .now = NowMillis(),
//                      .role = Role::kEditor};
//   Result<std::vector<PendingEvent>> events = Decide(state, cmd, ctx);
//
// A Command carries what the request said, already shape-checked (types,
// enums parsed) by command_json.hpp; every domain rule is checked by Decide
// (decide.hpp). Optional fields are std::optional; absent means "not given".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cairn/core/model.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

// Who writes, when, with what rights. Filled by the gateway per request.
struct CommandContext {
  std::string actor{};  // the token's name
  Millis now = 0;       // the server clock for this command
  Role role = Role::kViewer;
  std::string scope_unit{};  // the token's unit; empty = whole organisation
  // Base for ids the server generates when the client gave none. Decide
  // makes ids from it (plus a counter) and never repeats one that exists.
  // Empty: derived from `now` and the state's position (sortable by time).
  std::string id_seed{};
  // If-Match: the version the client expects the target entity to have.
  // Default: none (the write applies to the latest version).
  std::optional<uint64_t> if_match{};
};

// --- Units (admin) ---
struct CreateUnit {
  std::string id{};  // empty: generated
  std::string name{};
  std::optional<UnitKind> kind{};
  std::string parent{};  // empty only for the root
};
struct EditUnit {
  std::string id{};
  std::optional<std::string> name{};
  std::optional<std::string> parent{};
};

// --- Cycles (admin) ---
struct CreateCycle {
  std::string id{};  // empty: generated
  std::string name{};
  std::optional<CycleKind> kind{};
  std::optional<Day> start{};
  std::optional<Day> end{};  // inclusive
  std::string parent{};
};
struct CloseCycle {
  std::string id{};
};

// --- Goals ---
// The measure as given on create. Absent numbers take defaults (start 0;
// binary target 1); Decide checks the rest.
struct MeasureInput {
  std::optional<double> start{};
  std::optional<double> target{};
  std::optional<double> stretch{};
  std::optional<Direction> direction{};  // default increase
  std::string unit{};
  std::string metric{};
  std::optional<Aggregate> aggregate{};  // default last
};

struct CreateGoal {
  std::string id{};  // empty: generated
  std::optional<GoalKind> kind{};
  std::string title{};
  std::string description{};
  std::string unit{};
  std::string cycle{};
  std::string owner{};
  std::string parent{};
  std::optional<double> weight{};  // default 1
  bool committed = false;
  Perspective perspective = Perspective::kNone;
  std::optional<Day> due{};
  std::optional<MeasureInput> measure{};
  std::optional<GoalStatus> status{};  // draft, proposed or active (default)
};

// A partial measure for PATCH: each given member replaces the stored one.
// `clear_*` removes an optional member (JSON null).
struct MeasurePatch {
  std::optional<double> start{};
  std::optional<double> target{};
  std::optional<double> stretch{};
  bool clear_stretch = false;
  std::optional<Direction> direction{};
  std::optional<std::string> unit{};
  std::optional<std::string> metric{};  // "" unbinds
  std::optional<Aggregate> aggregate{};
};

// PATCH: each field optional; only real changes produce an event. Strings
// set to "" clear (description, owner, parent); perspective kNone clears.
struct EditGoal {
  std::string id{};
  std::optional<std::string> title{};
  std::optional<std::string> description{};
  std::optional<std::string> owner{};
  std::optional<std::string> parent{};
  std::optional<double> weight{};
  std::optional<bool> committed{};
  std::optional<Perspective> perspective{};
  std::optional<std::optional<Day>> due{};  // has_value + nullopt = clear
  std::optional<MeasurePatch> measure{};
  bool clear_measure = false;  // "measure": null
  // "rescale_parts": true: for a split goal whose start or target changes,
  // its parts' targets follow (shares kept; goal.edited on each).
  bool rescale_parts = false;
  std::string reason{};
};

struct ChangeGoalStatus {
  std::string id{};
  std::optional<GoalStatus> status{};
  std::string reason{};
};

// POST /goals/{id}/check-ins (the model's record of it is CheckIn).
struct AddCheckIn {
  std::string goal{};
  std::optional<double> value{};
  std::optional<int64_t> confidence{};  // 0..10
  std::string note{};
  std::optional<Millis> at{};  // default: ctx.now
  // Position of an earlier check-in of this goal that this one corrects
  // (events are never rewritten; history shows both). Default: none.
  std::optional<int64_t> correction_of{};
};

enum class SplitInto { kMonth, kWeek, kDay };

struct OwnerPart {
  std::string unit{};
  std::string owner{};
  std::optional<double> weight{};
};
struct FunnelStage {
  std::string name{};
  std::optional<double> rate{};  // required for every stage but the first
};

struct Decompose {
  std::string goal{};
  SplitBy by = SplitBy::kNone;
  // by time
  std::optional<SplitInto> into{};
  std::optional<std::vector<double>> weights{};
  bool working_days = false;
  // by time and owners
  bool integer = false;
  // by owners
  std::vector<OwnerPart> parts{};
  // by funnel
  std::vector<FunnelStage> stages{};
};

struct NoteRetro {
  std::string unit{};
  std::string cycle{};
  std::string goal{};
  std::optional<RetroNoteKind> kind{};
  std::string text{};
};

// --- Metrics ---
struct DefineMetric {
  std::string id{};  // empty: generated
  std::string name{};
  std::string unit{};
  std::optional<Aggregate> aggregate{};  // default last
};
constexpr size_t kMaxMetricPoints = 10'000;
struct RecordMetric {
  std::string id{};
  std::vector<MetricPoint> points{};  // 1..kMaxMetricPoints
  std::string source{};
};

// --- Tokens (admin) ---
// The name the server's start-up admin token (--admin-token) acts as; no
// created token may take it, so that an actor name in the log is one token
// and revoking a token never touches the start-up admin's sessions.
inline constexpr std::string_view kStartupAdminName = "admin";

struct CreateToken {
  std::string name{};
  std::optional<Role> role{};
  std::string unit{};
  std::string secret_hash{};  // 64 lowercase hex; the gateway hashes
};
struct RevokeToken {
  std::string name{};
};

using Command =
    std::variant<CreateUnit, EditUnit, CreateCycle, CloseCycle, CreateGoal,
                 EditGoal, ChangeGoalStatus, AddCheckIn, Decompose, NoteRetro,
                 DefineMetric, RecordMetric, CreateToken, RevokeToken>;

// Lower-case contract names of the enums, and their parsers (nullopt when
// the name is unknown).
const char* UnitKindName(UnitKind k);
const char* CycleKindName(CycleKind k);
const char* GoalKindName(GoalKind k);
const char* DirectionName(Direction d);
const char* AggregateName(Aggregate a);
const char* GoalStatusName(GoalStatus s);
const char* PerspectiveName(Perspective p);  // "" for kNone
const char* SplitByName(SplitBy s);          // "" for kNone
const char* SplitIntoName(SplitInto s);
const char* RoleName(Role r);
const char* RetroNoteKindName(RetroNoteKind k);
std::optional<UnitKind> ParseUnitKind(std::string_view s);
std::optional<CycleKind> ParseCycleKind(std::string_view s);
std::optional<GoalKind> ParseGoalKind(std::string_view s);
std::optional<Direction> ParseDirection(std::string_view s);
std::optional<Aggregate> ParseAggregate(std::string_view s);
std::optional<GoalStatus> ParseGoalStatus(std::string_view s);
std::optional<Perspective> ParsePerspective(std::string_view s);
std::optional<SplitBy> ParseSplitBy(std::string_view s);
std::optional<SplitInto> ParseSplitInto(std::string_view s);
std::optional<Role> ParseRole(std::string_view s);
std::optional<RetroNoteKind> ParseRetroNoteKind(std::string_view s);

}  // namespace cairn
