// The demo company of `cairn serve --demo` (../shared/DEMO.md): Meetly, built
// through the same commands a user would send.
//
//   for (auto& [ctx, cmd] : DemoCommands(NowMillis())) {
//     auto events = Decide(state, cmd, ctx);   // every one succeeds in order
//     ... append, Apply ...
//   }
//
// Cycles are the year of `now`, its quarters and the current quarter's
// months (plus a ten-year cycle for the vision); check-ins carry effective
// `at` times spread over the weeks before `now`. Each command's ctx.now is
// the moment it is recorded at: the year's plan before the year, the
// quarter's before the quarter, check-ins and metric points at their own
// times, edits and notes in between. They come in that order (ctx.now never
// decreases, never past `now`), so a log that records each at its ctx.now
// replays as the company's history. Pure; deterministic for a given `now`.
#pragma once

#include <utility>
#include <vector>

#include "cairn/core/command.hpp"

namespace cairn {

std::vector<std::pair<CommandContext, Command>> DemoCommands(Millis now);

}  // namespace cairn
