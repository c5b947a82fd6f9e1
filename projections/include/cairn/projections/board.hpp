// A unit's board and balanced scorecard for one cycle (API.md, "Views").
//
//   JsonWriter w;
//   WriteBoard(w, state, "sales", "2026-q1", /*depth=*/1, now);
//   // {"unit","cycle","goals":[...],"summary":{...},"position"}
//
//   WriteScorecard(w, state, "company", "2026-q1", now);
//   // {"unit","cycle","perspectives":{"financial":{"score","goals"},...},
//   //  "score","position"}
//
// Pure functions of a const State; cost is linear in the number of goals and
// units (each goal's roll-up is computed once per call). No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/partial_state.hpp"
#include "cairn/core/time.hpp"

namespace cairn::projections {

// The unit and its sub-units down to `depth` levels (0: the unit alone;
// negative: the whole subtree), in tree order. Empty when `unit` is unknown.
std::vector<std::string> UnitsToDepth(const State& state,
                                      const std::string& unit, int depth);
// The same as the pick of a partial State (partial_state.hpp): the units
// whose goals a board or scorecard of `unit` to `depth` reads; depth 0 for
// a retro, a diff, or a goal of `unit`.
UnitsOf BoardUnits(std::string unit, int depth);

// The goals a board shows, as a forest. On the board: goals of the units
// above whose cycle is `cycle` (any cycle when empty); under a goal on the
// board also its children in those units whose cycle lies within `cycle`
// (the parts of a split by time). Roots: board goals whose parent is not on
// the board, ordered by unit (tree order), creation time, id. Children keep
// the parent's `children` order.
struct BoardNode {
  const Goal* goal = nullptr;
  std::vector<BoardNode> children;
};
std::vector<BoardNode> BoardTree(const State& state,
                                 const std::vector<std::string>& units,
                                 const std::string& cycle);

// {"unit", "cycle", "depth", "goals": [goal responses, each with its board
// children under "children_detail"], "summary": {"count", "by_status": {every
// status: n}, "by_color": {"red","yellow","green": n}, "grade": weighted mean
// of the root goals' grades, dropped/archived left out; null without any},
// "position"}. `count` and the tallies cover every goal on the board.
void WriteBoard(JsonWriter& w, const State& state, const std::string& unit,
                const std::string& cycle, int depth, Millis now);

// {"unit", "cycle", "perspectives": {"financial"|"customer"|"internal"|
// "learning": {"score", "goals": [goal responses]}}, "score", "position"}.
// Goals: those of the unit (and sub-units to `depth`) in `cycle` that have a
// perspective. A perspective's score is the weighted mean grade of its goals
// (dropped/archived left out; null when none count); `score` is the mean of
// the non-null perspective scores (null when all are).
void WriteScorecard(JsonWriter& w, const State& state, const std::string& unit,
                    const std::string& cycle, Millis now, int depth = 0);

}  // namespace cairn::projections
