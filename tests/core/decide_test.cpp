#include "cairn/core/decide.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>

#include "cairn/core/command_json.hpp"
#include "domain_harness.hpp"

namespace cairn {
namespace {

using testing::Admin;
using testing::Editor;
using testing::Harness;

const Millis kNow = *ParseTime("2027-02-15T12:00:00.000Z");

// An organisation to run commands against: acme > sales > apac > ann, bob;
// acme > support. Cycles 2027 > 2027-q1 > feb. Goals obj (objective),
// kr (increase 0 -> 100 in feb, child of obj), cac (decrease 250 -> 150).
class DecideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = Admin(kNow);
    Must(CreateUnit{"acme", "Acme", UnitKind::kCompany, ""}, a);
    Must(CreateUnit{"sales", "Sales", UnitKind::kDepartment, "acme"}, a);
    Must(CreateUnit{"support", "Support", UnitKind::kDepartment, "acme"}, a);
    Must(CreateUnit{"apac", "APAC", UnitKind::kTeam, "sales"}, a);
    Must(CreateUnit{"ann", "Ann", UnitKind::kPerson, "apac"}, a);
    Must(CreateUnit{"bob", "Bob", UnitKind::kPerson, "apac"}, a);
    Must(NewCycle("2027", CycleKind::kYear, "2027-01-01", "2027-12-31", ""), a);
    Must(NewCycle("2027-q1", CycleKind::kQuarter, "2027-01-01", "2027-03-31",
                  "2027"),
         a);
    Must(NewCycle("feb", CycleKind::kMonth, "2027-02-01", "2027-02-28",
                  "2027-q1"),
         a);
    Must(DefineMetric{"cac-m", "CAC", "USD", Aggregate::kLast}, a);
    CreateGoal obj;
    obj.id = "obj";
    obj.kind = GoalKind::kObjective;
    obj.title = "Grow efficiently this year";
    obj.unit = "sales";
    obj.cycle = "2027-q1";
    Must(obj, a);
    Must(Increase("kr", "apac", "feb", 0, 100, "obj"), a);
    CreateGoal cac = Increase("cac", "support", "2027-q1", 250, 150, "");
    cac.measure->direction = Direction::kDecrease;
    Must(cac, a);
  }

  static CreateCycle NewCycle(std::string id, CycleKind kind, const char* start,
                              const char* end, std::string parent) {
    return CreateCycle{std::move(id),     "cycle",         kind,
                       *ParseDate(start), *ParseDate(end), std::move(parent)};
  }
  static CreateGoal Increase(std::string id, std::string unit,
                             std::string cycle, double start, double target,
                             std::string parent) {
    CreateGoal g;
    g.id = std::move(id);
    g.kind = GoalKind::kKeyResult;
    g.title = "Reach the target this month";
    g.unit = std::move(unit);
    g.cycle = std::move(cycle);
    g.owner = "ann";
    g.parent = std::move(parent);
    g.measure = MeasureInput{start, target, std::nullopt, Direction::kIncrease,
                             "",    "",     std::nullopt};
    return g;
  }

  // calls → appointments (10%) → meetings (50%) → signings (20%).
  static Decompose SigningsFunnel(std::string goal) {
    return Decompose{.goal = std::move(goal),
                     .by = SplitBy::kFunnel,
                     .stages = {{"calls", {}},
                                {"appointments", 0.1},
                                {"meetings", 0.5},
                                {"signings", 0.2}}};
  }

  std::vector<Event> Must(const Command& cmd, const CommandContext& ctx) {
    auto r = h_.Run(cmd, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? ""
                                   : r.error().message + " field " +
                                         r.error().field);
    return r.ok() ? *r : std::vector<Event>{};
  }

  Harness h_;
};

simdjson::dom::element ParseData(simdjson::dom::parser& p,
                                 const std::string& json) {
  return p.parse(json).value();
}

TEST_F(DecideTest, BuildsTheStateAndReplayEqualsLive) {
  const State& s = h_.state();
  ASSERT_NE(s.FindUnit("apac"), nullptr);
  EXPECT_EQ(s.FindUnit("apac")->children,
            (std::vector<std::string>{"ann", "bob"}));
  EXPECT_EQ(s.FindGoal("obj")->children, (std::vector<std::string>{"kr"}));
  EXPECT_EQ(s.FindGoal("kr")->measure->target, 100);
  EXPECT_EQ(s.FindGoal("kr")->version, 1u);
  EXPECT_EQ(s.position, h_.log().size());
  EXPECT_EQ(h_.Replay(), s);
}

struct Refusal {
  const char* name;
  Command command;
  CommandContext ctx;
  ErrorCode code;
  const char* field;
};

