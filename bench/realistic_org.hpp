// The organisation the model benchmarks generate their logs from: a company
// with 9 departments, 40 teams and 150 people (200 units), a year with four
// quarters, 200 metrics, and 20,000 goals - objectives each with four key
// results below them, a seventh of them bound to a metric, a third
// committed. Shared by bench/replay and bench/asof so that both measure the
// same shape of data.
//
//   OrgActivity act(seed);
//   for (const OrgCommand& c : RealisticOrgCommands())
//     Do(c.command, act.Context(c.admin, now));
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cairn/core/command.hpp"
#include "cairn/core/model.hpp"

namespace cairn::bench {

inline constexpr int kUnits = 200;
inline constexpr int kGoals = 20'000;
inline constexpr int kMetrics = 200;

struct OrgCommand {
  Command command;
  bool admin;  // units and cycles need an admin; the rest an editor
};

inline std::vector<OrgCommand> RealisticOrgCommands() {
  std::vector<OrgCommand> out;
  for (int i = 0; i < kUnits; ++i) {
    CreateUnit u;
    u.id = "u" + std::to_string(i);
    u.name = "Unit " + std::to_string(i);
    u.kind = i == 0   ? UnitKind::kCompany
             : i < 10 ? UnitKind::kDepartment
             : i < 50 ? UnitKind::kTeam
                      : UnitKind::kPerson;
    u.parent = i == 0   ? ""
               : i < 10 ? "u0"
               : i < 50 ? "u" + std::to_string(1 + (i - 10) % 9)
                        : "u" + std::to_string(10 + (i - 50) % 40);
    out.push_back({u, true});
  }
  out.push_back({CreateCycle{"y", "2026", CycleKind::kYear, MakeDay(2026, 1, 1),
                             MakeDay(2026, 12, 31), ""},
                 true});
  for (int q = 1; q <= 4; ++q) {
    out.push_back(
        {CreateCycle{"q" + std::to_string(q), "Q" + std::to_string(q),
                     CycleKind::kQuarter, MakeDay(2026, q * 3 - 2, 1),
                     MakeDay(2026, q * 3, DaysInMonth(2026, q * 3)), "y"},
         true});
  }
  for (int i = 0; i < kMetrics; ++i) {
    out.push_back({DefineMetric{"metric-" + std::to_string(i), "Metric", "USD",
                                Aggregate::kLast},
                   false});
  }
  for (int i = 0; i < kGoals; ++i) {
    CreateGoal g;
    g.id = "g" + std::to_string(i);
    const bool objective = i % 5 == 0;
    g.kind = objective ? GoalKind::kObjective : GoalKind::kKeyResult;
    g.title = objective ? "Grow the business efficiently this year"
                        : "Raise weekly active teams from 100 to 250";
    g.unit = "u" + std::to_string(i / 5 % kUnits);
    g.cycle = "q" + std::to_string(1 + i / 5 % 4);
    g.owner = "u" + std::to_string(50 + i % 150);
    if (!objective) {
      g.parent = "g" + std::to_string(i - i % 5);
      MeasureInput m;
      m.start = 100;
      m.target = 250 + i % 50;
      m.direction = Direction::kIncrease;
      m.unit = "teams";
      if (i % 7 == 0) m.metric = "metric-" + std::to_string(i % kMetrics);
      g.measure = m;
    }
    g.committed = i % 3 == 0;
    out.push_back({g, false});
  }
  return out;
}

// What happens after the set-up, one command at a time: check-ins (86%),
// metric points (10%), target or title edits (3%), status changes (0.8%)
// and retro notes (0.2%) on random goals with a measure, check-ins
// back-dated up to 3 days and metric points up to 7. Deterministic for a
// seed, so bench/replay and bench/asof draw the same log.
//
//   OrgActivity act(20270201);
//   Command c = act.Next(goal_ids, state, now);   // then its sender:
//   Decide(state, c, act.Context(/*admin=*/false, now));
class OrgActivity {
 public:
  explicit OrgActivity(uint64_t seed) : rng_(seed) {}

  // `goal_ids`: the goals with a measure; `state` gives their targets and
  // titles for edits.
  Command Next(const std::vector<std::string>& goal_ids, const State& state,
               Millis now) {
    auto any_goal = [&] {
      return goal_ids[Int(0, static_cast<int>(goal_ids.size()) - 1)];
    };
    const int r = Int(0, 999);
    if (r < 860) {
      AddCheckIn c;
      c.goal = any_goal();
      c.value = std::round(Real(0, 1000) * 100) / 100;
      if (Int(0, 2) > 0) c.confidence = Int(3, 10);
      if (Int(0, 9) == 0) c.note = "Steady progress; two deals in review";
      c.at = now - Int(0, 3 * 86'400) * int64_t{1000};
      return c;
    }
    if (r < 960) {
      RecordMetric m;
      m.id = "metric-" + std::to_string(Int(0, kMetrics - 1));
      const int n = Int(0, 9) == 0 ? Int(20, 200) : Int(1, 5);
      for (int i = 0; i < n; ++i) {
        m.points.push_back(
            {now - Int(0, 7 * 86'400) * int64_t{1000}, Real(0, 500)});
      }
      m.source = "warehouse";
      return m;
    }
    if (r < 990) {
      EditGoal e;
      e.id = any_goal();
      const Goal& g = state.goals.at(e.id);
      if (Int(0, 1) == 0) {
        e.measure = MeasurePatch{};
        e.measure->target = g.measure->target + (Int(0, 1) ? 10 : -5);
        e.reason = "replanned after the quarterly review";
      } else {
        e.title = g.title + " (revised)";
      }
      return e;
    }
    if (r < 998) {
      ChangeGoalStatus s;
      s.id = any_goal();
      static const GoalStatus kTo[] = {
          GoalStatus::kActive, GoalStatus::kAchieved, GoalStatus::kMissed};
      s.status = kTo[Int(0, 2)];
      return s;
    }
    NoteRetro n;
    n.unit = "u" + std::to_string(Int(0, kUnits - 1));
    n.cycle = "q" + std::to_string(Int(1, 4));
    n.kind = static_cast<RetroNoteKind>(Int(0, 3));
    n.text = "We learned to agree weights before splitting targets";
    return n;
  }

  // Who sends a command at `now`: the admin (units, cycles), or an editor,
  // one of the 150 people.
  CommandContext Context(bool admin, Millis now) {
    CommandContext c;
    c.actor = admin ? "admin" : "user" + std::to_string(Int(0, 149));
    c.now = now;
    c.role = admin ? Role::kAdmin : Role::kEditor;
    return c;
  }

 private:
  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  double Real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }

  std::mt19937_64 rng_;
};

}  // namespace cairn::bench
