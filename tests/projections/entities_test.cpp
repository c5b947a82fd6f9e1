#include "cairn/projections/entities.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_world.hpp"

namespace cairn::projections {
namespace {

using testing::Keys;
using testing::ParseJson;
using testing::World;

Millis T(const char* s) { return *ParseTime(s); }

// The contract's example: CAC from 250 to 150 under a company objective.
World CacWorld() {
  World w(T("2026-10-01T08:00:00Z"));
  w.Do(ParseCreateUnit(R"({"id":"co","name":"Meetly","kind":"company"})"));
  w.Do(ParseCreateUnit(
      R"({"id":"marketing","name":"Marketing","kind":"department","parent":"co"})"));
  w.Do(ParseCreateCycle(
      R"({"id":"2026-q4","name":"Q4","kind":"quarter","start":"2026-10-01","end":"2026-12-31"})"));
  w.Do(ParseDefineMetric(R"({"id":"cac","name":"CAC","unit":"USD"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"obj-efficient-growth","kind":"objective","title":"Grow efficiently","unit":"co","cycle":"2026-q4"})"));
  w.Do(ParseCreateGoal(R"({"id": "kr-cac", "kind": "key_result",
      "title": "Cut CAC to $150", "unit": "marketing", "cycle": "2026-q4",
      "owner": "alice", "parent": "obj-efficient-growth", "weight": 1,
      "committed": false, "perspective": "financial", "due": "2026-12-31",
      "measure": {"start": 250, "target": 150, "stretch": 120,
                  "direction": "decrease", "unit": "USD",
                  "metric": "cac", "aggregate": "last"}})"));
  w.SetNow(T("2026-11-10T09:00:00Z"));
  w.Do(ParseCheckIn("kr-cac", R"({"value":225,"confidence":7,"note":"slow"})"));
  return w;
}

TEST(GoalResponseTest, ContractExampleShapeAndValues) {
  World world = CacWorld();
  const State& s = world.state();
  JsonWriter w;
  w.BeginObject();
  WriteGoalMembers(w, s, *s.FindGoal("kr-cac"), T("2026-11-15T00:00:00Z"));
  w.Key("position").Uint(s.position);
  w.EndObject();
  simdjson::dom::parser parser;
  auto doc = ParseJson(parser, w.str());

  // Every member the contract names, in the contract's order.
  const std::vector<std::string> contract = {"id",
                                             "kind",
                                             "title",
                                             "unit",
                                             "cycle",
                                             "owner",
                                             "parent",
                                             "children",
                                             "weight",
                                             "committed",
                                             "perspective",
                                             "due",
                                             "measure",
                                             "status",
                                             "current",
                                             "confidence",
                                             "last_check_in",
                                             "stale",
                                             "progress",
                                             "grade",
                                             "color",
                                             "stretch_progress",
                                             "pacing",
                                             "smart",
                                             "version",
                                             "position"};
  const std::vector<std::string> keys = Keys(doc);
  size_t at = 0;
  for (const std::string& k : keys) {
    if (at < contract.size() && k == contract[at]) ++at;
  }
  EXPECT_EQ(at, contract.size())
      << "missing or out of order: " << contract[at] << " in " << w.str();

  EXPECT_EQ(std::string_view(doc["kind"]), "key_result");
  EXPECT_EQ(std::string_view(doc["parent"]), "obj-efficient-growth");
  EXPECT_EQ(std::string_view(doc["perspective"]), "financial");
  EXPECT_EQ(std::string_view(doc["due"]), "2026-12-31");
  EXPECT_EQ(std::string_view(doc["measure"]["direction"]), "decrease");
  EXPECT_EQ(double(doc["measure"]["stretch"]), 120);
  EXPECT_EQ(std::string_view(doc["status"]), "active");
  EXPECT_EQ(double(doc["current"]), 225);
  EXPECT_EQ(int64_t(doc["confidence"]), 7);
  EXPECT_EQ(std::string_view(doc["last_check_in"]), "2026-11-10T09:00:00.000Z");
  EXPECT_FALSE(bool(doc["stale"]));
  EXPECT_EQ(double(doc["progress"]), 0.25);
  EXPECT_EQ(double(doc["grade"]), 0.25);
  EXPECT_EQ(std::string_view(doc["color"]), "red");
  EXPECT_EQ(double(doc["stretch_progress"]), 0.1923);  // 25 / 130
  // 45 of the quarter's 92 days have passed.
  EXPECT_EQ(double(doc["pacing"]["expected"]), 0.4891);
  EXPECT_EQ(std::string_view(doc["pacing"]["status"]), "behind");
  // 75 to go over Nov 15 .. Dec 31 (47 dates).
  EXPECT_DOUBLE_EQ(double(doc["pacing"]["required_per_day"]), 75.0 / 47);
  EXPECT_TRUE(doc["pacing"]["forecast"].is_null());
  for (const char* k :
       {"specific", "measurable", "achievable", "relevant", "time_bound"}) {
    EXPECT_TRUE(bool(doc["smart"][k])) << k;
  }
  EXPECT_EQ(simdjson::dom::array(doc["smart"]["missing"]).size(), 0u);
  EXPECT_EQ(uint64_t(doc["version"]), 2u);
  EXPECT_EQ(uint64_t(doc["position"]), s.position);
}

TEST(GoalResponseTest, ObjectiveRollsUpAndVagueGoalIsFlagged) {
  World world = CacWorld();
  world.Do(ParseCreateGoal(
      R"({"id":"vague","kind":"smart","title":"Make the product better","unit":"co","cycle":"2026-q4"})"));
  const State& s = world.state();
  simdjson::dom::parser parser;
  {
    JsonWriter w;
    WriteGoal(w, s, *s.FindGoal("obj-efficient-growth"),
              T("2026-11-15T00:00:00Z"));
    auto doc = ParseJson(parser, w.str());
    EXPECT_TRUE(doc["current"].is_null());
    EXPECT_TRUE(doc["measure"].is_null());
    EXPECT_EQ(double(doc["grade"]), 0.25);
    EXPECT_EQ(std::string_view(doc["color"]), "red");
    EXPECT_FALSE(bool(doc["stale"]));              // no measure
    EXPECT_TRUE(doc["stretch_progress"].error());  // only with a stretch
    simdjson::dom::array children = doc["children"];
    ASSERT_EQ(children.size(), 1u);
    EXPECT_EQ(std::string_view(children.at(0)), "kr-cac");
  }
  {
    JsonWriter w;
    WriteGoal(w, s, *s.FindGoal("vague"), T("2026-11-15T00:00:00Z"));
    auto doc = ParseJson(parser, w.str());
    std::vector<std::string> missing;
    for (auto m : simdjson::dom::array(doc["smart"]["missing"])) {
      missing.emplace_back(std::string_view(m));
    }
    EXPECT_EQ(missing,
              (std::vector<std::string>{"specific", "measurable", "relevant"}));
    EXPECT_FALSE(bool(doc["smart"]["specific"]));  // no owner
    EXPECT_TRUE(bool(doc["smart"]["time_bound"]));
  }
}

TEST(GoalResponseTest, StaleAndForecastFollowCheckIns) {
  World world = CacWorld();
  world.SetNow(T("2026-11-20T09:00:00Z"));
  world.Do(ParseCheckIn("kr-cac", R"({"value":215})"));
  const State& s = world.state();
  simdjson::dom::parser parser;
  JsonWriter w;
  WriteGoal(w, s, *s.FindGoal("kr-cac"), T("2026-12-01T00:00:00Z"));
  auto doc = ParseJson(parser, w.str());
  EXPECT_TRUE(bool(doc["stale"]));  // 11 days without a check-in
  // 1 a day down from 225 on Nov 10: 215 on Nov 20 09:00, then 41.625 more
  // days to Jan 1 00:00.
  EXPECT_NEAR(double(doc["pacing"]["forecast"]), 173.375, 1e-6);
  EXPECT_EQ(int64_t(doc["confidence"]), 7);  // the latest one given
}

TEST(EntityWritersTest, UnitsCyclesMetrics) {
  World world = CacWorld();
  world.Do(ParseCreateCycle(
      R"({"id":"2026-m10","name":"October","kind":"month","start":"2026-10-01","end":"2026-10-31","parent":"2026-q4"})"));
  world.Do(ParseRecordMetric(
      "cac",
      R"({"points":[{"ts":"2026-10-01T00:00:00Z","value":240},{"ts":"2026-11-01T00:00:00Z","value":230}]})"));
  const State& s = world.state();
  simdjson::dom::parser parser;
  {
    JsonWriter w;
    WriteUnits(w, s, "marketing");
    auto doc = ParseJson(parser, w.str());
    simdjson::dom::array units = doc["units"];
    ASSERT_EQ(units.size(), 1u);
    EXPECT_EQ(
        Keys(units.at(0)),
        (std::vector<std::string>{"id", "name", "kind", "parent", "version"}));
    EXPECT_EQ(uint64_t(doc["position"]), s.position);
    JsonWriter all;
    WriteUnits(all, s);
    EXPECT_EQ(
        simdjson::dom::array(ParseJson(parser, all.str())["units"]).size(), 2u);
  }
  {
    JsonWriter w;
    WriteUnit(w, *s.FindUnit("co"), /*with_children=*/true);
    auto doc = ParseJson(parser, w.str());
    EXPECT_TRUE(doc["parent"].is_null());
    EXPECT_EQ(std::string_view(doc["kind"]), "company");
    EXPECT_EQ(std::string_view(doc["children"].at(0)), "marketing");
  }
  {
    JsonWriter w;
    WriteCycles(w, s);
    auto doc = ParseJson(parser, w.str());
    simdjson::dom::array cycles = doc["cycles"];
    ASSERT_EQ(cycles.size(), 2u);
    EXPECT_EQ(std::string_view(cycles.at(0)["id"]), "2026-q4");
    EXPECT_EQ(std::string_view(cycles.at(0)["end"]), "2026-12-31");
    EXPECT_EQ(std::string_view(cycles.at(0)["children"].at(0)), "2026-m10");
    EXPECT_EQ(std::string_view(cycles.at(1)["parent"]), "2026-q4");
  }
  {
    JsonWriter w;
    WriteMetric(w, *s.FindMetric("cac"), T("2026-10-15T00:00:00Z"),
                T("2027-01-01T00:00:00Z"));
    auto doc = ParseJson(parser, w.str());
    simdjson::dom::array points = doc["points"];
    ASSERT_EQ(points.size(), 1u);
    EXPECT_EQ(std::string_view(points.at(0)["ts"]), "2026-11-01T00:00:00.000Z");
    EXPECT_EQ(double(points.at(0)["value"]), 230);
  }
  // The metric now has points in the cycle: the bound goal takes its last.
  JsonWriter w;
  WriteGoal(w, s, *s.FindGoal("kr-cac"), T("2026-11-15T00:00:00Z"));
  EXPECT_EQ(double(ParseJson(parser, w.str())["current"]), 230);
}

}  // namespace
}  // namespace cairn::projections
