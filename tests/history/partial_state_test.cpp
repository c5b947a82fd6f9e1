// Partial States (partial_state.hpp): boards, scorecards, retros and diffs
// as of any position answered from the part of the State they read equal
// those of the whole State rebuilt from the log, on random logs that also move
// units and goals around, rebind metrics and close cycles.
#include "cairn/core/partial_state.hpp"

#include <gtest/gtest.h>

#include <random>

#include "cairn/core/state_codec.hpp"
#include "cairn/projections/board.hpp"
#include "cairn/projections/diff.hpp"
#include "cairn/projections/entities.hpp"
#include "cairn/projections/retro.hpp"
#include "scenario.hpp"
#include "time_travel.hpp"

namespace cairn::gateway {
namespace {

using testing::Log;

const char* const kUnits[] = {"acme",     "sales",   "eng",   "emea",
                              "americas", "backend", "web",   "ana",
                              "ben",      "chen",    "dmitri"};
const char* const kMetrics[] = {"cac", "nps", "arr"};
const char* const kCycles[] = {"y", "q1", "q2"};

// Random valid traffic over a unit tree three levels deep: goals in every
// unit and cycle, key results under objectives of other units, check-ins,
// metric points, retargets, goals moved under other goals, units moved
// under other units, metrics rebound, status changes, q1 closed. After each
// command, `after()`.
template <typename After>
void ReshapingTraffic(Log& log, uint64_t seed, int commands, After after) {
  std::mt19937_64 rng(seed);
  const Millis now = NowMillis();
  const Day today = DayOf(now);
  auto admin = testing::Admin(now);
  auto run = [&](const Command& c, const CommandContext& ctx) {
    bool ok = log.Run(c, ctx);
    after();
    return ok;
  };
  run(CreateUnit{.id = "acme", .name = "Acme", .kind = UnitKind::kCompany},
      admin);
  const std::pair<const char*, const char*> tree[] = {
      {"sales", "acme"},     {"eng", "acme"},     {"emea", "sales"},
      {"americas", "sales"}, {"backend", "eng"},  {"web", "eng"},
      {"ana", "emea"},       {"ben", "americas"}, {"chen", "backend"},
      {"dmitri", "web"}};
  for (const auto& [id, parent] : tree) {
    run(
        CreateUnit{
            .id = id, .name = id, .kind = UnitKind::kTeam, .parent = parent},
        admin);
  }
  run(CreateCycle{.id = "y",
                  .name = "Year",
                  .kind = CycleKind::kYear,
                  .start = today - 100,
                  .end = today + 200},
      admin);
  run(CreateCycle{.id = "q1",
                  .name = "Q1",
                  .kind = CycleKind::kQuarter,
                  .start = today - 60,
                  .end = today + 20,
                  .parent = "y"},
      admin);
  run(CreateCycle{.id = "q2",
                  .name = "Q2",
                  .kind = CycleKind::kQuarter,
                  .start = today + 21,
                  .end = today + 110,
                  .parent = "y"},
      admin);
  for (const char* m : kMetrics) run(DefineMetric{.id = m, .name = m}, admin);

  int goals = 0;
  auto any = [&](auto& list) { return list[rng() % std::size(list)]; };
  auto goal = [&] { return "g" + std::to_string(goals ? rng() % goals : 0); };
  for (int i = 0; i < commands; ++i) {
    auto ed = testing::Editor(any(kUnits), now);
    switch (goals < 4 ? 0 : rng() % 12) {
      case 0:
      case 1: {
        CreateGoal c{.id = "g" + std::to_string(goals),
                     .kind = GoalKind::kKeyResult,
                     .title = "Goal " + std::to_string(goals),
                     .unit = any(kUnits),
                     .cycle = any(kCycles),
                     .owner = "owner"};
        if (rng() % 4) {
          c.measure = MeasureInput{.start = 0, .target = 100};
          if (rng() % 3 == 0) c.measure->metric = any(kMetrics);
        }
        if (goals > 0 && rng() % 2) c.parent = goal();
        if (rng() % 3 == 0) c.perspective = Perspective::kCustomer;
        if (run(c, ed)) ++goals;
        break;
      }
      case 2: {
        EditGoal e{.id = goal(), .reason = "replanned"};
        switch (rng() % 4) {
          case 0:
            e.parent = rng() % 4 ? goal() : "";
            break;
          case 1:
            e.measure = MeasurePatch{.metric = rng() % 3 ? any(kMetrics) : ""};
            break;
          case 2:
            e.weight = double(1 + rng() % 3);
            break;
          default:
            e.measure = MeasurePatch{.target = double(50 + rng() % 100)};
        }
        run(e, ed);
        break;
      }
      case 3:
        // Units move under other units (Decide refuses loops).
        run(EditUnit{.id = any(kUnits), .parent = any(kUnits)}, admin);
        break;
      case 4: {
        const GoalStatus to[] = {GoalStatus::kActive, GoalStatus::kAchieved,
                                 GoalStatus::kDropped};
        run(ChangeGoalStatus{.id = goal(), .status = any(to), .reason = "r"},
            ed);
        break;
      }
      case 5:
        run(RecordMetric{.id = any(kMetrics),
                         .points = {{now - int64_t(rng() % 1000000),
                                     double(rng() % 300)}}},
            ed);
        break;
      case 6:
        if (i > commands * 3 / 4) run(CloseCycle{.id = "q1"}, admin);
        break;
      default:
        run(AddCheckIn{.goal = goal(),
                       .value = double(rng() % 120),
                       .at = now - int64_t(rng() % 86'400'000)},
            ed);
    }
  }
}

// Every event of the store, oldest first.
std::vector<Event> AllEvents(const eventstore::EventStore& store) {
  std::vector<Event> out;
  EXPECT_TRUE(store
                  .ReadAll(0,
                           [&](const Event& e) {
                             out.push_back(e);
                             return true;
                           })
                  .ok());
  return out;
}

std::string Board(const State& s, const std::string& unit,
                  const std::string& cycle, int depth) {
  JsonWriter w;
  projections::WriteBoard(w, s, unit, cycle, depth, s.at);
  return std::move(w).Take();
}

std::string Scorecard(const State& s, const std::string& unit, int depth) {
  JsonWriter w;
  projections::WriteScorecard(w, s, unit, "", s.at, depth);
  return std::move(w).Take();
}

// The retro of `unit` and `cycle` as of `s`, from the store's events of
// the streams it names (as GET /retro reads them).
std::string Retro(eventstore::EventStore& store, const State& s,
                  const std::string& unit, const std::string& cycle) {
  std::vector<Event> events;
  for (const std::string& stream : projections::RetroStreams(s, unit, cycle)) {
    auto r = store.ReadStream(stream, 1, false, 0);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) continue;
    for (Event& e : *r) {
      if (e.position <= s.position) events.push_back(std::move(e));
    }
  }
  auto retro = projections::ComputeRetro(s, unit, cycle, events, s.at);
  if (!retro.ok()) return retro.error().message;
  JsonWriter w;
  projections::WriteRetro(w, *retro);
  return std::move(w).Take();
}

// The response of GET /goals/{id} for `goal` as of `s`.
std::string GoalView(const State& s, const Goal& goal) {
  JsonWriter w;
  projections::WriteGoal(w, s, goal, s.at);
  return std::move(w).Take();
}

// The diff of `unit` and `cycle` from `from` to `to`.
std::string Diff(const State& from, const State& to, const std::string& unit,
                 const std::string& cycle) {
  JsonWriter w;
  projections::WriteDiff(
      w, projections::DiffGoals(from, to, unit, cycle, from.at, to.at));
  return std::move(w).Take();
}

// At sampled positions, for every unit and depths 0, 1 and all: the board
// (every cycle, and none) and the scorecard from PartialStateAt equal those
// of the State rebuilt from events 1..p; at depth 0 also the retro of each
// cycle and the diff from there to the head; and a sample of the goals'
// own views from the part their unit picks. Returns how many answers were
// partial (fewer goals than the whole State).
int CheckBoards(Log& log, TimeTravel& tt, uint64_t seed) {
  std::vector<Event> events = AllEvents(log.store());
  auto live = std::make_shared<const State>(log.state());
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> samples = {1, events.size()};
  for (int i = 0; i < 25; ++i) samples.push_back(1 + rng() % events.size());
  std::sort(samples.begin(), samples.end());
  State whole;
  size_t next = 0;
  int partial = 0;
  for (uint64_t p : samples) {
    while (next < events.size() && events[next].position <= p) {
      Apply(whole, events[next++]);
    }
    for (const char* unit : kUnits) {
      for (int depth : {0, 1, -1}) {
        auto s =
            tt.PartialStateAt(p, live, projections::BoardUnits(unit, depth));
        EXPECT_TRUE(s.ok()) << s.error().message;
        if (!s.ok()) return partial;
        const State& part = **s;
        EXPECT_EQ(part.position, p);
        if (part.goals.size() < whole.goals.size()) ++partial;
        for (const char* cycle : {"", "y", "q1", "q2"}) {
          EXPECT_EQ(Board(part, unit, cycle, depth),
                    Board(whole, unit, cycle, depth))
              << "seed " << seed << " position " << p << " unit " << unit
              << " depth " << depth << " cycle " << cycle;
        }
        EXPECT_EQ(Scorecard(part, unit, depth), Scorecard(whole, unit, depth))
            << "seed " << seed << " position " << p << " unit " << unit;
        for (const char* cycle : kCycles) {
          if (depth != 0) break;
          EXPECT_EQ(Retro(log.store(), part, unit, cycle),
                    Retro(log.store(), whole, unit, cycle))
              << "seed " << seed << " position " << p << " unit " << unit;
          EXPECT_EQ(Diff(part, *live, unit, cycle),
                    Diff(whole, *live, unit, cycle))
              << "seed " << seed << " position " << p << " unit " << unit;
        }
        if (::testing::Test::HasFailure()) return partial;
      }
    }
    // A goal's view from the part its own unit picks (as GET /goals/{id}
    // asks), for a sample of the goals.
    for (const auto& [id, g] : whole.goals) {
      if (rng() % 4 != 0) continue;
      auto s = tt.PartialStateAt(p, live, projections::BoardUnits(g.unit, 0));
      EXPECT_TRUE(s.ok());
      if (!s.ok()) return partial;
      const Goal* mine = (*s)->FindGoal(id);
      EXPECT_NE(mine, nullptr) << id;
      if (mine == nullptr) return partial;
      EXPECT_EQ(GoalView(**s, *mine), GoalView(whole, g))
          << "seed " << seed << " position " << p << " goal " << id;
    }
  }
  return partial;
}

TEST(PartialStateTest, BoardsAsOfEqualTheWholeStatesWithSnapshots) {
  for (uint64_t seed : {11, 12, 13, 14}) {
    Log log;
    {
      TimeTravel writer(log.store(),
                        {.snapshot_every = 20, .full_snapshot_every = 70});
      ReshapingTraffic(log, seed, 400, [&] { writer.AfterBatch(log.state()); });
    }
    TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 0});
    EXPECT_GT(CheckBoards(log, tt, seed), 0) << "no answer was partial";
    // From cached whole States as bases too.
    TimeTravel cached(log.store(), {.snapshot_every = 0, .cache_states = 4});
    for (uint64_t p = 10; p < log.state().position; p += 97) {
      ASSERT_TRUE(cached.StateAt(p).ok());
    }
    CheckBoards(log, cached, seed + 100);
  }
}

