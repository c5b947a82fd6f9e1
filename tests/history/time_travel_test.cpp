#include "time_travel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cairn/core/state_codec.hpp"
#include "scenario.hpp"

namespace cairn::gateway {
namespace {

using testing::Log;

// Every event of the store, oldest first.
std::vector<Event> AllEvents(const eventstore::EventStore& store) {
  std::vector<Event> out;
  Status s = store.ReadAll(0, [&](const Event& e) {
    out.push_back(e);
    return true;
  });
  EXPECT_TRUE(s.ok());
  return out;
}

// Generates random traffic into `log`, calling AfterBatch after each command
// when `tt` is given (by reference for even seeds, by pointer for odd ones).
void Generate(Log& log, uint64_t seed, int commands, TimeTravel* tt) {
  auto run = [&](const Command& c, const CommandContext& ctx) {
    bool ok = log.Run(c, ctx);
    if (tt && seed % 2 == 0) tt->AfterBatch(log.state());
    // Odd seeds: the published-State overload (encoded in the background).
    if (tt && seed % 2 == 1) {
      tt->AfterBatch(std::make_shared<const State>(log.state()));
    }
    return ok;
  };
  testing::RandomTraffic(run, seed, commands, NowMillis(), &log.state());
}

// The as-of State at sampled positions equals a rebuild from 1..p. With
// `live` (the State at the head), as the server asks: by-reference
// snapshots take their check-ins from it.
void CheckSampledPositions(eventstore::EventStore& store, TimeTravel& tt,
                           uint64_t seed,
                           std::shared_ptr<const State> live = nullptr) {
  std::vector<Event> events = AllEvents(store);
  ASSERT_FALSE(events.empty());
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> samples = {0, 1, events.size()};
  for (int i = 0; i < 40; ++i) samples.push_back(1 + rng() % events.size());
  std::sort(samples.begin(), samples.end());
  State rebuilt;
  size_t next = 0;
  for (uint64_t p : samples) {
    while (next < events.size() && events[next].position <= p) {
      Apply(rebuilt, events[next++]);
    }
    Result<std::shared_ptr<const State>> s = tt.StateAt(p, live);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ((*s)->position, p);
    ASSERT_TRUE(**s == rebuilt) << "seed " << seed << " position " << p;
  }
  // Random order again: exercises the cache (exact hits and closer bases).
  std::shuffle(samples.begin(), samples.end(), rng);
  for (uint64_t p : samples) {
    State fresh;
    for (const Event& e : events) {
      if (e.position > p) break;
      Apply(fresh, e);
    }
    Result<std::shared_ptr<const State>> s = tt.StateAt(p, live);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(**s == fresh) << "seed " << seed << " position " << p;
  }
}

TEST(TimeTravelTest, AsOfEqualsRebuildWithoutSnapshots) {
  for (uint64_t seed : {1, 2, 3}) {
    Log log;
    Generate(log, seed, 300, nullptr);
    TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 4});
    EXPECT_EQ(tt.last_snapshot(), 0u);
    CheckSampledPositions(log.store(), tt, seed);
    Result<State> head = LoadAtHead(log.store());
    ASSERT_TRUE(head.ok());
    EXPECT_TRUE(*head == log.state());
  }
}

TEST(TimeTravelTest, AsOfEqualsRebuildWithSnapshots) {
  for (uint64_t seed : {4, 5, 6}) {
    Log log;
    {
      TimeTravel writer(log.store(),
                        {.snapshot_every = 25, .full_snapshot_every = 60});
      Generate(log, seed, 300, &writer);
      ASSERT_TRUE(writer.SnapshotNow(log.state()).ok());
      EXPECT_EQ(writer.last_snapshot(), log.state().position);
    }
    const uint64_t head = log.state().position;
    auto snap = log.store().LatestSnapshot(UINT64_MAX, kFullSeries);
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->first, head);
    // Full ones along the way were pruned to the newest 2.
    auto previous = log.store().LatestSnapshot(head - 1, kFullSeries);
    ASSERT_TRUE(previous.has_value());
    EXPECT_GE(previous->first, head - 130);
    EXPECT_FALSE(log.store().LatestSnapshot(previous->first - 1, kFullSeries));
    // By-reference ones were taken all along, and decode with the head's
    // check-ins.
    auto mid = log.store().LatestSnapshot(head / 2, kByReferenceSeries);
    ASSERT_TRUE(mid.has_value());
    EXPECT_GT(mid->first, head / 2 - 50);
    EXPECT_TRUE(NeedsHistorySource(mid->second));
    Result<State> decoded = DecodeState(mid->second, &log.state());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->position, mid->first);

    auto live = std::make_shared<const State>(log.state());
    TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 0});
    CheckSampledPositions(log.store(), tt, seed);
    CheckSampledPositions(log.store(), tt, seed + 50, live);
    TimeTravel cached(log.store(), {.snapshot_every = 0, .cache_states = 3});
    CheckSampledPositions(log.store(), cached, seed + 100);
    CheckSampledPositions(log.store(), cached, seed + 150, live);
    Result<State> loaded = LoadAtHead(log.store());
    ASSERT_TRUE(loaded.ok());
    EXPECT_TRUE(*loaded == log.state());
  }
}

