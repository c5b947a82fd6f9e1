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
// `at` times spread over the weeks before `now`. Every command's context has
// ctx.now == now, so they must be decided in order on a store whose clock is
// at or after `now`. Pure; deterministic for a given `now`.
#pragma once

#include <utility>
#include <vector>

#include "cairn/core/command.hpp"

namespace cairn {

std::vector<std::pair<CommandContext, Command>> DemoCommands(Millis now);

}  // namespace cairn
