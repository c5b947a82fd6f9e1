#include "cairn/projections/board.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cairn/core/pacing.hpp"
#include "test_world.hpp"

namespace cairn::projections {
namespace {

using testing::ParseJson;
using testing::World;

Millis T(const char* s) { return *ParseTime(s); }

std::string Goal(const std::string& id, const std::string& unit,
                 const std::string& parent, const std::string& extra = "") {
  std::string body = R"({"id":")" + id + R"(","kind":"key_result","title":")" +
                     id + R"(","unit":")" + unit + R"(","cycle":"q1")";
  if (!parent.empty()) body += R"(,"parent":")" + parent + "\"";
  if (!extra.empty()) body += "," + extra;
  return body + "}";
}

constexpr const char* kMeasure =
    R"("measure":{"start":0,"target":100,"direction":"increase"})";

// co -> sales -> apac -> {p1, p2, p3}; co -> marketing.
World Org() {
  World w(T("2026-01-01T08:00:00Z"));
  w.Do(ParseCreateUnit(R"({"id":"co","name":"Co","kind":"company"})"));
  w.Do(ParseCreateUnit(
      R"({"id":"sales","name":"Sales","kind":"department","parent":"co"})"));
  w.Do(ParseCreateUnit(
      R"({"id":"marketing","name":"Mkt","kind":"department","parent":"co"})"));
  w.Do(ParseCreateUnit(
      R"({"id":"apac","name":"APAC","kind":"team","parent":"sales"})"));
  for (const char* p : {"p1", "p2", "p3"}) {
    w.Do(ParseCreateUnit(std::string(R"({"id":")") + p + R"(","name":")" + p +
                         R"(","kind":"person","parent":"apac"})"));
  }
  w.Do(ParseCreateCycle(
      R"({"id":"q1","name":"Q1","kind":"quarter","start":"2026-01-01","end":"2026-03-31"})"));
  w.Do(ParseCreateCycle(
      R"({"id":"q2","name":"Q2","kind":"quarter","start":"2026-04-01","end":"2026-06-30"})"));
  return w;
}

std::vector<std::string> Ids(simdjson::dom::array goals) {
  std::vector<std::string> ids;
  for (auto g : goals) ids.emplace_back(std::string_view(g["id"]));
  return ids;
}

TEST(BoardTest, DepthNestingAndSummary) {
  World w = Org();
  w.Do(ParseCreateGoal(
      R"({"id":"obj","kind":"objective","title":"Grow","unit":"co","cycle":"q1"})"));
  w.Do(ParseCreateGoal(Goal("kr-sales", "sales", "obj",
                            std::string(kMeasure) + R"(,"weight":3)")));
  w.Do(ParseCreateGoal(Goal("kr-mkt", "marketing", "obj", kMeasure)));
  w.Do(ParseCreateGoal(Goal("apac-kr", "apac", "kr-sales", kMeasure)));
  w.Advance(1000);  // later creation: listed after obj
  w.Do(ParseCreateGoal(Goal("dropped", "co", "", kMeasure)));
  w.Do(ParseChangeGoalStatus("dropped", R"({"status":"dropped"})"));
  w.Do(ParseCreateGoal(
      R"({"id":"other-cycle","kind":"objective","title":"Later","unit":"co","cycle":"q2"})"));
  w.Do(ParseCheckIn("kr-sales", R"({"value":80})"));
  w.Do(ParseCheckIn("kr-mkt", R"({"value":40})"));
  w.Do(ParseCheckIn("apac-kr", R"({"value":10})"));
  const State& s = w.state();
  const Millis now = T("2026-02-01T00:00:00Z");
  simdjson::dom::parser parser;

  {  // depth 0: the company's own goals only.
    JsonWriter jw;
    WriteBoard(jw, s, "co", "q1", 0, now);
    auto doc = ParseJson(parser, jw.str());
    EXPECT_EQ(std::string_view(doc["unit"]), "co");
    EXPECT_EQ(std::string_view(doc["cycle"]), "q1");
    simdjson::dom::array goals = doc["goals"];
    EXPECT_EQ(Ids(goals), (std::vector<std::string>{"obj", "dropped"}));
    EXPECT_EQ(simdjson::dom::array(goals.at(0)["children_detail"]).size(), 0u);
    EXPECT_EQ(uint64_t(doc["summary"]["count"]), 2u);
    EXPECT_EQ(uint64_t(doc["summary"]["by_status"]["dropped"]), 1u);
    EXPECT_EQ(uint64_t(doc["summary"]["by_status"]["active"]), 1u);
    EXPECT_EQ(uint64_t(doc["summary"]["by_status"]["draft"]), 0u);
    // obj = (3 * 0.8 + 1 * 0.4) / 4 = 0.7; the dropped goal is left out.
    EXPECT_EQ(double(doc["summary"]["grade"]), 0.7);
    EXPECT_EQ(uint64_t(doc["position"]), s.position);
  }
  {  // depth 2: department and team goals nested under their parents.
    JsonWriter jw;
    WriteBoard(jw, s, "co", "q1", 2, now);
    auto doc = ParseJson(parser, jw.str());
    simdjson::dom::array goals = doc["goals"];
    ASSERT_EQ(Ids(goals), (std::vector<std::string>{"obj", "dropped"}));
    simdjson::dom::array kids = goals.at(0)["children_detail"];
    EXPECT_EQ(Ids(kids), (std::vector<std::string>{"kr-sales", "kr-mkt"}));
    simdjson::dom::array grandkids = kids.at(0)["children_detail"];
    EXPECT_EQ(Ids(grandkids), (std::vector<std::string>{"apac-kr"}));
    EXPECT_EQ(double(grandkids.at(0)["progress"]), 0.1);
    EXPECT_EQ(uint64_t(doc["summary"]["count"]), 5u);
    EXPECT_EQ(uint64_t(doc["summary"]["by_color"]["green"]), 2u);   // obj, 0.8
    EXPECT_EQ(uint64_t(doc["summary"]["by_color"]["yellow"]), 1u);  // 0.4
    EXPECT_EQ(uint64_t(doc["summary"]["by_color"]["red"]), 2u);
  }
  {  // A sub-unit's board: its goals are roots there.
    JsonWriter jw;
    WriteBoard(jw, s, "sales", "q1", 1, now);
    auto doc = ParseJson(parser, jw.str());
    simdjson::dom::array goals = doc["goals"];
    ASSERT_EQ(Ids(goals), (std::vector<std::string>{"kr-sales"}));
    EXPECT_EQ(Ids(goals.at(0)["children_detail"]),
              (std::vector<std::string>{"apac-kr"}));
    EXPECT_EQ(double(doc["summary"]["grade"]), 0.8);
  }
  {  // An empty board.
    JsonWriter jw;
    WriteBoard(jw, s, "marketing", "q2", 0, now);
    auto doc = ParseJson(parser, jw.str());
    EXPECT_EQ(simdjson::dom::array(doc["goals"]).size(), 0u);
    EXPECT_TRUE(doc["summary"]["grade"].is_null());
    EXPECT_EQ(uint64_t(doc["summary"]["count"]), 0u);
  }
  EXPECT_EQ(UnitsToDepth(s, "co", -1).size(), 7u);
  EXPECT_EQ(UnitsToDepth(s, "co", 1),
            (std::vector<std::string>{"co", "sales", "marketing"}));
  EXPECT_TRUE(UnitsToDepth(s, "nope", 3).empty());
}

