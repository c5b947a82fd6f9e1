// The domain state that events build: units, cycles, goals, metrics, tokens.
//
//   State state;
//   for (const Event& e : log) Apply(state, e);     // apply.hpp
//   const Goal* g = state.FindGoal("kr-cac");
//
// Plain values, copyable, no I/O; the history (check-ins, metric points)
// is shared between copies, so a copy costs O(entities), not O(events).
// One writer mutates a State (the Sequencer); readers get immutable copies
// or hold the writer's lock. Every
// field here is derived from events alone, so a rebuild from the log equals
// the live state (operator== is used by the replay-equals-live tests).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/core/chunked.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

enum class UnitKind { kCompany, kDivision, kDepartment, kTeam, kPerson };

struct Unit {
  std::string id;
  std::string name;
  UnitKind kind = UnitKind::kTeam;
  std::string parent;                 // empty for the root
  std::vector<std::string> children;  // unit ids, in creation order
  uint64_t version = 0;               // stream version of unit-<id>
  uint64_t position = 0;              // position of its last event
  bool operator==(const Unit&) const = default;
};

enum class CycleKind { kYear, kHalf, kQuarter, kMonth, kWeek, kDay, kCustom };

struct Cycle {
  std::string id;
  std::string name;
  CycleKind kind = CycleKind::kCustom;
  Day start = 0;
  Day end = 0;  // inclusive
  std::string parent;
  bool closed = false;
  Millis closed_at = 0;
  uint64_t version = 0;
  uint64_t position = 0;
  bool operator==(const Cycle&) const = default;
};

enum class GoalKind {
  kObjective,
  kKeyResult,
  kSmart,
  kKpi,
  kBscObjective,
  kBhag,
  kMilestone,
  kInitiative
};
enum class Direction { kIncrease, kDecrease, kAtLeast, kAtMost, kBinary };
enum class Aggregate { kLast, kSum, kAvg, kMin, kMax };
enum class GoalStatus {
  kDraft,
  kProposed,
  kActive,
  kAchieved,
  kMissed,
  kDropped,
  kArchived
};
enum class Perspective { kNone, kFinancial, kCustomer, kInternal, kLearning };

struct Measure {
  double start = 0;
  double target = 0;
  std::optional<double> stretch;
  Direction direction = Direction::kIncrease;
  std::string unit;    // "USD", "%", ...
  std::string metric;  // bound metric id, empty when fed by check-ins
  Aggregate aggregate = Aggregate::kLast;
  bool operator==(const Measure&) const = default;
};

struct CheckIn {
  uint64_t position = 0;
  Millis at = 0;           // effective time
  Millis recorded_at = 0;  // append time
  std::optional<double> value;
  std::optional<int> confidence;  // 0..10
  std::string note;
  std::string actor;
  // The position of the check-in of the same goal that this one corrects
  // (`correction_of`); 0 for none. A corrected check-in stays in the
  // history and counts nowhere else: not in the current value, the trend,
  // the confidence or the retro's count (CorrectedCheckIns).
  uint64_t corrects = 0;
  bool operator==(const CheckIn&) const = default;
};

// How a goal was split (goal.decomposed).
enum class SplitBy { kNone, kTime, kOwners, kFunnel };

// Least-squares accumulators over a goal's check-ins that carry a value
// (x: the effective `at` in days, y: the value), folded in position order
// (Welford's updates). Kept by AppendCheckIn so a forecast costs O(1), not
// O(check-ins). Derived data: it compares equal to any other.
struct CheckInTrend {
  size_t covered = 0;  // check-ins folded in; the fold is whole when == size
  double n = 0, mean_x = 0, mean_y = 0, m2x = 0, cxy = 0;
  void Add(Millis at, double value) {
    const double x = static_cast<double>(at) / kMillisPerDay;
    n += 1;
    const double dx = x - mean_x;
    mean_x += dx / n;
    mean_y += (value - mean_y) / n;
    m2x += dx * (x - mean_x);
    cxy += dx * (value - mean_y);
  }
  bool operator==(const CheckInTrend&) const { return true; }
};