TEST_F(DecideTest, EveryInvalidCommandIsRefusedWithItsField) {
  const auto a = Admin(kNow);
  const auto e = Editor(kNow);
  const auto ann = Editor(kNow, "ann", "ann");
  CommandContext viewer = e;
  viewer.role = Role::kViewer;
  auto goal = [](auto f) {
    CreateGoal g = Increase("g-new", "apac", "feb", 0, 10, "");
    f(g);
    return g;
  };
  auto edit = [](auto f) {
    EditGoal g;
    g.id = "kr";
    f(g);
    return g;
  };
  const Refusal cases[] =
      {
          // Authorization.
          {"viewer writes nothing", goal([](CreateGoal&) {}), viewer,
           ErrorCode::kForbidden, ""},
          {"units are admin-only",
           CreateUnit{"x", "X", UnitKind::kTeam, "acme"}, e,
           ErrorCode::kForbidden, ""},
          {"cycles are admin-only",
           NewCycle("c", CycleKind::kCustom, "2027-01-01", "2027-01-02", ""), e,
           ErrorCode::kForbidden, ""},
          {"tokens are admin-only",
           CreateToken{"t", Role::kViewer, "", std::string(64, 'a')}, e,
           ErrorCode::kForbidden, ""},
          {"scope covers the goal's unit",
           goal([](CreateGoal& g) { g.unit = "support"; }),
           Editor(kNow, "x", "sales"), ErrorCode::kForbidden, ""},
          // Units.
          {"unit id form", CreateUnit{"Bad Id", "X", UnitKind::kTeam, "acme"},
           a, ErrorCode::kValidationFailed, "id"},
          {"unit exists", CreateUnit{"sales", "X", UnitKind::kTeam, "acme"}, a,
           ErrorCode::kAlreadyExists, "id"},
          {"unit name required", CreateUnit{"x", "", UnitKind::kTeam, "acme"},
           a, ErrorCode::kValidationFailed, "name"},
          {"unit kind required", CreateUnit{"x", "X", std::nullopt, "acme"}, a,
           ErrorCode::kValidationFailed, "kind"},
          {"unit parent exists", CreateUnit{"x", "X", UnitKind::kTeam, "nope"},
           a, ErrorCode::kValidationFailed, "parent"},
          {"one root", CreateUnit{"x", "X", UnitKind::kCompany, ""}, a,
           ErrorCode::kValidationFailed, "parent"},
          {"unit move makes a cycle", EditUnit{"sales", std::nullopt, "ann"}, a,
           ErrorCode::kValidationFailed, "parent"},
          {"unit moves under itself", EditUnit{"sales", std::nullopt, "sales"},
           a, ErrorCode::kValidationFailed, "parent"},
          {"unit move to nowhere", EditUnit{"sales", std::nullopt, "nope"}, a,
           ErrorCode::kValidationFailed, "parent"},
          {"unit edit unknown", EditUnit{"nope", "N", std::nullopt}, a,
           ErrorCode::kNotFound, ""},
          {"unit name emptied", EditUnit{"sales", "", std::nullopt}, a,
           ErrorCode::kValidationFailed, "name"},
          // Cycles.
          {"cycle exists",
           NewCycle("feb", CycleKind::kMonth, "2027-02-01", "2027-02-28", ""),
           a, ErrorCode::kAlreadyExists, "id"},
          {"cycle id form",
           NewCycle("-x", CycleKind::kMonth, "2027-02-01", "2027-02-28", ""), a,
           ErrorCode::kValidationFailed, "id"},
          {"cycle end before start",
           NewCycle("x", CycleKind::kCustom, "2027-02-02", "2027-02-01", ""), a,
           ErrorCode::kValidationFailed, "end"},
          {"cycle kind required", CreateCycle{"x", "X", std::nullopt, 1, 2, ""},
           a, ErrorCode::kValidationFailed, "kind"},
          {"cycle start required",
           CreateCycle{"x", "X", CycleKind::kDay, std::nullopt, 2, ""}, a,
           ErrorCode::kValidationFailed, "start"},
          {"cycle starts before parent",
           NewCycle("x", CycleKind::kMonth, "2026-12-01", "2027-01-31", "2027"),
           a, ErrorCode::kValidationFailed, "start"},
          {"cycle ends after parent",
           NewCycle("x", CycleKind::kMonth, "2027-03-01", "2027-04-30",
                    "2027-q1"),
           a, ErrorCode::kValidationFailed, "end"},
          {"cycle parent exists",
           NewCycle("x", CycleKind::kMonth, "2027-03-01", "2027-03-31", "nope"),
           a, ErrorCode::kValidationFailed, "parent"},
          {"close unknown cycle", CloseCycle{"nope"}, a, ErrorCode::kNotFound,
           ""},
          // Goals.
          {"goal id form", goal([](CreateGoal& g) { g.id = "UPPER"; }), e,
           ErrorCode::kValidationFailed, "id"},
          {"goal exists", goal([](CreateGoal& g) { g.id = "kr"; }), e,
           ErrorCode::kAlreadyExists, "id"},
          {"goal kind required", goal([](CreateGoal& g) { g.kind.reset(); }), e,
           ErrorCode::kValidationFailed, "kind"},
          {"goal title required", goal([](CreateGoal& g) { g.title = ""; }), e,
           ErrorCode::kValidationFailed, "title"},
          {"goal unit required", goal([](CreateGoal& g) { g.unit = ""; }), e,
           ErrorCode::kValidationFailed, "unit"},
          {"goal unit exists", goal([](CreateGoal& g) { g.unit = "nope"; }), e,
           ErrorCode::kValidationFailed, "unit"},
          {"goal cycle required", goal([](CreateGoal& g) { g.cycle = ""; }), e,
           ErrorCode::kValidationFailed, "cycle"},
          {"goal cycle exists", goal([](CreateGoal& g) { g.cycle = "nope"; }),
           e, ErrorCode::kValidationFailed, "cycle"},
          {"goal parent exists", goal([](CreateGoal& g) { g.parent = "nope"; }),
           e, ErrorCode::kValidationFailed, "parent"},
          {"goal parent itself",
           goal([](CreateGoal& g) { g.parent = "g-new"; }), e,
           ErrorCode::kValidationFailed, "parent"},
          {"goal owner form", goal([](CreateGoal& g) { g.owner = "A B"; }), e,
           ErrorCode::kValidationFailed, "owner"},
          {"weight zero", goal([](CreateGoal& g) { g.weight = 0; }), e,
           ErrorCode::kValidationFailed, "weight"},
          {"weight negative", goal([](CreateGoal& g) { g.weight = -1; }), e,
           ErrorCode::kValidationFailed, "weight"},
          {"weight NaN", goal([](CreateGoal& g) { g.weight = NAN; }), e,
           ErrorCode::kValidationFailed, "weight"},
          {"increase needs target > start",
           goal([](CreateGoal& g) { g.measure->target = -1; }), e,
           ErrorCode::kValidationFailed, "measure.target"},
          {"start equals target",
           goal([](CreateGoal& g) { g.measure->target = 0; }), e,
           ErrorCode::kValidationFailed, "measure.target"},
          {"decrease needs target < start", goal([](CreateGoal& g) {
             g.measure->direction = Direction::kDecrease;
           }),
           e, ErrorCode::kValidationFailed, "measure.target"},
          {"target required",
           goal([](CreateGoal& g) { g.measure->target.reset(); }), e,
           ErrorCode::kValidationFailed, "measure.target"},
          {"stretch short of target",
           goal([](CreateGoal& g) { g.measure->stretch = 5; }), e,
           ErrorCode::kValidationFailed, "measure.stretch"},
          {"stretch on at_least",
           goal(
               [](CreateGoal& g) {
                 g.measure->direction = Direction::kAtLeast;
                 g.measure->stretch = 20;
               }),
           e, ErrorCode::kValidationFailed, "measure.stretch"},
          {"start not finite",
           goal([](CreateGoal& g) { g.measure->start = INFINITY; }), e,
           ErrorCode::kValidationFailed, "measure.start"},
          {"metric exists",
           goal([](CreateGoal& g) { g.measure->metric = "nope"; }), e,
           ErrorCode::kValidationFailed, "measure.metric"},
          {"new goal status",
           goal([](CreateGoal& g) { g.status = GoalStatus::kAchieved; }), e,
           ErrorCode::kValidationFailed, "status"},
          // Edits.
          {"edit unknown goal", EditGoal{.id = "nope", .title = "x"}, e,
           ErrorCode::kNotFound, ""},
          {"edit title empty", edit([](EditGoal& g) { g.title = ""; }), e,
           ErrorCode::kValidationFailed, "title"},
          {"edit weight zero", edit([](EditGoal& g) { g.weight = 0; }), e,
           ErrorCode::kValidationFailed, "weight"},
          {"edit parent loop",
           EditGoal{.id = "obj", .parent = std::string("kr")}, e,
           ErrorCode::kValidationFailed, "parent"},
          {"edit parent unknown", edit([](EditGoal& g) { g.parent = "nope"; }),
           e, ErrorCode::kValidationFailed, "parent"},
          {"edit target against direction",
           edit(
               [](EditGoal& g) {
                 g.measure = MeasurePatch{};
                 g.measure->target = -5;
               }),
           e, ErrorCode::kValidationFailed, "measure.target"},
          {"edit direction against start/target",
           edit(
               [](EditGoal& g) {
                 g.measure = MeasurePatch{};
                 g.measure->direction = Direction::kDecrease;
               }),
           e, ErrorCode::kValidationFailed, "measure.target"},
          {"if-match", edit([](EditGoal& g) { g.title = "Other title here"; }),
           [] {
             auto c = Editor(kNow);
             c.if_match = 7;
             return c;
           }(),
           ErrorCode::kVersionConflict, ""},
          // Status.
          {"status required", ChangeGoalStatus{"kr", std::nullopt, ""}, e,
           ErrorCode::kValidationFailed, "status"},
          {"status unknown goal",
           ChangeGoalStatus{"nope", GoalStatus::kDropped, ""}, e,
           ErrorCode::kNotFound, ""},
          {"active to proposed",
           ChangeGoalStatus{"kr", GoalStatus::kProposed, ""}, e,
           ErrorCode::kValidationFailed, "status"},
          // Check-ins.
          {"check-in unknown goal", AddCheckIn{"nope", 1, {}, "", {}}, e,
           ErrorCode::kNotFound, ""},
          {"confidence above 10", AddCheckIn{"kr", 1, 11, "", {}}, e,
           ErrorCode::kValidationFailed, "confidence"},
          {"confidence below 0", AddCheckIn{"kr", 1, -1, "", {}}, e,
           ErrorCode::kValidationFailed, "confidence"},
          {"value not finite", AddCheckIn{"kr", NAN, {}, "", {}}, e,
           ErrorCode::kValidationFailed, "value"},
          {"at in the future", AddCheckIn{"kr", 1, {}, "", kNow + 1}, e,
           ErrorCode::kValidationFailed, "at"},
          {"at before 1970", AddCheckIn{"kr", 1, {}, "", -1}, e,
           ErrorCode::kValidationFailed, "at"},
          {"decompose too many parts",
           Decompose{.goal = "kr",
                     .by = SplitBy::kOwners,
                     .parts = std::vector<OwnerPart>(1001, {"ann", "ann", 1})},
           a, ErrorCode::kValidationFailed, "parts"},
          {"check-in outside scope", AddCheckIn{"cac", 1, {}, "", {}}, ann,
           ErrorCode::kForbidden, ""},
          // Decompose.
          {"decompose needs by", Decompose{.goal = "kr"}, a,
           ErrorCode::kValidationFailed, "by"},
          {"decompose decrease",
           Decompose{.goal = "cac", .by = SplitBy::kOwners}, a,
           ErrorCode::kValidationFailed, "by"},
          {"decompose into required",
           Decompose{.goal = "kr", .by = SplitBy::kTime}, a,
           ErrorCode::kValidationFailed, "into"},
          {"weights count",
           Decompose{.goal = "kr",
                     .by = SplitBy::kTime,
                     .into = SplitInto::kWeek,
                     .weights = std::vector<double>{1, 2}},
           a, ErrorCode::kValidationFailed, "weights"},
          {"child cycles need admin",
           Decompose{
               .goal = "kr", .by = SplitBy::kTime, .into = SplitInto::kWeek},
           e, ErrorCode::kForbidden, ""},
          {"owners parts required",
           Decompose{.goal = "kr", .by = SplitBy::kOwners}, a,
           ErrorCode::kValidationFailed, "parts"},
          {"owners part unit",
           Decompose{.goal = "kr",
                     .by = SplitBy::kOwners,
                     .parts = {{"ann", "ann", 1}, {"nope", "", 1}}},
           a, ErrorCode::kValidationFailed, "parts[1].unit"},
          {"owners part weight",
           Decompose{.goal = "kr",
                     .by = SplitBy::kOwners,
                     .parts = {{"ann", "ann", 1}, {"bob", "bob", -2}}},
           a, ErrorCode::kValidationFailed, "parts[1].weight"},
          {"owners all zero",
           Decompose{.goal = "kr",
                     .by = SplitBy::kOwners,
                     .parts = {{"ann", "ann", 0}}},
           a, ErrorCode::kValidationFailed, "parts"},
          {"funnel rate",
           Decompose{.goal = "kr",
                     .by = SplitBy::kFunnel,
                     .stages = {{"calls", {}}, {"deals", 0}}},
           a, ErrorCode::kValidationFailed, "stages[1].rate"},
          {"funnel rate missing",
           Decompose{.goal = "kr",
                     .by = SplitBy::kFunnel,
                     .stages = {{"calls", {}}, {"deals", {}}}},
           a, ErrorCode::kValidationFailed, "stages[1].rate"},
          {"funnel one stage",
           Decompose{
               .goal = "kr", .by = SplitBy::kFunnel, .stages = {{"x", {}}}},
           a, ErrorCode::kValidationFailed, "stages"},
          // Retro notes.
          {"retro kind", NoteRetro{"sales", "feb", "", std::nullopt, "t"}, e,
           ErrorCode::kValidationFailed, "kind"},
          {"retro text",
           NoteRetro{"sales", "feb", "", RetroNoteKind::kCause, ""}, e,
           ErrorCode::kValidationFailed, "text"},
          {"retro unit",
           NoteRetro{"nope", "feb", "", RetroNoteKind::kCause, "t"}, e,
           ErrorCode::kValidationFailed, "unit"},
          {"retro cycle",
           NoteRetro{"sales", "nope", "", RetroNoteKind::kCause, "t"}, e,
           ErrorCode::kValidationFailed, "cycle"},
          {"retro goal",
           NoteRetro{"sales", "feb", "nope", RetroNoteKind::kCause, "t"}, e,
           ErrorCode::kValidationFailed, "goal"},
          // Metrics.
          {"metric exists", DefineMetric{"cac-m", "CAC", "", {}}, e,
           ErrorCode::kAlreadyExists, "id"},
          {"metric name", DefineMetric{"m2", "", "", {}}, e,
           ErrorCode::kValidationFailed, "name"},
          {"metric id form", DefineMetric{"M2", "n", "", {}}, e,
           ErrorCode::kValidationFailed, "id"},
          {"record unknown metric", RecordMetric{"nope", {{1, 1}}, ""}, e,
           ErrorCode::kNotFound, ""},
          {"record no points", RecordMetric{"cac-m", {}, ""}, e,
           ErrorCode::kValidationFailed, "points"},
          {"record too many points",
           RecordMetric{"cac-m", std::vector<MetricPoint>(10001), ""}, e,
           ErrorCode::kValidationFailed, "points"},
          {"record ts before 1970", RecordMetric{"cac-m", {{-5, 1}}, ""}, e,
           ErrorCode::kValidationFailed, "points[0].ts"},
          {"record NaN", RecordMetric{"cac-m", {{1, 1}, {2, NAN}}, ""}, e,
           ErrorCode::kValidationFailed, "points[1].value"},
          // Tokens.
          {"token name", CreateToken{"Bad Name", Role::kViewer, "", ""}, a,
           ErrorCode::kValidationFailed, "name"},
          {"token role",
           CreateToken{"t", std::nullopt, "", std::string(64, 'a')}, a,
           ErrorCode::kValidationFailed, "role"},
          {"token unit",
           CreateToken{"t", Role::kEditor, "nope", std::string(64, 'a')}, a,
           ErrorCode::kValidationFailed, "unit"},
          {"token hash", CreateToken{"t", Role::kEditor, "", "secret"}, a,
           ErrorCode::kValidationFailed, "secret_hash"},
          {"revoke unknown", RevokeToken{"nope"}, a, ErrorCode::kNotFound, ""},
      };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    const State before = h_.state();
    auto r = Decide(h_.state(), c.command, c.ctx);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_EQ(r.error().field, c.field) << r.error().message;
    auto run = h_.Run(c.command, c.ctx);
    EXPECT_FALSE(run.ok());
    EXPECT_EQ(h_.state(), before);
  }
}