TEST(BoardTest, SplitByOwnersShowsPartsAndTheirSum) {
  World w = Org();
  w.Do(ParseCreateGoal(
      R"({"id":"apac-sales","kind":"key_result","title":"APAC sales target","unit":"apac","cycle":"q1","measure":{"start":0,"target":7000000}})"));
  w.Do(ParseDecompose("apac-sales", R"({"by":"owners","integer":true,"parts":[
      {"unit":"p1","owner":"p1","weight":5},{"unit":"p2","owner":"p2","weight":3},
      {"unit":"p3","owner":"p3","weight":2}]})"));
  const State& s = w.state();
  ASSERT_EQ(s.FindGoal("apac-sales")->children.size(), 3u);
  const std::vector<std::string> parts = s.FindGoal("apac-sales")->children;
  w.Do(ParseCheckIn(parts[0], R"({"value":1000000})"));
  w.Do(ParseCheckIn(parts[1], R"({"value":500000})"));
  simdjson::dom::parser parser;
  JsonWriter jw;
  WriteBoard(jw, w.state(), "apac", "q1", 1, T("2026-02-01T00:00:00Z"));
  auto doc = ParseJson(parser, jw.str());
  simdjson::dom::array goals = doc["goals"];
  ASSERT_EQ(Ids(goals), (std::vector<std::string>{"apac-sales"}));
  EXPECT_EQ(double(goals.at(0)["current"]), 1500000);
  EXPECT_EQ(double(goals.at(0)["progress"]), 0.2143);
  EXPECT_EQ(std::string_view(goals.at(0)["split"]), "owners");
  simdjson::dom::array kids = goals.at(0)["children_detail"];
  ASSERT_EQ(kids.size(), 3u);
  EXPECT_EQ(double(kids.at(0)["measure"]["target"]), 3500000);
  EXPECT_EQ(double(kids.at(2)["measure"]["target"]), 1400000);
  EXPECT_EQ(uint64_t(doc["summary"]["count"]), 4u);
}

