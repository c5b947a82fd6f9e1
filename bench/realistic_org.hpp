// The organisation the model benchmarks generate their logs from: a company
// with 9 departments, 40 teams and 150 people (200 units), a year with four
// quarters, 200 metrics, and 20,000 goals - objectives each with four key
// results below them, a seventh of them bound to a metric, a third
// committed. Shared by bench/replay and bench/asof so that both measure the
// same shape of data.
//
//   for (const OrgCommand& c : RealisticOrgCommands()) Do(c.command, c.admin ?
//   Admin() : Editor());
#pragma once

#include <string>
#include <vector>

#include "cairn/core/command.hpp"

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

}  // namespace cairn::bench