TEST_F(DecideTest, ClosedCycleRefusesCheckInsAndFreezesGrades) {
  Must(AddCheckIn{"kr", 30, 6, "", {}}, Editor(kNow));
  auto ev = Must(CloseCycle{"feb"}, Admin(kNow));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "cycle.closed");
  const Goal* kr = h_.state().FindGoal("kr");
  ASSERT_TRUE(kr->frozen_grade.has_value());
  EXPECT_DOUBLE_EQ(*kr->frozen_grade, 0.3);
  EXPECT_TRUE(h_.state().FindCycle("feb")->closed);
  auto r = Decide(h_.state(), AddCheckIn{"kr", 50, {}, "", {}}, Editor(kNow));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCycleClosed);
  auto again = Decide(h_.state(), CloseCycle{"feb"}, Admin(kNow));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kCycleClosed);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, EditRecordsDottedChangesAndNoopAppendsNothing) {
  EditGoal ed;
  ed.id = "kr";
  ed.measure = MeasurePatch{};
  ed.measure->target = 80;
  ed.title = "Reach the target this month";  // unchanged
  ed.reason = "budget cut";
  auto ev = Must(ed, Editor(kNow));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "goal.edited");
  EXPECT_EQ(ev[0].data, R"({"changes":{"measure.target":{"from":100,"to":80}},)"
                        R"("reason":"budget cut"})");
  EXPECT_EQ(h_.state().FindGoal("kr")->measure->target, 80);
  EXPECT_EQ(h_.state().FindGoal("kr")->version, 2u);
  // The same PATCH again changes nothing: success, zero events.
  auto again = Decide(h_.state(), ed, Editor(kNow));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // Parent moves update the children lists; clearing works.
  EditGoal move{.id = "kr", .parent = std::string("")};
  Must(move, Editor(kNow));
  EXPECT_TRUE(h_.state().FindGoal("obj")->children.empty());
  EXPECT_EQ(h_.state().FindGoal("kr")->parent, "");
  EditGoal stretch{.id = "kr"};
  stretch.measure = MeasurePatch{};
  stretch.measure->stretch = 120;
  stretch.due = std::optional<Day>(*ParseDate("2027-02-20"));
  auto st = Must(stretch, Editor(kNow));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_NE(st[0].data.find(R"("measure.stretch":{"from":null,"to":120})"),
            std::string::npos)
      << st[0].data;
  EXPECT_EQ(h_.state().FindGoal("kr")->measure->stretch, 120);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, StatusLifecycleAndApproval) {
  CreateGoal p = Increase("proposal", "ann", "feb", 0, 5, "kr");
  p.status = GoalStatus::kDraft;
  auto ann = Editor(kNow, "ann", "ann");
  Must(p, ann);
  Must(ChangeGoalStatus{"proposal", GoalStatus::kProposed, ""}, ann);
  // Ann cannot approve her own proposal: the parent goal is APAC's.
  auto self = Decide(
      h_.state(), ChangeGoalStatus{"proposal", GoalStatus::kActive, ""}, ann);
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().code, ErrorCode::kForbidden);
  Must(ChangeGoalStatus{"proposal", GoalStatus::kActive, "agreed"},
       Editor(kNow, "manager", "apac"));
  EXPECT_EQ(h_.state().FindGoal("proposal")->status, GoalStatus::kActive);
  // Same status: nothing to do.
  auto same = Decide(
      h_.state(), ChangeGoalStatus{"proposal", GoalStatus::kActive, ""}, ann);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
  Must(ChangeGoalStatus{"proposal", GoalStatus::kArchived, ""}, ann);
  auto back = Decide(
      h_.state(), ChangeGoalStatus{"proposal", GoalStatus::kActive, ""}, ann);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().field, "status");
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, CheckInsKeepEffectiveTimeAndOrder) {
  Must(AddCheckIn{"kr", 10, 7, "first", kNow - 5 * kMillisPerDay},
       Editor(kNow));
  Must(AddCheckIn{"kr", std::nullopt, 5, "", std::nullopt}, Editor(kNow));
  const Goal* kr = h_.state().FindGoal("kr");
  ASSERT_EQ(kr->check_ins.size(), 2u);
  EXPECT_EQ(kr->check_ins[0].at, kNow - 5 * kMillisPerDay);
  EXPECT_EQ(kr->check_ins[0].recorded_at, kNow);
  EXPECT_EQ(kr->check_ins[0].value, 10);
  EXPECT_EQ(kr->check_ins[0].note, "first");
  EXPECT_FALSE(kr->check_ins[1].value.has_value());
  EXPECT_EQ(kr->check_ins[1].confidence, 5);
  EXPECT_LT(kr->check_ins[0].position, kr->check_ins[1].position);
}

