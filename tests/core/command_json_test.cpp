#include "cairn/core/command_json.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace cairn {
namespace {

TEST(CommandJson, CreateGoalReadsEveryMember) {
  auto r = ParseCreateGoal(R"({"id": "kr-cac", "kind": "key_result",
    "title": "Cut CAC to $150", "unit": "marketing", "cycle": "2026-q4",
    "owner": "alice", "parent": "obj-efficient-growth", "weight": 1,
    "committed": false, "perspective": "financial", "due": "2026-12-31",
    "measure": {"start": 250, "target": 150, "stretch": 120,
                "direction": "decrease", "unit": "USD",
                "metric": "cac", "aggregate": "last"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& g = std::get<CreateGoal>(*r);
  EXPECT_EQ(g.id, "kr-cac");
  EXPECT_EQ(g.kind, GoalKind::kKeyResult);
  EXPECT_EQ(g.perspective, Perspective::kFinancial);
  EXPECT_EQ(g.due, *ParseDate("2026-12-31"));
  ASSERT_TRUE(g.measure.has_value());
  EXPECT_EQ(g.measure->start, 250);
  EXPECT_EQ(g.measure->stretch, 120);
  EXPECT_EQ(g.measure->direction, Direction::kDecrease);
  EXPECT_EQ(g.measure->metric, "cac");
}

TEST(CommandJson, EditGoalNullsClearAndPartialMeasure) {
  auto r = ParseEditGoal("kr", R"({"parent": null, "due": null,
    "measure": {"target": 180, "stretch": null}, "reason": "budget cut"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& e = std::get<EditGoal>(*r);
  EXPECT_EQ(e.id, "kr");
  EXPECT_EQ(e.parent, std::string());
  ASSERT_TRUE(e.due.has_value());
  EXPECT_FALSE(e.due->has_value());
  ASSERT_TRUE(e.measure.has_value());
  EXPECT_EQ(e.measure->target, 180);
  EXPECT_TRUE(e.measure->clear_stretch);
  EXPECT_FALSE(e.measure->start.has_value());
  EXPECT_FALSE(e.title.has_value());
  EXPECT_EQ(e.reason, "budget cut");
}

TEST(CommandJson, OtherEndpoints) {
  auto ci = ParseCheckIn("kr", R"({"value": 225, "confidence": 7,
    "note": "ok", "at": "2026-02-10T08:00:00.000Z"})");
  ASSERT_TRUE(ci.ok());
  EXPECT_EQ(std::get<AddCheckIn>(*ci).confidence, 7);
  EXPECT_EQ(std::get<AddCheckIn>(*ci).at, *ParseTime("2026-02-10T08:00:00Z"));
  auto d = ParseDecompose("g", R"({"by": "owners", "integer": true,
    "parts": [{"unit": "ann", "owner": "ann", "weight": 5},
              {"unit": "bob", "weight": 3}]})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<Decompose>(*d).parts.size(), 2u);
  EXPECT_TRUE(std::get<Decompose>(*d).integer);
  auto f = ParseDecompose("g", R"({"by": "funnel", "stages": [{"name":
    "calls"}, {"name": "appointments", "rate": 0.1}]})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::get<Decompose>(*f).stages[1].rate, 0.1);
  auto t = ParseDecompose("g", R"({"by": "time", "into": "week",
    "weights": [1, 2.5], "working_days": true})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*std::get<Decompose>(*t).weights, (std::vector<double>{1, 2.5}));
  auto m = ParseRecordMetric("cac", R"({"points": [{"ts":
    "2026-01-31T00:00:00Z", "value": 240}], "source": "crm"})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<RecordMetric>(*m).points.size(), 1u);
  EXPECT_TRUE(ParseCloseCycle("q1", "").ok());
  EXPECT_TRUE(ParseCloseCycle("q1", "{}").ok());
  auto tok = ParseCreateToken(R"({"name": "ci", "role": "editor"})");
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(std::get<CreateToken>(*tok).role, Role::kEditor);
  EXPECT_TRUE(ParseCreateUnit(R"({"id":"a","name":"A","kind":"company",
    "parent": null})")
                  .ok());
  EXPECT_TRUE(ParseCreateCycle(R"({"id":"q","name":"Q","kind":"quarter",
    "start":"2026-01-01","end":"2026-03-31"})")
                  .ok());
  EXPECT_TRUE(ParseNoteRetro(R"({"unit":"a","cycle":"q","kind":"lesson",
    "text":"t"})")
                  .ok());
  EXPECT_TRUE(ParseDefineMetric(R"({"id":"m","name":"M"})").ok());
  EXPECT_TRUE(ParseChangeGoalStatus("g", R"({"status":"dropped"})").ok());
  EXPECT_TRUE(ParseEditUnit("u", R"({"name":"U"})").ok());
}