struct Goal {
  std::string id;
  GoalKind kind = GoalKind::kObjective;
  std::string title;
  std::string description;
  std::string unit;
  std::string cycle;
  std::string owner;
  std::string parent;
  std::vector<std::string> children;  // goal ids, in creation order
  double weight = 1;
  bool committed = false;
  Perspective perspective = Perspective::kNone;
  std::optional<Day> due;
  std::optional<Measure> measure;
  GoalStatus status = GoalStatus::kActive;
  // In position order; copies share it. Chunks of 8: an as-of State
  // shares the live State's chunks, and its first check-in on a goal
  // copies the last one.
  Chunked<CheckIn, 3> check_ins;
  // How many of the first check-ins have non-decreasing `at` (the longest
  // such run, kept by AppendCheckIn): when it is all of them, the latest
  // check-in by `at` is found from the back.
  size_t check_ins_in_order = 0;
  // How many check-ins correct another (kept by AppendCheckIn): while 0,
  // every check-in counts and nothing looks for corrected ones.
  size_t corrections = 0;
  CheckInTrend trend;
  SplitBy split = SplitBy::kNone;
  // For a child made by a decomposition: the goal it came from and how.
  std::string split_from;
  // Frozen when its cycle closed.
  std::optional<double> frozen_grade;
  Millis created_at = 0;
  std::string created_by;
  uint64_t version = 0;
  uint64_t position = 0;
  bool operator==(const Goal&) const = default;
};

// The check-ins of a goal that a later check-in corrects, by position.
// Built once per use (O(check-ins)) and only for a goal with corrections;
// empty and free otherwise.
class CorrectedCheckIns {
 public:
  explicit CorrectedCheckIns(const Goal& goal);
  // True when `c` was corrected and so no longer counts.
  bool operator()(const CheckIn& c) const;

 private:
  std::vector<uint64_t> positions_;  // sorted
};

// The trend of the check-ins that count (not corrected), folded in
// position order; `covered` is all of them.
CheckInTrend FoldTrend(const Goal& goal);

// How many of the goal's check-ins correct another (Goal::corrections).
size_t CountCorrections(const Goal& goal);

// Appends a check-in (in position order) and keeps check_ins_in_order,
// corrections and the trend.
inline void AppendCheckIn(Goal& goal, CheckIn c) {
  const size_t n = goal.check_ins.size();
  if (goal.check_ins_in_order == n &&
      (n == 0 || goal.check_ins[n - 1].at <= c.at)) {
    goal.check_ins_in_order = n + 1;
  }
  const bool correction = c.corrects != 0;
  if (correction) ++goal.corrections;
  if (goal.trend.covered == n && !correction) {
    if (c.value) goal.trend.Add(c.at, *c.value);
    goal.trend.covered = n + 1;
  }
  goal.check_ins.push_back(std::move(c));
  // A correction takes a point out of the fold: fold again without it
  // (rare; the same fold a rebuild makes).
  if (correction && goal.trend.covered == n) goal.trend = FoldTrend(goal);
}

struct MetricPoint {
  Millis ts = 0;
  double value = 0;
  // The event that recorded it (0 in commands): points are kept in time
  // order, so the points as of an earlier position are these filtered by
  // position (by-reference snapshots, state_codec.hpp).
  uint64_t position = 0;
  bool operator==(const MetricPoint&) const = default;
};

struct Metric {
  std::string id;
  std::string name;
  std::string unit;
  Aggregate aggregate = Aggregate::kLast;
  // Sorted by ts (stable for equal ts); copies share it.
  Chunked<MetricPoint> points;
  uint64_t version = 0;
  uint64_t position = 0;
  bool operator==(const Metric&) const = default;
};

enum class Role { kViewer, kEditor, kAdmin };

struct Token {
  std::string name;
  Role role = Role::kViewer;
  std::string unit;         // scope; empty = whole organisation
  std::string secret_hash;  // hex SHA-256 of the secret; never the secret
  bool revoked = false;
  uint64_t version = 0;
  bool operator==(const Token&) const = default;
};

enum class RetroNoteKind { kHighlight, kCause, kLesson, kAction };

struct RetroNote {
  std::string unit;
  std::string cycle;
  std::string goal;
  RetroNoteKind kind = RetroNoteKind::kHighlight;
  std::string text;
  std::string actor;
  Millis at = 0;
  uint64_t position = 0;
  bool operator==(const RetroNote&) const = default;
};