TEST(TimeTravelTest, CorruptSnapshotsAreSkipped) {
  Log log;
  Generate(log, 9, 200, nullptr);
  const uint64_t head = log.state().position;
  ASSERT_GT(head, 60u);
  // A good snapshot at 20, garbage at 40, a snapshot of position 30 stored
  // under 50 (decodes but names another position), garbage at the head.
  Result<State> at20 = LoadAt(log.store(), 20);
  Result<State> at30 = LoadAt(log.store(), 30);
  ASSERT_TRUE(at20.ok() && at30.ok());
  ASSERT_TRUE(log.store().PutSnapshot(20, EncodeState(*at20)).ok());
  ASSERT_TRUE(log.store().PutSnapshot(40, "not a state").ok());
  std::string truncated = EncodeState(*at30);
  truncated.pop_back();
  ASSERT_TRUE(log.store().PutSnapshot(45, truncated).ok());
  ASSERT_TRUE(log.store().PutSnapshot(50, EncodeState(*at30)).ok());
  ASSERT_TRUE(log.store().PutSnapshot(head, "CST\x01garbage").ok());
  // The same in the by-reference series, and one whose check-ins the live
  // State does not hold (a State of another log).
  Log other;
  Generate(other, 10, 120, nullptr);
  auto by_reference = [](const State& s) {
    return EncodeState(s, SnapshotHistory::kByReference);
  };
  ASSERT_TRUE(log.store()
                  .PutSnapshot(20, by_reference(*at20), kByReferenceSeries)
                  .ok());
  ASSERT_TRUE(
      log.store().PutSnapshot(40, "CSR\x01garbage", kByReferenceSeries).ok());
  ASSERT_TRUE(log.store()
                  .PutSnapshot(50, by_reference(*at30), kByReferenceSeries)
                  .ok());
  ASSERT_TRUE(log.store()
                  .PutSnapshot(other.state().position,
                               by_reference(other.state()), kByReferenceSeries)
                  .ok());
  ASSERT_LT(other.state().position, head);

  Result<State> loaded = LoadAtHead(log.store());
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(*loaded == log.state());
  TimeTravel tt(log.store(), {.snapshot_every = 0, .cache_states = 0});
  CheckSampledPositions(log.store(), tt, 9);
  CheckSampledPositions(log.store(), tt, 19,
                        std::make_shared<const State>(log.state()));
}

TEST(TimeTravelTest, LiveStateServesTheHead) {
  Log log;
  Generate(log, 11, 50, nullptr);
  auto live = std::make_shared<const State>(log.state());
  TimeTravel tt(log.store(), {.snapshot_every = 0});
  Result<std::shared_ptr<const State>> s = tt.StateAt(live->position, live);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->get(), live.get());
}

TEST(TimeTravelTest, PastTheHeadIsValidationFailed) {
  Log log;
  Generate(log, 12, 20, nullptr);
  const uint64_t head = log.store().Head();
  TimeTravel tt(log.store());
  Result<std::shared_ptr<const State>> s = tt.StateAt(head + 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kValidationFailed);
  EXPECT_EQ(s.error().field, "as_of");
  Result<AsOf> a = tt.ResolveAsOf(std::to_string(head + 1));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kValidationFailed);
  EXPECT_FALSE(tt.ResolveAsOf("99999999999999999999999").ok());
  EXPECT_FALSE(tt.ResolveAsOf("yesterday").ok());
  EXPECT_FALSE(tt.ResolveAsOf("").ok());
  EXPECT_FALSE(tt.ResolveAsOf("-1").ok());
  Result<AsOf> zero = tt.ResolveAsOf("0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->position, 0u);
  EXPECT_FALSE(zero->time.has_value());
  Result<std::shared_ptr<const State>> empty = tt.StateAt(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(**empty == State{});
  Result<AsOf> h = tt.ResolveAsOf(std::to_string(head));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->position, head);
}

TEST(TimeTravelTest, AsOfTimeMapsToLastPositionAtOrBefore) {
  Log log;
  Generate(log, 13, 40, nullptr);
  std::vector<Event> events = AllEvents(log.store());
  TimeTravel tt(log.store());
  auto expected = [&](Millis t) {
    uint64_t p = 0;
    for (const Event& e : events) {
      if (e.at <= t) p = e.position;
    }
    return p;
  };
  std::vector<Millis> times = {events.front().at - 1, events.back().at + 1,
                               events.back().at + 86'400'000};
  for (const Event& e : events) {
    times.push_back(e.at);
    times.push_back(e.at - 1);
  }
  for (Millis t : times) {
    Result<AsOf> a = tt.ResolveAsOf(FormatTime(t));
    ASSERT_TRUE(a.ok()) << FormatTime(t);
    EXPECT_EQ(a->position, expected(t)) << FormatTime(t);
    ASSERT_TRUE(a->time.has_value());
    EXPECT_EQ(*a->time, t);
  }
  // Other RFC 3339 spellings of the same instant.
  Millis t = events.back().at;
  std::string offset = FormatTime(t + 3'600'000);
  offset.replace(offset.size() - 1, 1, "+01:00");
  Result<AsOf> a = tt.ResolveAsOf(offset);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->position, expected(t));
  Result<AsOf> before = tt.ResolveAsOf("2000-01-01T00:00:00Z");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->position, 0u);
}

}  // namespace
}  // namespace cairn::gateway