// Found by tests/fuzz/command_json_fuzz: huge values were written as
// integers wider than 64 bits, which Apply could not read, so an
// acknowledged check-in (or funnel split) was silently left out of the State.
TEST_F(DecideTest, HugeValuesAreAppliedAndReplayed) {
  auto cmd = ParseCheckIn("kr", R"({"value":4.948343466666672e19})");
  ASSERT_TRUE(cmd.ok());
  Must(*cmd, Editor(kNow));
  const Goal* kr = h_.state().FindGoal("kr");
  ASSERT_EQ(kr->check_ins.size(), 1u);
  EXPECT_EQ(kr->check_ins[0].value, 4.948343466666672e19);
  CreateGoal g = Increase("huge", "apac", "feb", 0, 4.948343466666672e19, "");
  Must(g, Admin(kNow));
  const Goal* huge = h_.state().FindGoal("huge");
  ASSERT_NE(huge, nullptr);
  ASSERT_TRUE(huge->measure.has_value());
  EXPECT_EQ(huge->measure->target, 4.948343466666672e19);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, DecomposeFebruaryByWeekAndDay) {
  CreateGoal g = Increase("sales-feb", "apac", "feb", 0, 100000, "");
  Must(g, Admin(kNow));
  auto ev = Must(Decompose{.goal = "sales-feb",
                           .by = SplitBy::kTime,
                           .into = SplitInto::kWeek,
                           .integer = true},
                 Admin(kNow));
  // 4 cycle.created + 1 goal.decomposed + 4 goal.created.
  ASSERT_EQ(ev.size(), 9u);
  const State& s = h_.state();
  const Goal* parent = s.FindGoal("sales-feb");
  EXPECT_EQ(parent->split, SplitBy::kTime);
  ASSERT_EQ(parent->children.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const std::string id = "sales-feb-w0" + std::to_string(i + 1);
    EXPECT_EQ(parent->children[i], id);
    const Goal* child = s.FindGoal(id);
    ASSERT_NE(child, nullptr) << id;
    EXPECT_EQ(child->measure->target, 25000);
    EXPECT_EQ(child->measure->start, 0);
    EXPECT_EQ(child->split_from, "sales-feb");
    EXPECT_EQ(child->cycle, "feb-w0" + std::to_string(i + 1));
    const Cycle* cy = s.FindCycle(child->cycle);
    ASSERT_NE(cy, nullptr);
    EXPECT_EQ(cy->parent, "feb");
    EXPECT_EQ(cy->kind, CycleKind::kWeek);
    EXPECT_EQ(Weekday(cy->start), 1);
  }
  // A second split is refused, and so are check-ins on the split goal.
  auto twice = Decide(s,
                      Decompose{.goal = "sales-feb",
                                .by = SplitBy::kOwners,
                                .parts = {{"ann", "ann", 1}}},
                      Admin(kNow));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
  auto ci = Decide(s, AddCheckIn{"sales-feb", 5, {}, "", {}}, Editor(kNow));
  ASSERT_FALSE(ci.ok());
  EXPECT_EQ(ci.error().code, ErrorCode::kValidationFailed);
  EXPECT_EQ(ci.error().field, "goal");

  // The same month by day: 28 children of 3,571 or 3,572 summing exactly.
  Must(Increase("sales-feb2", "apac", "feb", 0, 100000, ""), Admin(kNow));
  Must(Decompose{.goal = "sales-feb2",
                 .by = SplitBy::kTime,
                 .into = SplitInto::kDay,
                 .integer = true},
       Admin(kNow));
  const Goal* p2 = h_.state().FindGoal("sales-feb2");
  ASSERT_EQ(p2->children.size(), 28u);
  double sum = 0;
  for (const std::string& id : p2->children) {
    double t = h_.state().FindGoal(id)->measure->target;
    EXPECT_TRUE(t == 3571 || t == 3572) << t;
    sum += t;
  }
  EXPECT_EQ(sum, 100000);
  EXPECT_NE(h_.state().FindCycle("feb-d028"), nullptr);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, DecomposeByOwnersAndFunnel) {
  CreateGoal apac = Increase("apac-sales", "apac", "2027", 0, 7'000'000, "");
  Must(apac, Admin(kNow));
  Must(CreateUnit{"cy", "Cy", UnitKind::kPerson, "apac"}, Admin(kNow));
  Must(
      Decompose{
          .goal = "apac-sales",
          .by = SplitBy::kOwners,
          .parts = {{"ann", "ann", 5}, {"bob", "bob", 3}, {"cy", "cy", 2}}},
      Editor(kNow));
  const Goal* p = h_.state().FindGoal("apac-sales");
  ASSERT_EQ(p->children.size(), 3u);
  const double want[] = {3'500'000, 2'100'000, 1'400'000};
  const char* owners[] = {"ann", "bob", "cy"};
  for (int i = 0; i < 3; ++i) {
    const Goal* c = h_.state().FindGoal(p->children[i]);
    EXPECT_NEAR(c->measure->target, want[i], 1e-9 * 7e6);
    EXPECT_EQ(c->owner, owners[i]);
    EXPECT_EQ(c->unit, owners[i]);
  }

  CreateGoal signings = Increase("signings", "ann", "feb", 0, 2, "");
  Must(signings, Editor(kNow));
  Must(SigningsFunnel("signings"), Editor(kNow));
  const Goal* f = h_.state().FindGoal("signings");
  EXPECT_EQ(f->split, SplitBy::kFunnel);
  ASSERT_EQ(f->children.size(), 4u);
  const double stages[] = {200, 20, 10, 2};
  for (int i = 0; i < 4; ++i) {
    const Goal* c = h_.state().FindGoal(f->children[i]);
    EXPECT_EQ(c->measure->target, stages[i]);
    EXPECT_EQ(c->kind, GoalKind::kKeyResult);
  }
  EXPECT_EQ(h_.Replay(), h_.state());
}