TEST(PartialStateTest, BoardsAsOfEqualTheWholeStatesWithoutSnapshots) {
  Log log;
  ReshapingTraffic(log, 21, 300, [] {});
  // Replayed from position 0, every goal is created on the way: the part
  // is the whole State.
  TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 0});
  EXPECT_EQ(CheckBoards(log, tt, 21), 0);
}

// The partial decode keeps exactly what PartialCopy keeps of the whole
// decode, from both kinds of snapshot.
TEST(PartialStateTest, PartialDecodeEqualsPartialCopyOfTheWhole) {
  Log log;
  std::vector<State> past;
  ReshapingTraffic(log, 31, 300, [&] {
    if (log.state().position % 37 == 0) past.push_back(log.state());
  });
  ASSERT_GT(past.size(), 3u);
  for (const State& s : past) {
    for (SnapshotHistory h :
         {SnapshotHistory::kIncluded, SnapshotHistory::kByReference}) {
      const std::string bytes = EncodeState(s, h);
      for (const char* unit : kUnits) {
        for (int depth : {0, 1, -1}) {
          PartialInfo decoded_info, copied_info;
          Result<State> decoded = DecodePartialState(
              bytes, &log.state(), projections::BoardUnits(unit, depth),
              decoded_info);
          ASSERT_TRUE(decoded.ok()) << decoded.error().message;
          State copied =
              PartialCopy(s, projections::BoardUnits(unit, depth), copied_info);
          EXPECT_TRUE(*decoded == copied)
              << "position " << s.position << " unit " << unit;
          EXPECT_EQ(decoded_info.units, copied_info.units);
          EXPECT_EQ(decoded_info.units_then, copied_info.units_then);
          EXPECT_EQ(decoded_info.metrics_left_out,
                    copied_info.metrics_left_out);
          for (const auto& [id, g] : copied.goals) {
            EXPECT_TRUE(g == s.goals.at(id));
          }
        }
      }
    }
  }
}

