#include "cairn/core/demo.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "cairn/core/apply.hpp"
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
    // Recorded over the months before `now`, in order: the quarter's goals
    // before the quarter's first check-in, check-ins at their own times.
    Millis last = 0;
    for (const auto& [ctx, cmd] : commands) {
      EXPECT_GE(ctx.now, last);
      EXPECT_LE(ctx.now, now);
      last = ctx.now;
      if (const auto* c = std::get_if<AddCheckIn>(&cmd)) {
        EXPECT_EQ(c->at, ctx.now) << c->goal;
      }
    }
    EXPECT_LT(commands.front().first.now, now - 14 * kMillisPerDay);
    EXPECT_GE(s.retro_notes.size(), 3u);
    EXPECT_EQ(h.Replay(), s);
  }
}

// Runs the demo company's commands, decided at one fixed time.
void RunDemo(testing::Harness& h) {
  const Millis now = *ParseTime("2026-11-23T09:00:00.000Z");
  for (const auto& [ctx, cmd] : DemoCommands(now))
    ASSERT_TRUE(h.Run(cmd, ctx).ok());
}

// A State brought up to date from an older one, sharing history with the
// State that already applied the same events, equals it and holds the
// touched goals' and metrics' history in shared chunks.
TEST(Demo, ShareHistoryKeepsTheStateAndSharesItsChunks) {
  testing::Harness h;
  ASSERT_NO_FATAL_FAILURE(RunDemo(h));
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

void ExpectSameTrends(const State& a, const State& b) {
  for (const auto& [id, g] : a.goals) {
    const CheckInTrend& x = g.trend;
    const CheckInTrend& y = b.goals.at(id).trend;
    EXPECT_EQ(x.covered, y.covered) << id;
    EXPECT_EQ(x.n, y.n) << id;
    EXPECT_EQ(x.mean_x, y.mean_x) << id;
    EXPECT_EQ(x.mean_y, y.mean_y) << id;
    EXPECT_EQ(x.m2x, y.m2x) << id;
    EXPECT_EQ(x.cxy, y.cxy) << id;
  }
}

// CatchUp over a run of check-ins takes the touched goals' history from the
// State ahead: equal to it, sharing every chunk of those goals, without
// reading the events' data; over a run with other events it applies them.
TEST(Demo, CatchUpTakesCheckInsFromTheStateAheadAndAppliesTheRest) {
  testing::Harness h;
  ASSERT_NO_FATAL_FAILURE(RunDemo(h));
  const std::vector<Event>& log = h.log();
  // The longest run of check-ins in the log: [from, to).
  size_t from = 0, to = 0;
  for (size_t i = 0; i < log.size();) {
    size_t j = i;
    while (j < log.size() && log[j].type == "goal.checked_in") ++j;
    if (j - i > to - from) from = i, to = j;
    i = j + 1;
  }
  ASSERT_GE(to - from, 8u);  // month-end reports of several goals
  State before;
  for (size_t i = 0; i < from; ++i) Apply(before, log[i]);
  State ahead = before;
  for (size_t i = from; i < to; ++i) Apply(ahead, log[i]);

  // The check-ins, with data no Apply could read: only taking the goals
  // from `ahead` makes the State equal to it.
  std::vector<Event> blind(log.begin() + static_cast<std::ptrdiff_t>(from),
                           log.begin() + static_cast<std::ptrdiff_t>(to));
  std::vector<const Event*> events;
  for (Event& e : blind) {
    e.data = "not json";
    events.push_back(&e);
  }
  State caught = before;
  CatchUp(caught, ahead, events);
  EXPECT_EQ(caught, ahead);
  ExpectSameTrends(caught, ahead);
  for (const Event& e : blind) {
    const std::string id(SplitStream(e.stream).id);
    const auto& mine = caught.goals.at(id).check_ins;
    const auto& theirs = ahead.goals.at(id).check_ins;
    EXPECT_EQ(mine.SharedChunks(theirs),
              (theirs.size() + mine.kChunk - 1) / mine.kChunk)
        << id;
  }
  // Appending to the caught-up State leaves the one ahead as it was.
  State copy = caught;
  copy.goals.at(std::string(SplitStream(blind.back().stream).id))
      .check_ins.push_back(CheckIn{});
  EXPECT_EQ(caught, ahead);
  EXPECT_NE(copy, ahead);

  // Not all check-ins, or a gap in the positions: the events are applied.
  // The run with the event before it gives the State ahead; a check-in
  // with unreadable data after a gap moves only the position.
  ASSERT_GT(from, 0u);
  State earlier;
  for (size_t i = 0; i + 1 < from; ++i) Apply(earlier, log[i]);
  events.clear();
  events.push_back(&log[from - 1]);
  for (size_t i = from; i < to; ++i) events.push_back(&log[i]);
  State applied = earlier;
  CatchUp(applied, ahead, events);
  EXPECT_EQ(applied, ahead);
  ExpectSameTrends(applied, ahead);
  State gap = before;
  events.assign(1, &blind.back());
  CatchUp(gap, ahead, events);
  EXPECT_NE(gap, ahead);
  EXPECT_EQ(gap.position, ahead.position);
}

}  // namespace
}  // namespace cairn
