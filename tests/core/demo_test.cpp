#include "cairn/core/demo.hpp"

#include <gtest/gtest.h>

#include "domain_harness.hpp"

namespace cairn {
namespace {

TEST(Demo, EveryCommandDecidesInOrderAndReplayEqualsLive) {
  for (const char* when :
       {"2026-11-23T09:00:00.000Z", "2026-01-01T00:00:00.000Z",
        "2027-03-31T23:59:59.000Z", "2028-02-29T12:00:00.000Z",
        "2026-12-31T18:00:00.000Z"}) {
    SCOPED_TRACE(when);
    const Millis now = *ParseTime(when);
    testing::Harness h;
    auto commands = DemoCommands(now);
    ASSERT_GT(commands.size(), 80u);
    for (size_t i = 0; i < commands.size(); ++i) {
      auto r = h.Run(commands[i].second, commands[i].first);
      ASSERT_TRUE(r.ok()) << "command #" << i << " (index "
                          << commands[i].second.index()
                          << "): " << r.error().message << " field "
                          << r.error().field;
      ASSERT_FALSE(r->empty()) << "command #" << i << " changed nothing";
    }
    const State& s = h.state();
    // 7M split 5:3:2, each share by month with seasonal weights.
    const Goal* target = s.FindGoal("apac-target");
    ASSERT_NE(target, nullptr);
    ASSERT_EQ(target->children.size(), 3u);
    const double shares[] = {3'500'000, 2'100'000, 1'400'000};
    for (int p = 0; p < 3; ++p) {
      const Goal* part = s.FindGoal(target->children[p]);
      EXPECT_EQ(part->measure->target, shares[p]);
      EXPECT_EQ(part->split, SplitBy::kTime);
      ASSERT_EQ(part->children.size(), 12u);
      double sum = 0;
      for (const std::string& id : part->children) {
        sum += s.FindGoal(id)->measure->target;
      }
      EXPECT_EQ(sum, shares[p]);
    }
    // The funnel: 1 signing a day at 20% / 50% / 20%.
    const Goal* sign = s.FindGoal("sam-signings");
    ASSERT_EQ(sign->children.size(), 4u);
    const double stages[] = {50, 10, 5, 1};
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(s.FindGoal(sign->children[i])->measure->target, stages[i]);
    }
    EXPECT_EQ(s.FindGoal("priya-webinars")->status, GoalStatus::kActive);
    EXPECT_EQ(s.FindGoal("init-funnel-dashboard")->status,
              GoalStatus::kDropped);
    EXPECT_EQ(s.FindGoal("kr-csat")->measure->target, 92);
    const Goal* fr = s.FindGoal("kr-first-response");
    ASSERT_GE(fr->check_ins.size(), 2u);
    EXPECT_LT(fr->check_ins.back().confidence,
              fr->check_ins.front().confidence);
    for (const CheckIn& c : fr->check_ins) EXPECT_LE(c.at, now);
    EXPECT_GE(s.retro_notes.size(), 3u);
    EXPECT_EQ(h.Replay(), s);
  }
}

// A State brought up to date from an older one, sharing history with the
// State that already applied the same events, equals it and holds the
// touched goals' and metrics' history in shared chunks.
TEST(Demo, ShareHistoryKeepsTheStateAndSharesItsChunks) {
  const Millis now = *ParseTime("2026-11-23T09:00:00.000Z");
  testing::Harness h;
  for (const auto& [ctx, cmd] : DemoCommands(now))
    ASSERT_TRUE(h.Run(cmd, ctx).ok());
  const std::vector<Event>& log = h.log();
  // Replay the older State up to half the log or the first metric points,
  // whichever is earlier, so both goals and metrics move after it.
  size_t half = log.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    if (log[i].type == "metric.recorded") half = i;
  }
  State old;
  for (size_t i = 0; i < half; ++i) Apply(old, log[i]);
  const State& ahead = h.state();
  size_t goals_shared = 0, metrics_shared = 0;
  for (size_t i = half; i < log.size(); ++i) Apply(old, log[i]);
  for (size_t i = half; i < log.size(); ++i) {
    ShareHistory(old, ahead, log[i]);
  }
  EXPECT_EQ(old, ahead);
  for (const auto& [id, g] : old.goals) {
    const auto& theirs = ahead.goals.at(id).check_ins;
    if (!g.check_ins.empty() &&
        g.check_ins.SharedChunks(theirs) ==
            (g.check_ins.size() + decltype(g.check_ins)::kChunk - 1) /
                decltype(g.check_ins)::kChunk) {
      ++goals_shared;
    }
  }
  for (const auto& [id, m] : old.metrics) {
    if (!m.points.empty() &&
        m.points.SharedChunks(ahead.metrics.at(id).points) > 0) {
      ++metrics_shared;
    }
  }
  EXPECT_GT(goals_shared, 10u);
  EXPECT_GT(metrics_shared, 0u);
  // Appending to one after sharing leaves the other as it was.
  State copy = old;
  CheckIn extra;
  extra.position = 1'000'000;
  const std::string some_goal = old.goals.begin()->first;
  copy.goals[some_goal].check_ins.push_back(extra);
  EXPECT_EQ(old, ahead);
  EXPECT_NE(copy, ahead);
}

}  // namespace
}  // namespace cairn
