#include "cairn/projections/touched.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_world.hpp"

namespace cairn::projections {
namespace {

using testing::World;

using Ids = std::vector<std::string>;

World Tree() {
  World w(*ParseTime("2026-01-05T08:00:00Z"));
  w.Do(ParseCreateUnit(R"({"id":"co","name":"Co","kind":"company"})"));
  w.Do(ParseCreateCycle(
      R"({"id":"q1","name":"Q1","kind":"quarter","start":"2026-01-01","end":"2026-03-31"})"));
  w.Do(ParseCreateCycle(
      R"({"id":"q2","name":"Q2","kind":"quarter","start":"2026-04-01","end":"2026-06-30"})"));
  w.Do(ParseDefineMetric(R"({"id":"cac","name":"CAC"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"top","kind":"objective","title":"Top","unit":"co","cycle":"q1"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"mid","kind":"objective","title":"Mid","unit":"co","cycle":"q1","parent":"top"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"other","kind":"objective","title":"Other","unit":"co","cycle":"q1"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"kr","kind":"key_result","title":"KR","unit":"co","cycle":"q1","parent":"mid","measure":{"start":0,"target":10}})"));
  w.Do(ParseCreateGoal(
      R"({"id":"bound","kind":"kpi","title":"CAC","unit":"co","cycle":"q2","parent":"other","measure":{"start":250,"target":150,"direction":"decrease","metric":"cac"}})"));
  return w;
}

TEST(GoalsTouchedByTest, CheckInTouchesGoalAndAncestors) {
  World w = Tree();
  std::vector<Event> e = w.Do(ParseCheckIn("kr", R"({"value":3})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(GoalsTouchedBy(w.state(), e[0]), (Ids{"kr", "mid", "top"}));
}

TEST(GoalsTouchedByTest, MoveTouchesOldAndNewParents) {
  World w = Tree();
  std::vector<Event> e =
      w.Do(ParseEditGoal("kr", R"({"parent":"other","reason":"reorg"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(GoalsTouchedBy(w.state(), e[0]),
            (Ids{"kr", "other", "mid", "top"}));
}

TEST(GoalsTouchedByTest, MetricTouchesBoundGoals) {
  World w = Tree();
  std::vector<Event> e = w.Do(ParseRecordMetric(
      "cac", R"({"points":[{"ts":"2026-04-02T00:00:00Z","value":240}]})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(GoalsTouchedBy(w.state(), e[0]), (Ids{"bound", "other"}));
}

TEST(GoalsTouchedByTest, CycleCloseTouchesItsGoalsUnitEventsNone) {
  World w = Tree();
  std::vector<Event> e = w.Do(ParseCloseCycle("q2", "{}"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(GoalsTouchedBy(w.state(), e[0]), (Ids{"bound", "other"}));
  e = w.Do(ParseEditUnit("co", R"({"name":"Company"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(GoalsTouchedBy(w.state(), e[0]).empty());
}

}  // namespace
}  // namespace cairn::projections