// Pointers to an ordered map's values by key, filled as keys are looked
// up: one hash probe instead of a walk down a tree of thousands of goals
// for Apply's hot paths. Not part of the value: a copy starts empty (its
// pointers would name the original's nodes), a move keeps them (map nodes
// move with the map), and any two compare equal. Entries must not be
// erased from the map while cached (the model never erases goals or
// metrics); one thread at a time, like the State that holds it.
template <typename V>
class LookupCache {
 public:
  LookupCache() = default;
  LookupCache(const LookupCache&) {}
  LookupCache& operator=(const LookupCache&) {
    slots_.clear();
    used_ = 0;
    return *this;
  }
  LookupCache(LookupCache&&) noexcept = default;
  LookupCache& operator=(LookupCache&&) noexcept = default;
  bool operator==(const LookupCache&) const { return true; }

  // map[key], or nullptr when absent (absent keys are not cached).
  V* Find(std::map<std::string, V>& map, std::string_view key) {
    const size_t h = std::hash<std::string_view>{}(key);
    if (!slots_.empty()) {
      const size_t mask = slots_.size() - 1;
      for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& slot = slots_[i];
        if (slot.value == nullptr) break;
        if (slot.hash == h && *slot.key == key) return slot.value;
      }
    }
    auto it = map.find(std::string(key));
    if (it == map.end()) return nullptr;
    if (2 * (used_ + 1) > slots_.size()) Grow();
    Place({h, &it->first, &it->second});
    ++used_;
    return &it->second;
  }

 private:
  // Open addressing with linear probing, at most half full: the key's
  // hash, and the map node's key and value.
  struct Slot {
    size_t hash = 0;
    const std::string* key = nullptr;
    V* value = nullptr;
  };
  void Place(const Slot& s) {
    const size_t mask = slots_.size() - 1;
    size_t i = s.hash & mask;
    while (slots_[i].value != nullptr) i = (i + 1) & mask;
    slots_[i] = s;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{});
    for (const Slot& s : old) {
      if (s.value != nullptr) Place(s);
    }
  }
  std::vector<Slot> slots_;  // size 0 or a power of two
  size_t used_ = 0;
};

// Tokens by secret hash, derived from State::tokens (Apply keeps it, the
// State codec rebuilds it): authenticating a request is one hash lookup, not
// a walk over every token. A hash held by several tokens names the first of
// them in name order. Derived data: equal whenever the tokens are.
class TokenIndex {
 public:
  bool operator==(const TokenIndex&) const { return true; }
  // The token whose secret_hash is `hash`, or nullptr.
  const Token* Find(const std::map<std::string, Token>& tokens,
                    const std::string& hash) const;
  // After `token` was created in `tokens` (Apply; `new_name`: no token had
  // its name before): one insert, unless the name or the hash was taken
  // before, then rebuilt from `tokens`.
  void Created(const std::map<std::string, Token>& tokens, const Token& token,
               bool new_name);
  void Rebuild(const std::map<std::string, Token>& tokens);

 private:
  std::unordered_map<std::string, std::string> name_of_;  // hash -> name
};

struct State {
  std::map<std::string, Unit> units;
  std::map<std::string, Cycle> cycles;
  std::map<std::string, Goal> goals;
  std::map<std::string, Metric> metrics;
  std::map<std::string, Token> tokens;
  std::vector<RetroNote> retro_notes;
  uint64_t position = 0;  // last applied event
  Millis at = 0;          // `at` of the last applied event

  const Unit* FindUnit(const std::string& id) const;
  const Cycle* FindCycle(const std::string& id) const;
  const Goal* FindGoal(const std::string& id) const;
  const Metric* FindMetric(const std::string& id) const;
  // The token whose secret_hash is `hash` (revoked or not), or nullptr.
  const Token* FindTokenByHash(const std::string& hash) const {
    return token_index.Find(tokens, hash);
  }
  // For the writer (Apply): the same lookups through a hash cache.
  Goal* MutableGoal(std::string_view id) { return goal_lookup.Find(goals, id); }
  Metric* MutableMetric(std::string_view id) {
    return metric_lookup.Find(metrics, id);
  }
  bool operator==(const State&) const = default;

  LookupCache<Goal> goal_lookup;
  LookupCache<Metric> metric_lookup;
  TokenIndex token_index;
};

}  // namespace cairn