// A split goal retargeted with rescale_parts: its parts' targets follow,
// their shares kept, one goal.edited each with the reason; without it they
// stay.
TEST_F(DecideTest, RetargetingASplitGoalCanScaleItsParts) {
  Must(Increase("apac-sales", "apac", "2027", 0, 7'000'000, ""), Admin(kNow));
  Must(CreateUnit{"cy", "Cy", UnitKind::kPerson, "apac"}, Admin(kNow));
  Must(
      Decompose{
          .goal = "apac-sales",
          .by = SplitBy::kOwners,
          .parts = {{"ann", "ann", 5}, {"bob", "bob", 3}, {"cy", "cy", 2}}},
      Editor(kNow));
  const auto targets = [&](const std::string& id) {
    std::vector<double> out;
    for (const std::string& c : h_.state().FindGoal(id)->children) {
      out.push_back(h_.state().FindGoal(c)->measure->target);
    }
    return out;
  };
  using V = std::vector<double>;
  ASSERT_EQ(targets("apac-sales"), (V{3'500'000, 2'100'000, 1'400'000}));
  EditGoal up{.id = "apac-sales",
              .measure = MeasurePatch{.target = 8'000'000},
              .rescale_parts = true,
              .reason = "bigger market"};
  std::vector<Event> ev = Must(up, Editor(kNow, "x", "apac"));
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].stream, "goal-apac-sales");
  EXPECT_EQ(targets("apac-sales"), (V{4'000'000, 2'400'000, 1'600'000}));
  EXPECT_NE(
      ev[1].data.find(R"("reason":"scaled with apac-sales: bigger market")"),
      std::string::npos)
      << ev[1].data;
  EXPECT_NE(
      ev[1].data.find(R"("measure.target":{"from":3500000,"to":4000000})"),
      std::string::npos)
      << ev[1].data;
  // Without it the parts stay.
  ASSERT_EQ(Must(EditGoal{.id = "apac-sales",
                          .measure = MeasurePatch{.target = 9'000'000}},
                 Editor(kNow))
                .size(),
            1u);
  EXPECT_EQ(targets("apac-sales"), (V{4'000'000, 2'400'000, 1'600'000}));

  // Whole parts stay whole and sum to the amount (largest remainder).
  Must(Increase("demos", "apac", "2027", 0, 10, ""), Admin(kNow));
  Must(
      Decompose{
          .goal = "demos",
          .by = SplitBy::kOwners,
          .integer = true,
          .parts = {{"ann", "ann", 1}, {"bob", "bob", 1}, {"cy", "cy", 1}}},
      Editor(kNow));
  ASSERT_EQ(targets("demos"), (V{4, 3, 3}));
  Must(EditGoal{.id = "demos",
                .measure = MeasurePatch{.target = 11},
                .rescale_parts = true},
       Editor(kNow));
  EXPECT_EQ(targets("demos"), (V{5, 3, 3}));

  // A funnel's stages scale with its target.
  Must(Increase("signings", "ann", "feb", 0, 2, ""), Editor(kNow));
  Must(SigningsFunnel("signings"), Editor(kNow));
  ASSERT_EQ(targets("signings"), (V{200, 20, 10, 2}));
  Must(EditGoal{.id = "signings",
                .measure = MeasurePatch{.target = 3},
                .rescale_parts = true},
       Editor(kNow));
  EXPECT_EQ(targets("signings"), (V{300, 30, 15, 3}));

  // Refused, nothing appended: a goal that is not split, and a part outside
  // the editor's scope.
  const size_t before = h_.log().size();
  auto flat = h_.Run(EditGoal{.id = "kr",
                              .measure = MeasurePatch{.target = 5},
                              .rescale_parts = true},
                     Editor(kNow));
  ASSERT_FALSE(flat.ok());
  EXPECT_EQ(flat.error().field, "rescale_parts");
  Must(Increase("tickets", "sales", "2027", 0, 100, ""), Admin(kNow));
  Must(Decompose{.goal = "tickets",
                 .by = SplitBy::kOwners,
                 .parts = {{"sales", "ann", 1}, {"support", "bob", 1}}},
       Admin(kNow));
  const size_t split = h_.log().size();
  auto outside = h_.Run(EditGoal{.id = "tickets",
                                 .measure = MeasurePatch{.target = 120},
                                 .rescale_parts = true},
                        Editor(kNow, "x", "sales"));
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(h_.log().size(), split);
  EXPECT_GT(split, before);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, ZeroSharesMakeNoChild) {
  Must(Increase("small", "apac", "feb", 0, 2, ""), Admin(kNow));
  Must(
      Decompose{
          .goal = "small",
          .by = SplitBy::kOwners,
          .integer = true,
          .parts = {{"ann", "ann", 1}, {"bob", "bob", 1}, {"apac", "", 1}}},
      Admin(kNow));
  EXPECT_EQ(h_.state().FindGoal("small")->children.size(), 2u);
}