TEST(CommandJson, RefusalsNameTheMember) {
  using Parse = std::function<Result<Command>(std::string_view)>;
  struct Case {
    const char* name;
    Parse parse;
    std::string body;
    ErrorCode code;
    const char* field;
  };
  Parse goal = ParseCreateGoal;
  Parse edit = [](std::string_view b) { return ParseEditGoal("g", b); };
  Parse checkin = [](std::string_view b) { return ParseCheckIn("g", b); };
  Parse decompose = [](std::string_view b) { return ParseDecompose("g", b); };
  Parse record = [](std::string_view b) { return ParseRecordMetric("m", b); };
  const Case cases[] = {
      {"invalid json", goal, "{", ErrorCode::kBadJson, ""},
      {"empty body", goal, "", ErrorCode::kBadJson, ""},
      {"invalid utf-8", goal, "{\"title\": \"\xff\xfe\"}", ErrorCode::kBadJson,
       ""},
      {"not an object", goal, "[1]", ErrorCode::kValidationFailed, ""},
      {"unknown member", goal, R"({"title": "x", "colour": "red"})",
       ErrorCode::kValidationFailed, "colour"},
      {"unknown measure member", goal, R"({"measure": {"goal": 1}})",
       ErrorCode::kValidationFailed, "measure.goal"},
      {"title type", goal, R"({"title": 5})", ErrorCode::kValidationFailed,
       "title"},
      {"weight type", goal, R"({"weight": "1"})", ErrorCode::kValidationFailed,
       "weight"},
      {"committed type", goal, R"({"committed": 1})",
       ErrorCode::kValidationFailed, "committed"},
      {"kind enum", goal, R"({"kind": "wish"})", ErrorCode::kValidationFailed,
       "kind"},
      {"direction enum", goal, R"({"measure": {"direction": "up"}})",
       ErrorCode::kValidationFailed, "measure.direction"},
      {"due format", goal, R"({"due": "31/12/2026"})",
       ErrorCode::kValidationFailed, "due"},
      {"measure type", goal, R"({"measure": 3})", ErrorCode::kValidationFailed,
       "measure"},
      {"edit unknown member", edit, R"({"status": "active"})",
       ErrorCode::kValidationFailed, "status"},
      {"edit null title", edit, R"({"title": null})",
       ErrorCode::kValidationFailed, "title"},
      {"edit target type", edit, R"({"measure": {"target": "x"}})",
       ErrorCode::kValidationFailed, "measure.target"},
      {"confidence fraction", checkin, R"({"confidence": 7.5})",
       ErrorCode::kValidationFailed, "confidence"},
      {"at format", checkin, R"({"at": "yesterday"})",
       ErrorCode::kValidationFailed, "at"},
      {"check-in unknown", checkin, R"({"value": 1, "goal": "x"})",
       ErrorCode::kValidationFailed, "goal"},
      {"by missing", decompose, R"({})", ErrorCode::kValidationFailed, "by"},
      {"by enum", decompose, R"({"by": "magic"})", ErrorCode::kValidationFailed,
       "by"},
      {"time unknown member", decompose, R"({"by": "time", "parts": []})",
       ErrorCode::kValidationFailed, "parts"},
      {"weights element", decompose,
       R"({"by": "time", "into": "day", "weights": [1, "x"]})",
       ErrorCode::kValidationFailed, "weights[1]"},
      {"part member", decompose,
       R"({"by": "owners", "parts": [{"unit": "a", "weight": 1, "x": 1}]})",
       ErrorCode::kValidationFailed, "parts[0].x"},
      {"part weight type", decompose,
       R"({"by": "owners", "parts": [{"unit": "a"}, {"unit": "b",
           "weight": true}]})",
       ErrorCode::kValidationFailed, "parts[1].weight"},
      {"stage rate type", decompose,
       R"({"by": "funnel", "stages": [{"name": "a"}, {"name": "b",
           "rate": "10%"}]})",
       ErrorCode::kValidationFailed, "stages[1].rate"},
      {"point ts", record, R"({"points": [{"ts": "x", "value": 1}]})",
       ErrorCode::kValidationFailed, "points[0].ts"},
      {"point value missing", record,
       R"({"points": [{"ts": "2026-01-01T00:00:00Z"}]})",
       ErrorCode::kValidationFailed, "points[0].value"},
      {"points type", record, R"({"points": {}})", ErrorCode::kValidationFailed,
       "points"},
  };
  for (const Case& c : cases) {
    auto r = c.parse(c.body);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    EXPECT_EQ(r.error().field, c.field) << c.name << ": " << r.error().message;
  }
}

TEST(CommandJson, TooManyPoints) {
  std::string body = R"({"points": [)";
  for (int i = 0; i < 10001; ++i) {
    if (i) body += ',';
    body += R"({"ts": "2026-01-01T00:00:00Z", "value": 1})";
  }
  body += "]}";
  auto r = ParseRecordMetric("m", body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "points");
}

}  // namespace
}  // namespace cairn
