#include "cairn/core/state_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace cairn {
namespace {

// A State with every field set to something other than its default.
State FullState() {
  State s;
  Unit u{.id = "sales",
         .name = "Sales \xe2\x82\xac",
         .kind = UnitKind::kDepartment,
         .parent = "acme",
         .children = {"sales-emea", "sales-us"},
         .version = 3,
         .position = 17};
  s.units[u.id] = u;
  s.units["acme"] = Unit{.id = "acme",
                         .name = "Acme",
                         .kind = UnitKind::kCompany,
                         .children = {"sales"},
                         .version = 1,
                         .position = 1};
  s.cycles["2026-q1"] = Cycle{.id = "2026-q1",
                              .name = "Q1",
                              .kind = CycleKind::kQuarter,
                              .start = 20454,
                              .end = 20543,
                              .parent = "2026",
                              .closed = true,
                              .closed_at = -5,
                              .version = 2,
                              .position = 40};
  Goal g;
  g.id = "kr-cac";
  g.kind = GoalKind::kKeyResult;
  g.title = "Cut CAC";
  g.description = std::string("with\0nul", 8);
  g.unit = "sales";
  g.cycle = "2026-q1";
  g.owner = "alice";
  g.parent = "obj";
  g.children = {"a", "b"};
  g.weight = 2.5;
  g.committed = true;
  g.perspective = Perspective::kLearning;
  g.due = -3;
  g.measure = Measure{.start = 250,
                      .target = 150,
                      .stretch = 120,
                      .direction = Direction::kDecrease,
                      .unit = "USD",
                      .metric = "cac",
                      .aggregate = Aggregate::kMax};
  g.status = GoalStatus::kArchived;
  AppendCheckIn(g, CheckIn{.position = 41,
                           .at = 1'700'000'000'000,
                           .recorded_at = 1'700'000'000'001,
                           .value = -0.0,
                           .confidence = 10,
                           .note = "n",
                           .actor = "bob"});
  AppendCheckIn(  // out of order by `at`
      g, CheckIn{.position = std::numeric_limits<uint64_t>::max(),
                 .at = std::numeric_limits<Millis>::min(),
                 .recorded_at = std::numeric_limits<Millis>::max(),
                 .corrects = 41});
  g.split = SplitBy::kFunnel;
  g.split_from = "parent";
  g.frozen_grade = 0.75;
  g.created_at = 99;
  g.created_by = "carol";
  g.version = 7;
  g.position = 42;
  s.goals[g.id] = g;
  s.goals["plain"] = Goal{.id = "plain"};
  s.metrics["cac"] = Metric{.id = "cac",
                            .name = "CAC",
                            .unit = "USD",
                            .aggregate = Aggregate::kAvg,
                            .points = {{1, 2.5}, {1, -1e300}, {3, 4}},
                            .version = 2,
                            .position = 43};
  s.tokens["ci"] = Token{.name = "ci",
                         .role = Role::kAdmin,
                         .unit = "sales",
                         .secret_hash = std::string(64, 'a'),
                         .revoked = true,
                         .version = 2};
  s.retro_notes.push_back(RetroNote{.unit = "sales",
                                    .cycle = "2026-q1",
                                    .goal = "kr-cac",
                                    .kind = RetroNoteKind::kAction,
                                    .text = "do better",
                                    .actor = "alice",
                                    .at = 5,
                                    .position = 44});
  s.position = 44;
  s.at = 1'700'000'000'002;
  return s;
}

TEST(StateCodecTest, EmptyStateRoundTrips) {
  State s;
  Result<State> back = DecodeState(EncodeState(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
}

TEST(StateCodecTest, FullStateRoundTripsExactly) {
  State s = FullState();
  std::string bytes = EncodeState(s);
  Result<State> back = DecodeState(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(EncodeState(*back), bytes);
  // -0.0 keeps its sign bit.
  EXPECT_TRUE(std::signbit(*back->goals["kr-cac"].check_ins[0].value));
  EXPECT_EQ(back->goals["kr-cac"].corrections, 1u);
}

// Formats 2 and 3 kept no corrections: a snapshot of them that holds
// check-ins is refused (the log is replayed instead); one whose check-ins
// come from a history source still decodes.
TEST(StateCodecTest, OlderFormatsWithCheckInsAreRefused) {
  State s = FullState();
  for (unsigned char v : {2, 3}) {
    std::string bytes = EncodeState(s);
    bytes[3] = static_cast<char>(v);
    Result<State> old = DecodeState(bytes);
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.error().code, ErrorCode::kCorruption);
    if (v == 3) {  // format 2 has no entity lengths: it fails earlier
      EXPECT_NE(old.error().message.find("corrections"), std::string::npos)
          << old.error().message;
    }
  }
  std::string light = EncodeState(s, SnapshotHistory::kByReference);
  light[3] = 3;
  Result<State> back = DecodeState(light, &s);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == s);
  EXPECT_EQ(back->goals["kr-cac"].corrections, 1u);
}

TEST(StateCodecTest, DecodedStateFindsTokensByHash) {
  Result<State> back = DecodeState(EncodeState(FullState()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  const Token* t = back->FindTokenByHash(std::string(64, 'a'));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "ci");
  EXPECT_TRUE(t->revoked);
  EXPECT_EQ(back->FindTokenByHash(std::string(64, 'b')), nullptr);
}

TEST(StateCodecTest, MapKeyDifferentFromIdRoundTrips) {
  State s;
  s.goals["key"] = Goal{.id = "other"};
  Result<State> back = DecodeState(EncodeState(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(StateCodecTest, RejectsWrongMagicAndVersion) {
  std::string bytes = EncodeState(FullState());
  std::string bad = bytes;
  bad[0] = 'X';
  EXPECT_EQ(DecodeState(bad).error().code, ErrorCode::kCorruption);
  bad = bytes;
  bad[3] = static_cast<char>(kStateCodecVersion + 1);
  EXPECT_EQ(DecodeState(bad).error().code, ErrorCode::kCorruption);
  EXPECT_FALSE(DecodeState("").ok());
  EXPECT_FALSE(DecodeState("CST").ok());
}

TEST(StateCodecTest, EveryTruncationAndTrailingByteFails) {
  std::string bytes = EncodeState(FullState());
  // A partial decode (every unit's goals: it reads all of them) too.
  const UnitsOf all = [](const State& s) {
    UnitSet u;
    for (const auto& [id, unit] : s.units) u.insert(id);
    return u;
  };
  PartialInfo info;
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeState(std::string_view(bytes).substr(0, n)).ok()) << n;
    EXPECT_FALSE(DecodePartialState(std::string_view(bytes).substr(0, n),
                                    nullptr, all, info)
                     .ok())
        << n;
  }
  EXPECT_FALSE(DecodeState(bytes + '\0').ok());
  EXPECT_FALSE(DecodePartialState(bytes + '\0', nullptr, all, info).ok());
  Result<State> part = DecodePartialState(bytes, nullptr, all, info);
  ASSERT_TRUE(part.ok()) << part.error().message;
  PartialInfo copied_info;
  EXPECT_TRUE(*part == PartialCopy(FullState(), all, copied_info));
}

TEST(StateCodecTest, GarbageNeverCrashes) {
  std::string bytes = EncodeState(FullState());
  std::mt19937_64 rng(7);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      b[4 + rng() % (b.size() - 4)] = static_cast<char>(rng());
    }
    Result<State> r = DecodeState(b);
    if (r.ok()) ++decoded;  // some flips land in free-form bytes
    // A partial decode of the first unit's goals steps over the others
    // by their lengths, which flips can make lie.
    PartialInfo info;
    Result<State> part = DecodePartialState(
        b, nullptr,
        [](const State& s) {
          return s.units.empty() ? UnitSet{} : UnitSet{s.units.begin()->first};
        },
        info);
    (void)part.ok();
  }
  for (int i = 0; i < 2000; ++i) {
    std::string b = "CST";
    b.push_back(static_cast<char>(kStateCodecVersion));
    size_t n = rng() % 200;
    for (size_t k = 0; k < n; ++k) b.push_back(static_cast<char>(rng()));
    Result<State> r = DecodeState(b);
    (void)r.ok();
  }
  // Flipping string bytes or doubles still decodes; the point is no crash.
  EXPECT_GT(decoded, 0);
}

TEST(StateCodecTest, HugeCountsAreRejectedWithoutAllocating) {
  std::string b = "CST";
  b.push_back(static_cast<char>(kStateCodecVersion));
  for (int i = 0; i < 9; ++i) b.push_back(static_cast<char>(0xff));
  b.push_back(0x01);
  Result<State> r = DecodeState(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorruption);
}

size_t CheckIns(const State& s) {
  size_t n = 0;
  for (const auto& [id, g] : s.goals) n += g.check_ins.size();
  return n;
}

// Past States of a random log, every 15 commands, and the log itself.
std::vector<State> PastStates(testing::Log& log, uint64_t seed) {
  std::vector<State> past;
  int n = 0;
  auto run = [&](const Command& c, const CommandContext& ctx) {
    bool ok = log.Run(c, ctx);
    if (++n % 15 == 0) past.push_back(log.state());
    return ok;
  };
  testing::RandomTraffic(run, seed, 400, NowMillis(), &log.state());
  return past;
}

TEST(StateCodecTest, ByReferenceDecodesWithALaterStateOfTheSameLog) {
  for (uint64_t seed : {1, 2, 3}) {
    testing::Log log;
    std::vector<State> past = PastStates(log, seed);
    ASSERT_GT(past.size(), 10u);
    const State& head = log.state();
    ASSERT_GT(CheckIns(head), CheckIns(past.front()));
    size_t refused = 0, refused_metric = 0;
    for (const State& p : past) {
      std::string light = EncodeState(p, SnapshotHistory::kByReference);
      std::string whole = EncodeState(p);
      EXPECT_TRUE(NeedsHistorySource(light));
      EXPECT_FALSE(NeedsHistorySource(whole));
      if (CheckIns(p) > 0) {
        EXPECT_LT(light.size(), whole.size());
      }
      for (const State* source : {&head, &p}) {
        Result<State> back = DecodeState(light, source);
        ASSERT_TRUE(back.ok()) << back.error().message;
        EXPECT_TRUE(*back == p) << "seed " << seed << " at " << p.position;
      }
      // Without a source, or with one that lacks some of its check-ins (an
      // earlier State), it is refused, never decoded into something else.
      Result<State> alone = DecodeState(light);
      ASSERT_FALSE(alone.ok());
      EXPECT_EQ(alone.error().code, ErrorCode::kCorruption);
      if (CheckIns(p) > CheckIns(past.front())) {
        Result<State> early = DecodeState(light, &past.front());
        ASSERT_FALSE(early.ok()) << "seed " << seed << " at " << p.position;
        EXPECT_EQ(early.error().code, ErrorCode::kCorruption);
        ++refused;
      }
      // A source whose metric lacks points, or holds a later one where
      // the snapshot's should be, is refused too.
      const auto cac = p.metrics.find("cac");
      if (cac != p.metrics.end() && !cac->second.points.empty()) {
        State fewer = head;
        fewer.metrics["cac"].points.truncate(cac->second.points.size() - 1);
        EXPECT_FALSE(DecodeState(light, &fewer).ok()) << p.position;
        State moved = head;
        Chunked<MetricPoint>& points = moved.metrics["cac"].points;
        std::vector<MetricPoint> copy(points.begin(), points.end());
        auto theirs = std::find_if(copy.begin(), copy.end(), [&](auto& pt) {
          return pt.position <= p.position;  // one of the snapshot's
        });
        ASSERT_NE(theirs, copy.end());
        theirs->position = p.position + 1;
        points.assign(copy.begin(), copy.end());
        EXPECT_FALSE(DecodeState(light, &moved).ok()) << p.position;
        ++refused_metric;
      }
    }
    EXPECT_GT(refused, 0u);
    EXPECT_GT(refused_metric, 0u);
  }
}

TEST(StateCodecTest, ByReferenceSharesTheSourcesChunks) {
  testing::Log log;
  std::vector<State> past = PastStates(log, 4);
  const State& p = past[past.size() / 2];
  Result<State> back =
      DecodeState(EncodeState(p, SnapshotHistory::kByReference), &log.state());
  ASSERT_TRUE(back.ok());
  size_t shared = 0;
  for (const auto& [id, g] : back->goals) {
    shared += g.check_ins.SharedChunks(log.state().goals.at(id).check_ins);
  }
  // Every full chunk (32 check-ins) is shared, not copied.
  size_t full_chunks = 0;
  for (const auto& [id, g] : p.goals) full_chunks += g.check_ins.size() / 32;
  EXPECT_GE(shared, full_chunks);
}

TEST(StateCodecTest, ByReferenceTruncationsAndGarbageFailCleanly) {
  testing::Log log;
  std::vector<State> past = PastStates(log, 5);
  const State& head = log.state();
  std::string bytes =
      EncodeState(past[past.size() / 2], SnapshotHistory::kByReference);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeState(std::string_view(bytes).substr(0, n), &head).ok())
        << n;
  }
  EXPECT_FALSE(DecodeState(bytes + '\0', &head).ok());
  // The position up front (which points are filtered by) must be the one
  // at the end.
  auto varint = [](uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
    return out;
  };
  const uint64_t at = past[past.size() / 2].position;
  ASSERT_EQ(bytes.substr(4, varint(at).size()), varint(at));
  std::string moved =
      bytes.substr(0, 4) + varint(at - 1) + bytes.substr(4 + varint(at).size());
  EXPECT_FALSE(DecodeState(moved, &head).ok());
  std::mt19937_64 rng(11);
  for (int i = 0; i < 5000; ++i) {
    std::string b = bytes;
    for (int f = 0; f < 1 + static_cast<int>(rng() % 4); ++f) {
      b[4 + rng() % (b.size() - 4)] = static_cast<char>(rng());
    }
    Result<State> r = DecodeState(b, &head);
    (void)r.ok();  // no crash, no huge allocation
  }
}

}  // namespace
}  // namespace cairn
