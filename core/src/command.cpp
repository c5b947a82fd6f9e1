#include "cairn/core/command.hpp"

#include <array>

namespace cairn {

namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::array<const char*, N>& names,
                        std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i][0] != '\0' && s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<const char*, 5> kUnitKinds = {
    "company", "division", "department", "team", "person"};
constexpr std::array<const char*, 7> kCycleKinds = {
    "year", "half", "quarter", "month", "week", "day", "custom"};
constexpr std::array<const char*, 8> kGoalKinds = {
    "objective",     "key_result", "smart",     "kpi",
    "bsc_objective", "bhag",       "milestone", "initiative"};
constexpr std::array<const char*, 5> kDirections = {
    "increase", "decrease", "at_least", "at_most", "binary"};
constexpr std::array<const char*, 5> kAggregates = {"last", "sum", "avg", "min",
                                                    "max"};
constexpr std::array<const char*, 7> kStatuses = {
    "draft", "proposed", "active", "achieved", "missed", "dropped", "archived"};
constexpr std::array<const char*, 5> kPerspectives = {
    "", "financial", "customer", "internal", "learning"};
constexpr std::array<const char*, 4> kSplitBys = {"", "time", "owners",
                                                  "funnel"};
constexpr std::array<const char*, 3> kSplitIntos = {"month", "week", "day"};
constexpr std::array<const char*, 3> kRoles = {"viewer", "editor", "admin"};
constexpr std::array<const char*, 4> kRetroKinds = {"highlight", "cause",
                                                    "lesson", "action"};

}  // namespace

const char* UnitKindName(UnitKind k) { return kUnitKinds[size_t(k)]; }
const char* CycleKindName(CycleKind k) { return kCycleKinds[size_t(k)]; }
const char* GoalKindName(GoalKind k) { return kGoalKinds[size_t(k)]; }
const char* DirectionName(Direction d) { return kDirections[size_t(d)]; }
const char* AggregateName(Aggregate a) { return kAggregates[size_t(a)]; }
const char* GoalStatusName(GoalStatus s) { return kStatuses[size_t(s)]; }
const char* PerspectiveName(Perspective p) { return kPerspectives[size_t(p)]; }
const char* SplitByName(SplitBy s) { return kSplitBys[size_t(s)]; }
const char* SplitIntoName(SplitInto s) { return kSplitIntos[size_t(s)]; }
const char* RoleName(Role r) { return kRoles[size_t(r)]; }
const char* RetroNoteKindName(RetroNoteKind k) {
  return kRetroKinds[size_t(k)];
}

std::optional<UnitKind> ParseUnitKind(std::string_view s) {
  return Lookup<UnitKind>(kUnitKinds, s);
}
std::optional<CycleKind> ParseCycleKind(std::string_view s) {
  return Lookup<CycleKind>(kCycleKinds, s);
}
std::optional<GoalKind> ParseGoalKind(std::string_view s) {
  return Lookup<GoalKind>(kGoalKinds, s);
}
std::optional<Direction> ParseDirection(std::string_view s) {
  return Lookup<Direction>(kDirections, s);
}
std::optional<Aggregate> ParseAggregate(std::string_view s) {
  return Lookup<Aggregate>(kAggregates, s);
}
std::optional<GoalStatus> ParseGoalStatus(std::string_view s) {
  return Lookup<GoalStatus>(kStatuses, s);
}
std::optional<Perspective> ParsePerspective(std::string_view s) {
  return Lookup<Perspective>(kPerspectives, s);
}
std::optional<SplitBy> ParseSplitBy(std::string_view s) {
  return Lookup<SplitBy>(kSplitBys, s);
}
std::optional<SplitInto> ParseSplitInto(std::string_view s) {
  return Lookup<SplitInto>(kSplitIntos, s);
}
std::optional<Role> ParseRole(std::string_view s) {
  return Lookup<Role>(kRoles, s);
}
std::optional<RetroNoteKind> ParseRetroNoteKind(std::string_view s) {
  return Lookup<RetroNoteKind>(kRetroKinds, s);
}

}  // namespace cairn
