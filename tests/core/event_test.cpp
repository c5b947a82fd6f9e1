// The store's fast envelope decoder against the general parser, and the
// State's lookup cache.
#include "cairn/core/event.hpp"

#include <gtest/gtest.h>

#include <string>

#include "cairn/core/apply.hpp"
#include "cairn/core/model.hpp"

namespace cairn {
namespace {

Event Sample() {
  Event e;
  e.position = 1042;
  e.stream = "goal-kr-cac";
  e.version = 3;
  e.type = "goal.checked_in";
  e.id = "01jd0000000000000000000000";
  e.at = 1'770'710'400'000;  // 2026-02-10T08:00:00.000Z
  e.actor = "alice";
  e.hash = std::string(64, 'a');
  e.data = R"({"value":225,"note":"first week"})";
  e.meta = "{}";
  return e;
}

// Decodes `json` both ways (the general parser, and the store's fast path
// into a used Event) and checks they agree; returns the result.
Result<Event> DecodeAllWays(const std::string& json) {
  auto general = DecodeEnvelope(json);
  Event reused = Sample();
  reused.data = R"({"a much longer data object than the next one":[1,2,3]})";
  Status into = DecodeEnvelopeInto(json, &reused);
  EXPECT_EQ(general.ok(), into.ok()) << json;
  if (general.ok() && into.ok()) {
    EXPECT_EQ(*general, reused) << json;
  }
  return general;
}

TEST(Envelope, EncodedEventsDecodeTheSameOnEveryPath) {
  Event e = Sample();
  auto back = DecodeAllWays(EncodeEnvelope(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
}

// The store hashes the envelope without its hash and stores it with the
// hash put in: both must be exactly EncodeEnvelope's two forms, or the chain
// would not verify.
TEST(Envelope, OneEncodingGivesBothForms) {
  Event plain = Sample();
  Event odd = Sample();
  odd.actor = "O\"Brien \\ \x01 caf\xC3\xA9";
  odd.stream = "";
  odd.data = "";
  odd.hash = "not hex \"quoted\"";
  for (const Event& e : {plain, odd}) {
    size_t hash_at = 0;
    std::string unhashed = EncodeEnvelopeUnhashed(e, &hash_at);
    EXPECT_EQ(unhashed, EncodeEnvelope(e, /*with_hash=*/false));
    EXPECT_EQ(WithHash(unhashed, hash_at, e.hash), EncodeEnvelope(e));
  }
}

TEST(Envelope, EscapesAndOtherMemberOrdersTakeTheGeneralPath) {
  Event e = Sample();
  e.actor = "O\"Brien";  // escaped quote
  e.data = R"({"note":"line\nbreak"})";
  auto back = DecodeAllWays(EncodeEnvelope(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->actor, "O\"Brien");
  auto reordered = DecodeAllWays(
      R"({"stream":"goal-x","position":7,"version":1,"type":"t","id":"i",)"
      R"("at":"2026-01-01T00:00:00.000Z","actor":"a","data":{}})");
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(reordered->position, 7u);
  EXPECT_EQ(reordered->meta, "{}");
}

TEST(Envelope, NonAsciiTextIsCheckedAsUtf8) {
  Event e = Sample();
  e.actor = "J\xc3\xbcrgen";  // ü
  auto ok = DecodeAllWays(EncodeEnvelope(e));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->actor, e.actor);
  // A truncated sequence, put in the text directly (EncodeEnvelope would
  // not write it).
  std::string text = EncodeEnvelope(e);
  text.replace(text.find("\xc3\xbc"), 2, "\xc3");
  EXPECT_FALSE(DecodeAllWays(text).ok());
}

TEST(Envelope, WhatTheGeneralParserRefusesTheFastPathRefuses) {
  const std::string good = EncodeEnvelope(Sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  // A leading zero is not JSON.
  EXPECT_FALSE(
      DecodeAllWays(with("\"position\":1042", "\"position\":01042")).ok());
  // No 30th of February.
  EXPECT_FALSE(DecodeAllWays(with("2026-02-10", "2026-02-30")).ok());
  EXPECT_FALSE(
      DecodeAllWays(with("\"position\":1042", "\"position\":-1")).ok());
  EXPECT_FALSE(DecodeAllWays(good.substr(0, good.size() - 1)).ok());
}

// A member written twice is damage. Taking either copy could disagree
// with the fast path, which reads the first `data` only as far as its
// braces balance (the fuzzer found such a text: a broken first `data` that
// the general parser ended early, then a well-formed second one).
TEST(Envelope, AMemberWrittenTwiceIsRefusedOnEveryPath) {
  const std::string good = EncodeEnvelope(Sample());
  const std::string tail = R"(,"meta":{}})";
  ASSERT_EQ(good.substr(good.size() - tail.size()), tail);
  const std::string body = good.substr(0, good.size() - tail.size());
  for (const std::string& again :
       {std::string(R"(,"data":{"value":1})"),
        std::string(R"(,"stream":"goal-y")"), std::string(R"(,"position":7)"),
        std::string(R"(,"meta":{})")}) {
    auto back = DecodeAllWays(body + again + tail);
    ASSERT_FALSE(back.ok()) << again;
    EXPECT_NE(back.error().message.find("duplicate"), std::string::npos)
        << back.error().message;
  }
  // Members the envelope does not know may repeat (read forward, ignored).
  EXPECT_TRUE(DecodeAllWays(body + R"(,"x":1,"x":2)" + tail).ok());
  // The text the fuzzer found, minimized: the general parser ended the
  // broken first `data` at `{v,` and took the second one, `{}`; the fast
  // path took `{v,"data":{}}` (it may accept more, but never differ on
  // what the general parser accepts).
  const std::string found =
      R"({"position":1,"stream":"","version":1,"type":"","id":"","at":)"
      R"("2026-02-10T08:00:00.000Z","actor":"","hash":"",)"
      R"("data":{v,"data":{}},"meta":{}})";
  EXPECT_FALSE(DecodeEnvelope(found).ok());
}

TEST(Envelope, DataDecodedIntoAReusedEventHasRoomToParseInPlace) {
  Event e = Sample();
  Event reused;
  ASSERT_TRUE(DecodeEnvelopeInto(EncodeEnvelope(e), &reused).ok());
  EXPECT_GE(reused.data.capacity(), reused.data.size() + 64);
  // And Apply reads it the same as a copy.
  State a, b;
  Event created;
  created.position = 1;
  created.stream = "metric-mrr";
  created.version = 1;
  created.type = "metric.defined";
  created.data = R"({"id":"mrr","name":"MRR","unit":"EUR"})";
  Apply(a, created);
  Apply(b, created);
  Event recorded = created;
  recorded.position = 2;
  recorded.version = 2;
  recorded.type = "metric.recorded";
  recorded.data = R"({"points":[{"ts":"2026-01-05T00:00:00Z","value":5}]})";
  ASSERT_TRUE(DecodeEnvelopeInto(EncodeEnvelope(recorded), &reused).ok());
  Apply(a, reused);
  Apply(b, recorded);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.metrics.at("mrr").points.size(), 1u);
  EXPECT_EQ(a.metrics.at("mrr").points[0].value, 5);
}

TEST(StreamName, SplitsAtTheFirstDash) {
  EXPECT_EQ(SplitStream("goal-kr-cac").kind, "goal");
  EXPECT_EQ(SplitStream("goal-kr-cac").id, "kr-cac");
  EXPECT_EQ(SplitStream("metric-x").kind, "metric");
  EXPECT_EQ(SplitStream("metric-x").id, "x");
  EXPECT_EQ(SplitStream("goal-").id, "");
  EXPECT_EQ(SplitStream("nodash").kind, "");
  EXPECT_EQ(SplitStream("nodash").id, "");
  EXPECT_EQ(SplitStream("").kind, "");
}

TEST(StreamName, ValidNamesHaveALowercasePrefixAndAnId) {
  EXPECT_TRUE(IsValidStreamName("goal-kr-cac"));
  EXPECT_TRUE(IsValidStreamName("goal-a.b_c-9"));
  EXPECT_TRUE(IsValidStreamName(std::string(16, 'p') + "-x"));
  EXPECT_FALSE(IsValidStreamName(std::string(17, 'p') + "-x"));
  EXPECT_TRUE(IsValidStreamName("goal-" + std::string(160, 'a')));
  EXPECT_FALSE(IsValidStreamName("goal-" + std::string(161, 'a')));
  for (const char* bad : {"", "goal", "-a", "goal-", "Goal-a", "go1-a",
                          "goal-A", "goal-a/b", "goal-a b"}) {
    EXPECT_FALSE(IsValidStreamName(bad)) << bad;
  }
}

TEST(LookupCache, FindsEveryKeyPastManyGrowthsAndNothingElse) {
  std::map<std::string, Goal> goals;
  for (int i = 0; i < 1000; ++i) {
    goals["goal-" + std::to_string(i)].title = std::to_string(i);
  }
  LookupCache<Goal> cache;
  for (int round = 0; round < 2; ++round) {  // misses, then hits
    for (int i = 0; i < 1000; ++i) {
      Goal* g = cache.Find(goals, "goal-" + std::to_string(i));
      ASSERT_NE(g, nullptr);
      EXPECT_EQ(g->title, std::to_string(i));
      EXPECT_EQ(g, &goals["goal-" + std::to_string(i)]);
    }
  }
  EXPECT_EQ(cache.Find(goals, "goal-1000"), nullptr);
  EXPECT_EQ(cache.Find(goals, ""), nullptr);
  goals["goal-1000"].title = "late";
  ASSERT_NE(cache.Find(goals, "goal-1000"), nullptr);  // absent was not cached
  EXPECT_EQ(cache.Find(goals, "goal-1000")->title, "late");
}

TEST(LookupCache, ACopiedStateLooksUpItsOwnGoals) {
  State s;
  s.goals["g"].title = "original";
  ASSERT_NE(s.MutableGoal("g"), nullptr);  // cached
  State copy = s;
  copy.MutableGoal("g")->title = "copy";
  EXPECT_EQ(s.goals.at("g").title, "original");
  State assigned;
  assigned.goals["h"];
  ASSERT_NE(assigned.MutableGoal("h"), nullptr);
  assigned = s;
  EXPECT_EQ(assigned.MutableGoal("h"), nullptr);
  assigned.MutableGoal("g")->title = "assigned";
  EXPECT_EQ(s.goals.at("g").title, "original");
}

}  // namespace
}  // namespace cairn
