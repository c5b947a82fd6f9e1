// Goal history, retrospective and diff on a scripted quarter.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "cairn/core/grade.hpp"
#include "cairn/core/pacing.hpp"
#include "cairn/core/state_codec.hpp"
#include "cairn/projections/diff.hpp"
#include "cairn/projections/history.hpp"
#include "cairn/projections/retro.hpp"
#include "scenario.hpp"

namespace cairn::projections {
namespace {

using testing::Admin;
using testing::Editor;
using testing::Script;

Millis At(const char* t) { return *ParseTime(t); }

bool ValidJson(const std::string& s) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  return !parser.parse(s).get(e);
}

std::vector<Event> StreamOf(const std::vector<Event>& all,
                            const std::string& stream) {
  std::vector<Event> out;
  for (const Event& e : all) {
    if (e.stream == stream) out.push_back(e);
  }
  return out;
}

// Q1 2026 for unit sales: goals planned in December, retargeted before the
// quarter starts (not listed) and during it (listed), checked in, dropped.
class QuarterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Millis dec = At("2025-12-15T10:00:00Z");
    s.Run(CreateUnit{.id = "acme", .name = "Acme", .kind = UnitKind::kCompany},
          Admin(dec));
    s.Run(CreateUnit{.id = "sales",
                     .name = "Sales",
                     .kind = UnitKind::kTeam,
                     .parent = "acme"},
          Admin(dec));
    s.Run(CreateCycle{.id = "q1",
                      .name = "Q1",
                      .kind = CycleKind::kQuarter,
                      .start = *ParseDate("2026-01-01"),
                      .end = *ParseDate("2026-03-31")},
          Admin(dec));
    auto goal = [&](std::string id, std::string owner, MeasureInput m,
                    std::string unit = "sales") {
      s.Run(CreateGoal{.id = id,
                       .kind = GoalKind::kKeyResult,
                       .title = "Goal " + id,
                       .unit = unit,
                       .cycle = "q1",
                       .owner = owner,
                       .measure = m},
            Editor(owner, dec));
    };
    goal("up", "alice", {.start = 0, .target = 100});
    goal("hit", "alice", {.start = 0, .target = 50});
    goal("short", "bob", {.start = 0, .target = 100});
    goal("gone", "bob", {.start = 0, .target = 10});
    goal("cac", "carol",
         {.start = 250, .target = 150, .direction = Direction::kDecrease});
    goal("ship", "carol", {.direction = Direction::kBinary});
    goal("other", "dave", {.start = 0, .target = 1}, "acme");
    // Before the quarter: a retarget that auditors need not flag.
    s.Run(EditGoal{.id = "up",
                   .measure = MeasurePatch{.target = 120},
                   .reason = "planning"},
          Editor("alice", At("2025-12-20T09:00:00Z")));
    after_planning_ = s.state();

    // Week 1.
    const Millis w1 = At("2026-01-05T09:00:00Z");
    s.Run(AddCheckIn{.goal = "up", .value = 60, .confidence = 6, .at = w1},
          Editor("alice", w1));
    s.Run(AddCheckIn{.goal = "hit", .value = 50, .at = w1},
          Editor("alice", w1));
    s.Run(AddCheckIn{.goal = "short", .value = 20, .confidence = 4, .at = w1},
          Editor("bob", w1));
    week1_ = s.state();

    // Week 10: the target lowered, start and stretch moved.
    const Millis w10 = At("2026-03-09T09:00:00Z");
    s.Run(EditGoal{.id = "short",
                   .measure =
                       MeasurePatch{.start = 5, .target = 80, .stretch = 90},
                   .reason = "market shrank"},
          Editor("bob", w10));
    s.Run(EditGoal{.id = "short", .title = "Goal short, renamed"},
          Editor("bob", w10 + 1000));
    s.Run(ChangeGoalStatus{.id = "gone",
                           .status = GoalStatus::kDropped,
                           .reason = "deprioritised"},
          Editor("bob", w10));
    s.Run(AddCheckIn{.goal = "up", .value = 130, .confidence = 9, .at = w10},
          Editor("alice", w10));
    s.Run(AddCheckIn{.goal = "cac", .value = 140, .at = w10},
          Editor("carol", w10));
    s.Run(ChangeGoalStatus{.id = "ship", .status = GoalStatus::kAchieved},
          Editor("carol", w10));
    s.Run(CreateGoal{.id = "late",
                     .kind = GoalKind::kKeyResult,
                     .title = "Goal late",
                     .unit = "sales",
                     .cycle = "q1",
                     .owner = "alice",
                     .measure = MeasureInput{.start = 0, .target = 5}},
          Editor("alice", w10));
    s.Run(NoteRetro{.unit = "sales",
                    .cycle = "q1",
                    .kind = RetroNoteKind::kLesson,
                    .text = "plan earlier"},
          Editor("alice", w10));
    s.Run(NoteRetro{.unit = "acme",
                    .cycle = "q1",
                    .kind = RetroNoteKind::kCause,
                    .text = "not ours"},
          Editor("alice", w10));
    end_ = At("2026-03-31T12:00:00Z");
  }

  Script s;
  State after_planning_, week1_;
  Millis end_ = 0;
};