TEST(ScorecardTest, PerspectiveScoresAndMeanOfNonEmpty) {
  World w = Org();
  auto bsc = [&](const std::string& id, const std::string& perspective,
                 double value, const std::string& unit = "co") {
    w.Do(ParseCreateGoal(
        R"({"id":")" + id + R"(","kind":"bsc_objective","title":"t","unit":")" +
        unit + R"(","cycle":"q1","perspective":")" + perspective +
        R"(","measure":{"start":0,"target":100}})"));
    w.Do(ParseCheckIn(id, R"({"value":)" + std::to_string(value) + "}"));
  };
  bsc("margin", "financial", 50);
  bsc("revenue", "financial", 100);
  bsc("nps", "customer", 20);
  bsc("training", "learning", 90);
  w.Do(ParseChangeGoalStatus("training", R"({"status":"dropped"})"));
  bsc("sales-fin", "financial", 0, "sales");                 // another unit
  w.Do(ParseCreateGoal(Goal("plain", "co", "", kMeasure)));  // no perspective
  simdjson::dom::parser parser;
  JsonWriter jw;
  WriteScorecard(jw, w.state(), "co", "q1", T("2026-02-01T00:00:00Z"));
  auto doc = ParseJson(parser, jw.str());
  auto p = doc["perspectives"];
  EXPECT_EQ(double(p["financial"]["score"]), 0.75);
  EXPECT_EQ(Ids(p["financial"]["goals"]),
            (std::vector<std::string>{"margin", "revenue"}));
  EXPECT_EQ(double(p["customer"]["score"]), 0.2);
  EXPECT_TRUE(p["internal"]["score"].is_null());
  EXPECT_EQ(simdjson::dom::array(p["internal"]["goals"]).size(), 0u);
  EXPECT_TRUE(p["learning"]["score"].is_null());  // only a dropped goal
  EXPECT_EQ(simdjson::dom::array(p["learning"]["goals"]).size(), 1u);
  EXPECT_EQ(double(doc["score"]), 0.475);
  // With the sub-units, the sales goal at 0 joins the financial mean.
  JsonWriter deep;
  WriteScorecard(deep, w.state(), "co", "q1", T("2026-02-01T00:00:00Z"), 1);
  auto d = ParseJson(parser, deep.str());
  EXPECT_EQ(double(d["perspectives"]["financial"]["score"]), 0.5);
}

// A board of a few hundred goals should render in about a millisecond.
TEST(BoardTest, RendersThreeHundredGoalsQuickly) {
  World w = Org();
  w.Do(ParseDefineMetric(R"({"id":"m","name":"m"})"));
  const char* units[] = {"co", "sales", "marketing", "apac", "p1", "p2", "p3"};
  int n = 0;
  std::string parent;
  for (int i = 0; i < 300; ++i) {
    const std::string unit = units[i % 7];
    const std::string id = "g" + std::to_string(n++);
    std::string extra = kMeasure;
    if (i % 10 == 0) {
      extra = R"("measure":{"start":0,"target":100,"metric":"m"})";
    }
    if (i % 30 == 0) {
      w.Do(ParseCreateGoal(
          R"({"id":")" + id +
          R"(","kind":"objective","title":"An objective here","unit":")" +
          unit + R"(","cycle":"q1"})"));
      parent = id;
      continue;
    }
    w.Do(ParseCreateGoal(Goal(id, unit, parent, extra)));
    for (int k = 0; k < 5; ++k) {
      w.Do(ParseCheckIn(id, R"({"value":)" + std::to_string(k * 7 + i % 13) +
                                R"(,"confidence":6})"));
      w.Advance(3'600'000);
    }
  }
  std::string points = R"({"points":[)";
  for (int k = 0; k < 1000; ++k) {
    if (k) points += ",";
    points += R"({"ts":")" +
              FormatTime(T("2026-01-01T00:00:00Z") + Millis{k} * 3'600'000) +
              R"(","value":)" + std::to_string(k % 50) + "}";
  }
  w.Do(ParseRecordMetric("m", points + "]}"));
  const State& s = w.state();
  const Millis now = T("2026-02-15T00:00:00Z");
  JsonWriter first;
  WriteBoard(first, s, "co", "q1", -1, now);
  simdjson::dom::parser parser;
  auto doc = ParseJson(parser, first.str());
  EXPECT_EQ(uint64_t(doc["summary"]["count"]), 300u);
  constexpr int kRuns = 50;
  auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (int r = 0; r < kRuns; ++r) {
    JsonWriter jw;
    WriteBoard(jw, s, "co", "q1", -1, now);
    bytes += jw.str().size();
  }
  const double us = std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - start)
                        .count() /
                    kRuns;
  std::printf("board of 300 goals: %.0f us, %zu bytes\n", us, bytes / kRuns);
  // The figures alone, without writing JSON.
  start = std::chrono::steady_clock::now();
  size_t behind = 0;
  for (int r = 0; r < kRuns; ++r) {
    GradeBook book(s, now);
    for (const auto& [id, g] : s.goals) {
      behind += GoalPacing(book, g).status == PaceStatus::kBehind;
      behind += GoalSmart(s, g).missing.size() + GoalStale(s, g, now);
    }
  }
  const double compute_us = std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - start)
                                .count() /
                            kRuns;
  std::printf("figures of 300 goals: %.0f us (%zu)\n", compute_us, behind);
  // Generous for sanitizer builds; a release build takes a few ms, most of
  // it escaping and appending JSON.
  EXPECT_LT(us, 100'000);
}

}  // namespace
}  // namespace cairn::projections