// A goal left out of the part moved under a kept one after the base: the
// kept goal's roll-up needs it, so the whole State answers.
TEST(PartialStateTest, LeftOutGoalMovedUnderAKeptOneIsNotMissed) {
  Log log;
  const Millis now = NowMillis();
  auto admin = testing::Admin(now);
  auto ed = testing::Editor("ana", now);
  ASSERT_TRUE(log.Run(
      CreateUnit{.id = "acme", .name = "Acme", .kind = UnitKind::kCompany},
      admin));
  for (const char* id : {"sales", "eng"}) {
    ASSERT_TRUE(log.Run(
        CreateUnit{
            .id = id, .name = id, .kind = UnitKind::kTeam, .parent = "acme"},
        admin));
  }
  ASSERT_TRUE(log.Run(CreateCycle{.id = "q1",
                                  .name = "Q1",
                                  .kind = CycleKind::kQuarter,
                                  .start = DayOf(now) - 10,
                                  .end = DayOf(now) + 80},
                      admin));
  ASSERT_TRUE(log.Run(CreateGoal{.id = "win",
                                 .kind = GoalKind::kObjective,
                                 .title = "Win",
                                 .unit = "sales",
                                 .cycle = "q1",
                                 .owner = "ana"},
                      ed));
  ASSERT_TRUE(log.Run(CreateGoal{.id = "kr",
                                 .kind = GoalKind::kKeyResult,
                                 .title = "KR",
                                 .unit = "eng",
                                 .cycle = "q1",
                                 .owner = "ana",
                                 .measure = MeasureInput{.target = 10}},
                      ed));
  ASSERT_TRUE(log.Run(AddCheckIn{.goal = "kr", .value = 9.0}, ed));
  TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 0});
  ASSERT_TRUE(tt.SnapshotNow(log.state()).ok());
  ASSERT_TRUE(log.Run(EditGoal{.id = "kr", .parent = "win"}, ed));
  ASSERT_TRUE(log.Run(AddCheckIn{.goal = "kr", .value = 3.0}, ed));

  // By hand: the part for sales left "kr" out, and knows it diverged.
  PartialInfo info;
  State part =
      PartialCopy(log.state(), projections::BoardUnits("sales", 0), info);
  EXPECT_EQ(part.goals.count("kr"), 1u);  // now below "win"
  Result<State> base = LoadAt(log.store(), 7);
  ASSERT_TRUE(base.ok());
  part = PartialCopy(*base, projections::BoardUnits("sales", 0), info);
  EXPECT_EQ(part.goals.count("kr"), 0u);
  for (const Event& e : AllEvents(log.store())) {
    if (e.position > 7) ApplyPartial(part, e, info);
  }
  EXPECT_TRUE(info.diverged);
  EXPECT_FALSE(Covers(part, projections::BoardUnits("sales", 0), info));

  // Through TimeTravel: the board shows the roll-up with kr's check-in.
  auto live = std::make_shared<const State>(log.state());
  const uint64_t head = log.state().position;
  auto s =
      tt.PartialStateAt(head - 1, live, projections::BoardUnits("sales", 0));
  ASSERT_TRUE(s.ok());
  Result<State> whole = LoadAt(log.store(), head - 1);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(Board(**s, "sales", "q1", 0), Board(*whole, "sales", "q1", 0));
  EXPECT_NE(Board(**s, "sales", "q1", 0).find("\"kr\""), std::string::npos);
}

// A snapshot in the previous format (2, without entity lengths) still
// decodes, whole and partially.
TEST(PartialStateTest, FormatTwoSnapshotsStillDecode) {
  State s;
  s.units["acme"] = Unit{.id = "acme", .name = "Acme"};
  s.position = 1;
  std::string bytes = EncodeState(s);  // no goals or metrics: as in 2
  bytes[3] = static_cast<char>(kOldestStateCodecVersion);
  Result<State> whole = DecodeState(bytes);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_TRUE(*whole == s);
  PartialInfo info;
  Result<State> part = DecodePartialState(
      bytes, nullptr, projections::BoardUnits("acme", 0), info);
  ASSERT_TRUE(part.ok());
  EXPECT_TRUE(*part == s);
  bytes[3] = static_cast<char>(kOldestStateCodecVersion - 1);
  EXPECT_FALSE(DecodeState(bytes).ok());
}

}  // namespace
}  // namespace cairn::gateway