std::vector<std::string> Ids(const std::vector<RetroGoal>& goals) {
  std::vector<std::string> out;
  for (const RetroGoal& g : goals) out.push_back(g.id);
  return out;
}

TEST_F(QuarterTest, RetroSortsGoalsAndFlagsOnlyInQuarterRetargets) {
  Result<Retro> r = ComputeRetro(s.state(), "sales", "q1", s.events(), end_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids(r->exceeded), (V{"cac", "up"}));
  EXPECT_EQ(Ids(r->achieved), (V{"hit", "ship"}));
  EXPECT_EQ(Ids(r->missed), (V{"late", "short"}));
  EXPECT_EQ(Ids(r->dropped), (V{"gone"}));

  // Only the week-10 change; the December one (before the start) is not.
  ASSERT_EQ(r->retargeted.size(), 3u);
  EXPECT_EQ(r->retargeted[0].goal, "short");
  EXPECT_EQ(r->retargeted[0].field, "measure.start");
  EXPECT_EQ(r->retargeted[0].from, "0");
  EXPECT_EQ(r->retargeted[0].to, "5");
  EXPECT_EQ(r->retargeted[1].field, "measure.target");
  EXPECT_EQ(r->retargeted[1].from, "100");
  EXPECT_EQ(r->retargeted[1].to, "80");
  EXPECT_EQ(r->retargeted[1].actor, "bob");
  EXPECT_EQ(r->retargeted[1].reason, "market shrank");
  EXPECT_EQ(r->retargeted[1].at, At("2026-03-09T09:00:00Z"));
  EXPECT_EQ(r->retargeted[2].field, "measure.stretch");
  EXPECT_EQ(r->retargeted[2].from, "null");
  EXPECT_EQ(r->retargeted[2].to, "90");

  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_EQ(r->notes[0].text, "plan earlier");
  EXPECT_EQ(r->check_ins, 5u);
  EXPECT_EQ(r->check_ins_by_owner.at("alice"), 3u);
  EXPECT_EQ(r->check_ins_by_owner.at("bob"), 1u);
  EXPECT_EQ(r->check_ins_by_owner.at("carol"), 1u);

  JsonWriter w;
  WriteRetro(w, *r);
  std::string json = std::move(w).Take();
  EXPECT_TRUE(ValidJson(json)) << json;
  EXPECT_NE(
      json.find(
          R"("retargeted":[{"goal":"short","field":"measure.start","from":0,"to":5,"at":"2026-03-09T09:00:00.000Z","actor":"bob","reason":"market shrank")"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("check_ins":{"count":5,"by_owner":{"alice":3,"bob":1,"carol":1}})"),
      std::string::npos)
      << json;
}

TEST_F(QuarterTest, RetroAsOfWeekOneSeesTheQuarterSoFar) {
  Result<Retro> r = ComputeRetro(week1_, "sales", "q1", s.events(),
                                 At("2026-01-05T10:00:00Z"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->retargeted.empty());  // later edits are past its position
  EXPECT_TRUE(r->dropped.empty());
  EXPECT_EQ(Ids(r->achieved), (std::vector<std::string>{"hit"}));
  EXPECT_EQ(r->check_ins, 3u);
  EXPECT_FALSE(ComputeRetro(week1_, "nope", "q1", {}, 0).ok());
  EXPECT_EQ(ComputeRetro(week1_, "sales", "q9", {}, 0).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(RetroStreams(s.state(), "sales", "q1").size(), 7u);
}

TEST_F(QuarterTest, HistoryShowsEveryEventWithReadableChanges) {
  std::vector<Event> events = StreamOf(s.events(), "goal-short");
  ASSERT_EQ(events.size(), 4u);
  JsonWriter w;
  ASSERT_TRUE(WriteGoalHistory(w, "short", events, s.state().position).ok());
  std::string json = std::move(w).Take();
  EXPECT_TRUE(ValidJson(json)) << json;
  EXPECT_EQ(json.rfind(R"({"goal":"short","events":[{"position":)", 0), 0u)
      << json;
  // goal.created: the initial fields, measure spelled out.
  EXPECT_NE(json.find(R"("title":{"from":null,"to":"Goal short"})"),
            std::string::npos);
  EXPECT_NE(json.find(R"("measure.target":{"from":null,"to":100})"),
            std::string::npos);
  // The check-in: value and confidence from nothing.
  EXPECT_NE(
      json.find(
          R"("value":{"from":null,"to":20},"confidence":{"from":null,"to":4})"),
      std::string::npos)
      << json;
  // The retarget with its reason.
  EXPECT_NE(
      json.find(
          R"("changes":{"measure.start":{"from":0,"to":5},"measure.target":{"from":100,"to":80},"measure.stretch":{"from":null,"to":90}},"reason":"market shrank")"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(R"("title":{"from":"Goal short","to":"Goal short, renamed"})"),
      std::string::npos);
  EXPECT_NE(json.find(R"("actor":"bob")"), std::string::npos);
  EXPECT_NE(json.find(R"("at":"2026-03-09T09:00:00.000Z")"), std::string::npos);
  std::string tail =
      R"(],"position":)" + std::to_string(s.state().position) + "}";
  EXPECT_EQ(json.substr(json.size() - tail.size()), tail);

  // Status change, and a history as of an earlier position.
  JsonWriter w2;
  std::vector<Event> gone = StreamOf(s.events(), "goal-gone");
  ASSERT_TRUE(WriteGoalHistory(w2, "gone", gone, s.state().position).ok());
  EXPECT_NE(
      w2.str().find(
          R"("changes":{"status":{"from":"active","to":"dropped"}},"reason":"deprioritised")"),
      std::string::npos)
      << w2.str();
  JsonWriter w3;
  ASSERT_TRUE(WriteGoalHistory(w3, "short", events, week1_.position).ok());
  EXPECT_EQ(w3.str().find("market shrank"), std::string::npos);
  JsonWriter w4;
  EXPECT_EQ(WriteGoalHistory(w4, "short", events, 1).error().code,
            ErrorCode::kNotFound);
}

TEST_F(QuarterTest, CorrectedCheckInShowsBoth) {
  std::vector<Event> events = StreamOf(s.events(), "goal-up");
  // A wrong check-in, then one that says it corrects it.
  Event wrong = events.back();
  wrong.position = 1000;
  wrong.version = events.back().version + 1;
  wrong.data = R"({"value":13,"at":"2026-03-10T09:00:00.000Z"})";
  Event fix = wrong;
  fix.position = 1001;
  fix.version = wrong.version + 1;
  fix.data =
      R"({"value":130,"note":"typo","at":"2026-03-10T09:00:00.000Z","correction_of":1000})";
  events.push_back(wrong);
  events.push_back(fix);
  JsonWriter w;
  ASSERT_TRUE(WriteGoalHistory(w, "up", events, 1001).ok());
  const std::string& json = w.str();
  EXPECT_TRUE(ValidJson(json)) << json;
  EXPECT_NE(json.find(R"("value":{"from":130,"to":13})"), std::string::npos);
  EXPECT_NE(json.find(R"("corrected_by":1001)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("value":{"from":13,"to":130})"), std::string::npos);
  EXPECT_NE(json.find(R"("corrects":1000)"), std::string::npos);
}

TEST_F(QuarterTest, CorrectionDecidedByTheDomain) {
  const Millis t = At("2026-03-12T09:00:00Z");
  std::vector<Event> wrong =
      s.Run(AddCheckIn{.goal = "hit", .value = 5, .at = t}, Editor("alice", t));
  ASSERT_EQ(wrong.size(), 1u);
  std::vector<Event> fix = s.Run(
      AddCheckIn{.goal = "hit",
                 .value = 50,
                 .note = "typo",
                 .at = t,
                 .correction_of = static_cast<int64_t>(wrong[0].position)},
      Editor("alice", t + 1000));
  ASSERT_EQ(fix.size(), 1u);
  // Both check-ins stay in the model and in the log.
  EXPECT_EQ(s.state().FindGoal("hit")->check_ins.size(), 3u);
  JsonWriter w;
  ASSERT_TRUE(WriteGoalHistory(w, "hit", StreamOf(s.events(), "goal-hit"),
                               s.state().position)
                  .ok());
  EXPECT_NE(
      w.str().find(R"("corrected_by":)" + std::to_string(fix[0].position)),
      std::string::npos)
      << w.str();
  EXPECT_NE(w.str().find(R"("corrects":)" + std::to_string(wrong[0].position)),
            std::string::npos);
  // A correction must name a check-in of the same goal.
  Result<std::vector<PendingEvent>> bad = Decide(
      s.state(),
      AddCheckIn{.goal = "up",
                 .value = 1,
                 .correction_of = static_cast<int64_t>(wrong[0].position)},
      Editor("alice", t + 2000));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "correction_of");
}

// A corrected check-in counts nowhere but in the history: the goal's value,
// confidence, forecast and the retro's count are those of a log where the
// correction had been the only check-in, here with an effective day of its
// own (a tie on `at` would hide a wrong current value).
TEST_F(QuarterTest, CorrectedCheckInCountsNowhereElse) {
  Script clean = s;
  const Millis t = At("2026-03-12T09:00:00Z");
  std::vector<Event> wrong =
      s.Run(AddCheckIn{.goal = "short", .value = 800, .confidence = 9, .at = t},
            Editor("bob", t));
  ASSERT_EQ(wrong.size(), 1u);
  const AddCheckIn fixed{.goal = "short",
                         .value = 60,
                         .confidence = 5,
                         .note = "typo",
                         .at = t - kMillisPerDay};
  AddCheckIn correction = fixed;
  correction.correction_of = static_cast<int64_t>(wrong[0].position);
  ASSERT_EQ(s.Run(correction, Editor("bob", t + 1000)).size(), 1u);
  ASSERT_EQ(clean.Run(fixed, Editor("bob", t + 1000)).size(), 1u);

  const Goal& g = *s.state().FindGoal("short");
  const Goal& c = *clean.state().FindGoal("short");
  EXPECT_EQ(g.check_ins.size(), 3u);  // all kept
  EXPECT_EQ(g.corrections, 1u);
  EXPECT_EQ(GoalCurrentValue(s.state(), g, end_), 60);
  const auto has_confidence = [](const CheckIn& x) {
    return x.confidence.has_value();
  };
  ASSERT_NE(LatestCheckIn(g, has_confidence), nullptr);
  EXPECT_EQ(LatestCheckIn(g, has_confidence)->confidence, 5);
  const std::optional<double> forecast = Forecast(clean.state(), c);
  ASSERT_TRUE(forecast.has_value());
  ASSERT_TRUE(Forecast(s.state(), g).has_value());
  EXPECT_NEAR(*Forecast(s.state(), g), *forecast, 1e-9);
  // The same from a rebuild, and from a snapshot by reference (whose trend
  // is folded when asked for).
  State rebuilt;
  for (const Event& e : s.events()) Apply(rebuilt, e);
  EXPECT_TRUE(rebuilt == s.state());
  EXPECT_NEAR(*Forecast(rebuilt, *rebuilt.FindGoal("short")), *forecast, 1e-9);
  Result<State> light = DecodeState(
      EncodeState(s.state(), SnapshotHistory::kByReference), &s.state());
  ASSERT_TRUE(light.ok()) << light.error().message;
  EXPECT_EQ(light->FindGoal("short")->corrections, 1u);
  EXPECT_NEAR(*Forecast(*light, *light->FindGoal("short")), *forecast, 1e-9);

  Result<Retro> r = ComputeRetro(s.state(), "sales", "q1", s.events(), end_);
  Result<Retro> rc =
      ComputeRetro(clean.state(), "sales", "q1", clean.events(), end_);
  ASSERT_TRUE(r.ok() && rc.ok());
  EXPECT_EQ(r->check_ins, 6u);  // the correction in the wrong one's place
  EXPECT_EQ(r->check_ins, rc->check_ins);
  EXPECT_EQ(r->check_ins_by_owner, rc->check_ins_by_owner);
  EXPECT_EQ(Ids(r->missed), Ids(rc->missed));
  EXPECT_EQ(Ids(r->exceeded), Ids(rc->exceeded));
}

TEST(GoalEditChangesTest, WholeMeasureAndBadData) {
  Event e;
  e.type = "goal.edited";
  e.data =
      R"({"changes":{"measure":{"from":null,"to":{"start":0,"target":5,"direction":"increase","aggregate":"last"}}},"reason":"a \"quoted\" reason"})";
  std::vector<FieldChange> c = GoalEditChanges(e);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[1], (FieldChange{"measure.target", "null", "5"}));
  EXPECT_EQ(c[2], (FieldChange{"measure.direction", "null", "\"increase\""}));
  EXPECT_EQ(EventReason(e), "a \"quoted\" reason");
  e.data = "{not json";
  EXPECT_TRUE(GoalEditChanges(e).empty());
  EXPECT_EQ(EventReason(e), "");
  e.data = R"({"changes":[1,2]})";
  EXPECT_TRUE(GoalEditChanges(e).empty());
}