TEST_F(DecideTest, GeneratedIdsAreUniqueAndValid) {
  CreateGoal g = Increase("", "apac", "feb", 0, 10, "");
  auto ctx = Editor(kNow);
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto ev = Must(g, ctx);
    ASSERT_EQ(ev.size(), 1u);
    std::string id = ev[0].stream.substr(5);
    EXPECT_TRUE(IsValidId(id)) << id;
    EXPECT_TRUE(ids.insert(id).second) << id;
  }
  ctx.id_seed = "01jdseed";
  auto a = Must(g, ctx);
  auto b = Must(g, ctx);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].stream, "goal-01jdseed");
  EXPECT_NE(b[0].stream, a[0].stream);
}

// A log the model did not decide (an import) may create a token name twice
// or give two tokens one hash: the index follows the tokens as Apply leaves
// them, the first name in order winning a shared hash.
TEST(TokenIndexTest, FollowsTokensCreatedAgainAndSharedHashes) {
  State s;
  uint64_t position = 0;
  auto created = [&](const std::string& name, char hash) {
    Event e;
    e.position = ++position;
    e.stream = "token-" + name;
    e.type = "token.created";
    e.data = R"({"name":")" + name + R"(","role":"editor","secret_hash":")" +
             std::string(64, hash) + R"("})";
    Apply(s, e);
  };
  created("zed", 'a');
  created("amy", 'a');
  ASSERT_NE(s.FindTokenByHash(std::string(64, 'a')), nullptr);
  EXPECT_EQ(s.FindTokenByHash(std::string(64, 'a'))->name, "amy");
  created("amy", 'b');  // amy's hash changes: zed holds 'a' alone
  EXPECT_EQ(s.FindTokenByHash(std::string(64, 'a'))->name, "zed");
  EXPECT_EQ(s.FindTokenByHash(std::string(64, 'b'))->name, "amy");
  created("zed", 'c');
  EXPECT_EQ(s.FindTokenByHash(std::string(64, 'a')), nullptr);
  EXPECT_EQ(s.FindTokenByHash(std::string(64, 'c'))->name, "zed");
}