const GoalChanges* Find(const GoalsDiff& d, const std::string& id) {
  for (const GoalChanges& g : d.changed) {
    if (g.goal == id) return &g;
  }
  return nullptr;
}

TEST_F(QuarterTest, DiffBetweenTwoPoints) {
  GoalsDiff d = DiffGoals(week1_, s.state(), "sales", "q1",
                          At("2026-01-05T10:00:00Z"), end_);
  EXPECT_EQ(d.from, week1_.position);
  EXPECT_EQ(d.to, s.state().position);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].id, "late");
  EXPECT_TRUE(d.removed.empty());
  const GoalChanges* shrt = Find(d, "short");
  ASSERT_NE(shrt, nullptr);
  std::vector<FieldChange> want = {
      {"title", R"("Goal short")", R"("Goal short, renamed")"},
      {"measure.start", "0", "5"},
      {"measure.target", "100", "80"},
      {"measure.stretch", "null", "90"},
      {"grade", "0.2", "0.2"}};
  // grade 20/100 before; (20-5)/(80-5) = 0.2 after: unchanged, so absent.
  want.pop_back();
  EXPECT_EQ(shrt->changes, want);
  const GoalChanges* gone = Find(d, "gone");
  JsonWriter dbg;
  WriteDiff(dbg, d);
  ASSERT_NE(gone, nullptr) << dbg.str();
  EXPECT_EQ(
      gone->changes,
      (std::vector<FieldChange>{{"status", R"("active")", R"("dropped")"}}));
  const GoalChanges* up = Find(d, "up");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->changes, (std::vector<FieldChange>{{"current", "60", "130"},
                                                   {"confidence", "6", "9"},
                                                   {"grade", "0.5", "1"}}));
  EXPECT_EQ(Find(d, "hit"), nullptr);    // unchanged since week 1
  EXPECT_EQ(Find(d, "other"), nullptr);  // another unit

  // Backwards: what was added is now removed.
  GoalsDiff back = DiffGoals(s.state(), week1_, "sales", "q1", end_,
                             At("2026-01-05T10:00:00Z"));
  ASSERT_EQ(back.removed.size(), 1u);
  EXPECT_EQ(back.removed[0].id, "late");
  EXPECT_TRUE(back.added.empty());

  // From before anything existed: everything is added.
  GoalsDiff all = DiffGoals(State{}, after_planning_, "sales", "q1", 0, 0);
  EXPECT_EQ(all.added.size(), 6u);

  JsonWriter w;
  WriteDiff(w, d);
  std::string json = std::move(w).Take();
  EXPECT_TRUE(ValidJson(json)) << json;
  EXPECT_NE(
      json.find(
          R"("added":[{"id":"late","title":"Goal late","owner":"alice","status":"active"}])"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("measure.target":{"from":100,"to":80})"),
            std::string::npos);
}

}  // namespace
}  // namespace cairn::projections