TEST_F(DecideTest, TokensAndRetroNotesAndMetrics) {
  Must(CreateToken{"ci", Role::kEditor, "sales", std::string(64, 'b')},
       Admin(kNow));
  EXPECT_EQ(h_.state().tokens.at("ci").unit, "sales");
  auto dup = Decide(h_.state(),
                    CreateToken{"ci", Role::kEditor, "", std::string(64, 'b')},
                    Admin(kNow));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  ASSERT_NE(h_.state().FindTokenByHash(std::string(64, 'b')), nullptr);
  EXPECT_EQ(h_.state().FindTokenByHash(std::string(64, 'b'))->name, "ci");
  EXPECT_EQ(h_.state().FindTokenByHash(std::string(64, 'c')), nullptr);
  Must(RevokeToken{"ci"}, Admin(kNow));
  EXPECT_TRUE(h_.state().tokens.at("ci").revoked);
  EXPECT_TRUE(h_.state().FindTokenByHash(std::string(64, 'b'))->revoked);
  auto again = Decide(h_.state(), RevokeToken{"ci"}, Admin(kNow));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());

  Must(NoteRetro{"sales", "feb", "kr", RetroNoteKind::kLesson, "call earlier"},
       Editor(kNow));
  auto second =
      Must(NoteRetro{"sales", "feb", "", RetroNoteKind::kAction, "more demos"},
           Editor(kNow));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].stream, "retro-sales-feb");
  EXPECT_EQ(second[0].version, 2u);
  ASSERT_EQ(h_.state().retro_notes.size(), 2u);

  Must(RecordMetric{"cac-m", {{300, 2}, {100, 1}, {200, 5}}, "crm"},
       Editor(kNow));
  const uint64_t a = h_.state().position;
  Must(RecordMetric{"cac-m", {{150, 9}, {100, 7}}, ""}, Editor(kNow));
  const uint64_t b = h_.state().position;
  // In time order, earlier events first among equal times; each point
  // keeps the position of the event that recorded it.
  std::vector<MetricPoint> want = {
      {100, 1, a}, {100, 7, b}, {150, 9, b}, {200, 5, a}, {300, 2, a}};
  const Chunked<MetricPoint>& got = h_.state().FindMetric("cac-m")->points;
  EXPECT_EQ(std::vector<MetricPoint>(got.begin(), got.end()), want);
  EXPECT_EQ(h_.Replay(), h_.state());
}

TEST_F(DecideTest, EventDataIsCompactJson) {
  simdjson::dom::parser parser;
  for (const Event& e : h_.log()) {
    auto el = ParseData(parser, e.data);
    EXPECT_TRUE(el.is_object()) << e.data;
    EXPECT_EQ(e.data.find(' '), e.data.find(" ")) << e.data;
  }
}

}  // namespace
}  // namespace cairn
