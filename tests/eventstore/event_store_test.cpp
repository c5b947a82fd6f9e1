#include "cairn/eventstore/event_store.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rocksdb/db.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "cairn/eventstore/write_faults.hpp"
#include "temp_dir.hpp"

namespace cairn::eventstore {
namespace {

using cairn::testing::TempDir;

std::unique_ptr<EventStore> OpenStore(const std::string& path,
                                      Options o = Options{}) {
  o.path = path;
  auto r = EventStore::Open(o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(*r) : nullptr;
}

NewEvent Ev(std::string stream, std::string data = R"({"n":1})") {
  NewEvent e;
  e.stream = std::move(stream);
  e.type = "goal.checked_in";
  e.actor = "alice";
  e.data = std::move(data);
  return e;
}

AppendRequest Req(std::vector<NewEvent> events,
                  std::vector<StreamExpectation> expect = {}) {
  AppendRequest r;
  r.events = std::move(events);
  r.expectations = std::move(expect);
  return r;
}

std::vector<Event> All(const EventStore& s, uint64_t after = 0) {
  std::vector<Event> out;
  Status st = s.ReadAll(after, [&](const Event& e) {
    out.push_back(e);
    return true;
  });
  EXPECT_TRUE(st.ok());
  return out;
}

// Rewrites one column family entry directly, as an attacker or a broken disk
// would. The store must be closed.
void RawPut(const std::string& path, const std::string& cf_name,
            const std::string& key, const std::string& value) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n :
       {"default", "events", "streams", "ids", "meta", "snapshots"}) {
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::Open(rocksdb::Options(), path, cfs, &handles, &db).ok());
  size_t i = 0;
  while (cfs[i].name != cf_name) ++i;
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

std::string Be64(uint64_t v) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) k[i] = static_cast<char>(v & 0xff);
  return k;
}

TEST(EventStore, AppendAssignsPositionsVersionsTimesAndHashes) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Head(), 0u);
  EXPECT_EQ(store->Epoch().size(), 32u);
  auto r = store->Append(Req({Ev("goal-a"), Ev("goal-b"), Ev("goal-a")}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->events.size(), 3u);
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->head, 3u);
  EXPECT_EQ(r->events[0].position, 1u);
  EXPECT_EQ(r->events[0].version, 1u);
  EXPECT_EQ(r->events[1].version, 1u);
  EXPECT_EQ(r->events[2].version, 2u);
  EXPECT_EQ(store->StreamVersion("goal-a"), 2u);
  EXPECT_EQ(store->StreamVersion("goal-b"), 1u);
  EXPECT_EQ(store->StreamVersion("goal-c"), 0u);
  std::regex id_re("^[a-z0-9][a-z0-9._-]{0,63}$");
  std::regex hash_re("^[0-9a-f]{64}$");
  std::set<std::string> hashes;
  for (const Event& e : r->events) {
    EXPECT_TRUE(std::regex_match(e.id, id_re)) << e.id;
    EXPECT_TRUE(std::regex_match(e.hash, hash_re)) << e.hash;
    hashes.insert(e.hash);
  }
  EXPECT_EQ(hashes.size(), 3u);
  EXPECT_LT(r->events[0].id, r->events[1].id);  // sortable by creation
  EXPECT_LT(r->events[1].id, r->events[2].id);
  auto r2 = store->Append(Req({Ev("goal-a")}));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->events[0].position, 4u);
  EXPECT_GE(r2->events[0].at, r->events[2].at);
  EXPECT_GT(r2->events[0].id, r->events[2].id);
  auto all = All(*store);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3], r2->events[0]);
  EXPECT_EQ(*store->FindId(all[1].id), 2u);
  EXPECT_FALSE(store->FindId("nope").has_value());
  auto rep = store->Verify();
  EXPECT_TRUE(rep.ok);
  EXPECT_EQ(rep.events, 4u);
}

TEST(EventStore, ExpectedVersionsConflictAndWriteNothing) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  using EV = ExpectedVersion;
  ASSERT_TRUE(
      store->Append(Req({Ev("goal-a")}, {{"goal-a", EV::NoStream()}})).ok());
  auto again = store->Append(Req({Ev("goal-a")}, {{"goal-a", EV::NoStream()}}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kVersionConflict);
  auto stale = store->Append(Req({Ev("goal-a")}, {{"goal-a", EV::Exact(0)}}));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kVersionConflict);
  auto ok = store->Append(Req({Ev("goal-a")}, {{"goal-a", EV::Exact(1)}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->events[0].version, 2u);
  auto any = store->Append(Req({Ev("goal-a")}, {{"goal-a", EV::Any()}}));
  ASSERT_TRUE(any.ok());
  // An expectation on a stream the request does not write still guards it.
  auto guard = store->Append(Req({Ev("goal-b")}, {{"goal-a", EV::Exact(2)}}));
  ASSERT_FALSE(guard.ok());
  EXPECT_EQ(guard.error().code, ErrorCode::kVersionConflict);
  EXPECT_EQ(store->Head(), 3u);
  EXPECT_EQ(store->StreamVersion("goal-b"), 0u);
  EXPECT_EQ(All(*store).size(), 3u);
}

TEST(EventStore, MultiStreamRequestIsAllOrNothing) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  using EV = ExpectedVersion;
  ASSERT_TRUE(store->Append(Req({Ev("goal-b")})).ok());
  auto r = store->Append(
      Req({Ev("goal-a"), Ev("goal-b"), Ev("goal-c")},
          {{"goal-a", EV::NoStream()}, {"goal-b", EV::Exact(7)}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(store->Head(), 1u);
  EXPECT_EQ(store->StreamVersion("goal-a"), 0u);
  EXPECT_EQ(store->StreamVersion("goal-c"), 0u);
  // One bad event in a request: none of it is written.
  auto bad = store->Append(Req({Ev("goal-a"), Ev("goal-c", "[1]")}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "data");
  EXPECT_EQ(store->Head(), 1u);
  EXPECT_EQ(All(*store).size(), 1u);
}

TEST(EventStore, AppendManyRequestsSucceedOrFailAloneInOrder) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  using EV = ExpectedVersion;
  std::vector<AppendRequest> reqs;
  reqs.push_back(Req({Ev("goal-a")}, {{"goal-a", EV::NoStream()}}));
  reqs.push_back(Req({Ev("goal-a")}, {{"goal-a", EV::NoStream()}}));  // sees #1
  reqs.push_back(Req({Ev("goal-a")}, {{"goal-a", EV::Exact(1)}}));
  reqs.push_back(Req({Ev("bad name")}));
  reqs.push_back(Req({Ev("goal-b"), Ev("goal-a")}, {{"goal-a", EV::Exact(2)}}));
  auto res = store->AppendMany(reqs);
  ASSERT_EQ(res.size(), 5u);
  ASSERT_TRUE(res[0].ok());
  ASSERT_FALSE(res[1].ok());
  EXPECT_EQ(res[1].error().code, ErrorCode::kVersionConflict);
  ASSERT_TRUE(res[2].ok());
  EXPECT_EQ(res[2]->events[0].position, 2u);
  ASSERT_FALSE(res[3].ok());
  EXPECT_EQ(res[3].error().code, ErrorCode::kValidationFailed);
  EXPECT_EQ(res[3].error().field, "stream");
  ASSERT_TRUE(res[4].ok());
  EXPECT_EQ(res[4]->events[1].position, 4u);
  EXPECT_EQ(res[4]->events[1].version, 3u);
  EXPECT_EQ(store->Head(), 4u);
  EXPECT_TRUE(store->Verify().ok);
}

TEST(EventStore, GivenAtIsStoredAndNeverGoesBack) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  const Millis now = NowMillis();
  auto at = [](Millis t, std::vector<NewEvent> events) {
    AppendRequest r = Req(std::move(events));
    r.at = t;
    return r;
  };
  // Honoured exactly when it does not go back (one request, two events).
  auto first = store->Append(at(now + 5000, {Ev("goal-a"), Ev("goal-b")}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->events[0].at, now + 5000);
  EXPECT_EQ(first->events[1].at, now + 5000);
  // Smaller than the event before: raised to it.
  auto back = store->Append(at(now - 60000, {Ev("goal-a")}));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->events[0].at, now + 5000);
  // In one group: given, none (the store's clock, below the given one),
  // refused, smaller, larger.
  std::vector<AppendRequest> reqs;
  reqs.push_back(at(now + 7000, {Ev("goal-a")}));
  reqs.push_back(Req({Ev("goal-b")}));
  reqs.push_back(at(now + 90000, {Ev("bad name")}));  // refused: no effect
  reqs.push_back(at(now + 6000, {Ev("goal-c")}));
  reqs.push_back(at(now + 8000, {Ev("goal-c")}));
  auto res = store->AppendMany(reqs);
  ASSERT_EQ(res.size(), 5u);
  ASSERT_TRUE(res[0].ok() && res[1].ok() && res[3].ok() && res[4].ok());
  EXPECT_FALSE(res[2].ok());
  EXPECT_EQ(res[0]->events[0].at, now + 7000);
  EXPECT_EQ(res[1]->events[0].at, now + 7000);
  EXPECT_EQ(res[3]->events[0].at, now + 7000);
  EXPECT_EQ(res[4]->events[0].at, now + 8000);
  // Without one, later appends keep `at` non-decreasing too.
  auto plain = store->Append(Req({Ev("goal-d")}));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->events[0].at, now + 8000);
  std::vector<Event> all = All(*store);
  ASSERT_EQ(all.size(), 8u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i].at, all[i - 1].at);
  EXPECT_EQ(store->PositionAtOrBefore(now + 7000), 6u);
  EXPECT_TRUE(store->Verify().ok);
  // Kept across a reopen: the clock does not go back below the stored `at`.
  store.reset();
  store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  auto after = store->Append(at(now, {Ev("goal-e")}));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->events[0].at, now + 8000);
}

TEST(EventStore, IdempotencyKeyReturnsTheFirstAnswer) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  AppendRequest r = Req({Ev("goal-a"), Ev("goal-b")});
  r.idempotency_key = "key-1";
  r.reply = R"({"ok":true})";
  auto first = store->Append(r);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->duplicate);
  r.reply = "other";
  auto second = store->Append(r);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->reply, R"({"ok":true})");
  EXPECT_EQ(second->events, first->events);
  EXPECT_EQ(store->Head(), 2u);
  EXPECT_EQ(*store->FindId("key-1"), 1u);
  // Within one group too.
  AppendRequest k2 = Req({Ev("goal-c")});
  k2.idempotency_key = "key-2";
  auto many = store->AppendMany({k2, k2});
  ASSERT_TRUE(many[0].ok() && many[1].ok());
  EXPECT_FALSE(many[0]->duplicate);
  EXPECT_TRUE(many[1]->duplicate);
  EXPECT_EQ(many[1]->events, many[0]->events);
  EXPECT_EQ(store->Head(), 3u);
  // A key with no events still records its reply.
  AppendRequest empty;
  empty.idempotency_key = "key-3";
  empty.reply = "r3";
  ASSERT_TRUE(store->Append(empty).ok());
  empty.reply = "changed";
  auto e2 = store->Append(empty);
  ASSERT_TRUE(e2.ok());
  EXPECT_TRUE(e2->duplicate);
  EXPECT_EQ(e2->reply, "r3");
  // Survives reopening.
  store.reset();
  store = OpenStore(dir.path());
  r.reply = "x";
  auto third = store->Append(r);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->duplicate);
  EXPECT_EQ(third->events, first->events);
}

TEST(EventStore, EventIdSeenBeforeIsNotAppendedAgain) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  NewEvent e = Ev("goal-a");
  e.id = "evt-1";
  auto first = store->Append(Req({e}));
  ASSERT_TRUE(first.ok());
  auto again = store->Append(Req({e}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->events, first->events);
  NewEvent f = Ev("goal-a");
  f.id = "evt-2";
  auto partial = store->Append(Req({f, e}));
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.error().code, ErrorCode::kAlreadyExists);
  auto twice = store->Append(Req({f, f}));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().field, "id");
  NewEvent bad = Ev("goal-a");
  bad.id = "Bad Id";
  EXPECT_FALSE(store->Append(Req({bad})).ok());
  EXPECT_EQ(store->Head(), 1u);
}

TEST(EventStore, RejectsBadInputWithTypedErrors) {
  TempDir dir;
  Options o;
  o.max_event_bytes = 1000;
  auto store = OpenStore(dir.path(), o);
  ASSERT_TRUE(store);
  struct Case {
    NewEvent e;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({Ev("Goal-a"), "stream"});
  cases.push_back({Ev("goal-"), "stream"});
  cases.push_back({Ev("goal-a/b"), "stream"});
  cases.push_back({Ev("goal-a", "{"), "data"});
  cases.push_back({Ev("goal-a", "[]"), "data"});
  cases.push_back({Ev("goal-a", "{} {}"), "data"});
  cases.push_back({Ev("goal-a", "{\"s\":\"\xff\"}"), "data"});    // bad UTF-8
  cases.push_back({Ev("goal-a", "{\"s\":\"a\x01b\"}"), "data"});  // raw control
  cases.push_back({Ev("goal-a", "{\"s\":\"" + std::string(1000, 'x') + "\"}"),
                   "data"});  // oversize
  cases.push_back({Ev("goal-a", "{\"s\":\"" + std::string(900, 'x') + "\"}"),
                   "data"});  // oversize once enveloped
  NewEvent t = Ev("goal-a");
  t.type = "bad\xc3";
  cases.push_back({t, "type"});
  NewEvent m = Ev("goal-a");
  m.meta = "nope";
  cases.push_back({m, "meta"});
  for (const Case& c : cases) {
    auto r = store->Append(Req({c.e}));
    ASSERT_FALSE(r.ok()) << c.e.stream << " " << c.e.data;
    EXPECT_EQ(r.error().code, ErrorCode::kValidationFailed);
    EXPECT_EQ(r.error().field, c.field) << c.e.data;
  }
  EXPECT_EQ(store->Head(), 0u);
  EXPECT_TRUE(All(*store).empty());
}

TEST(EventStore, EscapesAndKeepsUnicodeExactly) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  NewEvent e = Ev("goal-a",
                  "{ \"note\" : \"line\\nbreak \\\"q\\\" \\u0001 caf\xc3\xa9 "
                  "\xf0\x9f\x8c\xb2\" }");
  e.type = "type \"quoted\"\\";
  e.actor = "zo\xc3\xab\ttab\x01";
  e.meta = R"({"ip":"127.0.0.1"})";
  auto r = store->Append(Req({e}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Event& s = r->events[0];
  EXPECT_EQ(s.type, e.type);
  EXPECT_EQ(s.actor, e.actor);
  // Stored compact.
  EXPECT_EQ(s.data,
            "{\"note\":\"line\\nbreak \\\"q\\\" \\u0001 caf\xc3\xa9 "
            "\xf0\x9f\x8c\xb2\"}");
  auto back = store->ReadAt(1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  // The stored text parses back to the same event with the generic decoder.
  auto generic = DecodeEnvelope(EncodeEnvelope(*back));
  ASSERT_TRUE(generic.ok());
  EXPECT_EQ(*generic, s);
  EXPECT_TRUE(store->Verify().ok);
}

TEST(EventStore, ReadsAtEveryBoundary) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  // Positions 1..10: goal-a gets odd positions (versions 1..5), goal-b even.
  std::vector<Millis> at;
  for (int i = 0; i < 10; ++i) {
    auto r = store->Append(Req({Ev(i % 2 == 0 ? "goal-a" : "goal-b")}));
    ASSERT_TRUE(r.ok());
    at.push_back(r->events[0].at);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (uint64_t after = 0; after <= 11; ++after) {
    auto evs = All(*store, after);
    ASSERT_EQ(evs.size(), after >= 10 ? 0u : 10 - after) << after;
    for (size_t i = 0; i < evs.size(); ++i)
      EXPECT_EQ(evs[i].position, after + 1 + i);
  }
  // Stop early.
  int seen = 0;
  ASSERT_TRUE(store->ReadAll(0, [&](const Event&) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
  // Streams forward.
  for (uint64_t from = 0; from <= 6; ++from) {
    auto r = store->ReadStream("goal-a", from, false, 0);
    ASSERT_TRUE(r.ok());
    uint64_t first = std::max<uint64_t>(from, 1);
    ASSERT_EQ(r->size(), first > 5 ? 0u : 6 - first) << from;
    for (size_t i = 0; i < r->size(); ++i) {
      EXPECT_EQ((*r)[i].version, first + i);
      EXPECT_EQ((*r)[i].stream, "goal-a");
      EXPECT_EQ((*r)[i].position, 2 * (first + i) - 1);
    }
  }
  auto limited = store->ReadStream("goal-b", 2, false, 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[1].version, 3u);
  // Streams backward.
  auto last = store->ReadStream("goal-b", 0, true, 0);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 5u);
  EXPECT_EQ(last->front().version, 5u);
  EXPECT_EQ(last->back().version, 1u);
  auto from3 = store->ReadStream("goal-b", 3, true, 2);
  ASSERT_TRUE(from3.ok());
  ASSERT_EQ(from3->size(), 2u);
  EXPECT_EQ((*from3)[0].version, 3u);
  EXPECT_EQ((*from3)[1].version, 2u);
  auto past = store->ReadStream("goal-b", 99, true, 1);
  ASSERT_TRUE(past.ok());
  ASSERT_EQ(past->size(), 1u);
  EXPECT_EQ((*past)[0].version, 5u);
  auto one = store->ReadStream("goal-b", 1, true, 0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto none = store->ReadStream("goal-zz", 0, true, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A stream whose name extends another's is separate.
  ASSERT_TRUE(store->Append(Req({Ev("goal-aa")})).ok());
  auto a = store->ReadStream("goal-a", 0, true, 0);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 5u);
  // ReadAt.
  EXPECT_EQ(store->ReadAt(0).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->ReadAt(12).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->ReadAt(11)->stream, "goal-aa");
  // PositionAtOrBefore.
  EXPECT_EQ(store->PositionAtOrBefore(at[0] - 1), 0u);
  EXPECT_EQ(store->PositionAtOrBefore(at[9] + 100000000), 11u);
  for (size_t i = 0; i < at.size(); ++i) {
    uint64_t p = store->PositionAtOrBefore(at[i]);
    EXPECT_GE(p, i + 1);
    EXPECT_LE(store->ReadAt(p)->at, at[i]);
    if (p < 11) {
      EXPECT_GT(store->ReadAt(p + 1)->at, at[i]);
    }
  }
}

TEST(EventStore, ReopenDerivesHeadVersionsAndChain) {
  TempDir dir;
  std::string epoch;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store);
    epoch = store->Epoch();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          store->Append(Req({Ev("goal-" + std::to_string(i % 3))})).ok());
    }
  }
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Epoch(), epoch);
  EXPECT_EQ(store->Head(), 20u);
  EXPECT_EQ(store->StreamVersion("goal-0"), 7u);
  EXPECT_EQ(store->StreamVersion("goal-1"), 7u);
  EXPECT_EQ(store->StreamVersion("goal-2"), 6u);
  auto r = store->Append(
      Req({Ev("goal-2")}, {{"goal-2", ExpectedVersion::Exact(6)}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0].position, 21u);
  EXPECT_TRUE(store->Verify().ok);  // the chain continued from the stored hash
}

TEST(EventStore, RefusesANewerSchema) {
  TempDir dir;
  { ASSERT_TRUE(OpenStore(dir.path())); }
  RawPut(dir.path(), "meta", "schema", "99");
  Options o;
  o.path = dir.path();
  auto r = EventStore::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorruption);
  EXPECT_NE(r.error().message.find("schema version 99"), std::string::npos)
      << r.error().message;
}

TEST(EventStore, ConcurrentAppendersShareGroupsAndStayConsistent) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  constexpr int kThreads = 8, kEach = 100;
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      std::string stream = "goal-t" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) {
        auto r = store->Append(
            Req({Ev(stream), Ev("goal-shared")},
                {{stream, ExpectedVersion::Exact(static_cast<uint64_t>(i))}}));
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->Head(), 2u * kThreads * kEach);
  EXPECT_EQ(store->StreamVersion("goal-shared"), 1u * kThreads * kEach);
  auto rep = store->Verify();
  EXPECT_TRUE(rep.ok) << (rep.problems.empty() ? "" : rep.problems[0]);
}

TEST(EventStore, TailHasNoGapOrDuplicateWhileAppendsRace) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  constexpr int kWriters = 4, kEach = 150;
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(store->Append(Req({Ev("goal-b"), Ev("goal-c")})).ok());
      }
    });
  }
  struct Sink {
    std::mutex mu;
    std::vector<uint64_t> got;
    uint64_t after = 0;
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<std::unique_ptr<Subscription>> subs;
  go = true;
  // Subscribe at different moments and from different positions while the
  // writers run.
  for (int k = 0; k < 12; ++k) {
    auto sink = std::make_unique<Sink>();
    sink->after = (k % 3 == 0) ? 0 : store->Head() - (k % 4);
    Sink* s = sink.get();
    subs.push_back(store->Subscribe(s->after, [s](const Event& e) {
      std::lock_guard lock(s->mu);
      s->got.push_back(e.position);
      return true;
    }));
    sinks.push_back(std::move(sink));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  for (auto& t : writers) t.join();
  uint64_t head = store->Head();
  ASSERT_EQ(head, 50u + 2u * kWriters * kEach);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (auto& s : sinks) {
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(s->mu);
        if (!s->got.empty() && s->got.back() >= head) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (auto& sub : subs) sub->Cancel();
  for (auto& s : sinks) {
    std::lock_guard lock(s->mu);
    ASSERT_EQ(s->got.size(), head - s->after) << "after " << s->after;
    for (size_t i = 0; i < s->got.size(); ++i) {
      ASSERT_EQ(s->got[i], s->after + 1 + i);
    }
  }
}

TEST(EventStore, CancelIsSynchronousAndStopReturnsFalse) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  std::atomic<int> calls{0};
  auto sub = store->Subscribe(0, [&](const Event&) {
    ++calls;
    return true;
  });
  ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  for (int i = 0; i < 2000 && calls.load() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(calls.load(), 1);
  sub->Cancel();
  ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(calls.load(), 1);
  // A visitor returning false stops delivery.
  std::atomic<int> stopped{0};
  auto sub2 = store->Subscribe(0, [&](const Event&) {
    ++stopped;
    return false;
  });
  // The first delivery, however long a loaded machine takes to make it.
  for (int i = 0; i < 2000 && stopped.load() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(stopped.load(), 1);
  ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(stopped.load(), 1);
  // A live subscription is ended by the store's destructor.
  auto sub3 = store->Subscribe(0, [&](const Event&) { return true; });
  store.reset();
}

TEST(EventStore, DiskFullFailsWith503KeepsReadingAndRecovers) {
  TempDir dir;
  auto faults = std::make_shared<WriteFaults>();
  Options o;
  o.faults = faults;
  auto store = OpenStore(dir.path(), o);
  ASSERT_TRUE(store);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  faults->SetNoSpace(true);
  for (int i = 0; i < 3; ++i) {
    auto r = store->Append(Req({Ev("goal-a")}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
  }
  EXPECT_EQ(store->Head(), 5u);
  EXPECT_EQ(store->StreamVersion("goal-a"), 5u);
  EXPECT_EQ(All(*store).size(), 5u);
  EXPECT_TRUE(store->ReadAt(5).ok());
  faults->SetNoSpace(false);
  auto r = store->Append(
      Req({Ev("goal-a")}, {{"goal-a", ExpectedVersion::Exact(5)}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->events[0].position, 6u);
  EXPECT_TRUE(store->Verify().ok);
  store.reset();
  store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Head(), 6u);
  auto rep = store->Verify();
  EXPECT_TRUE(rep.ok) << (rep.problems.empty() ? "" : rep.problems[0]);
}

TEST(EventStore, VerifyNamesTheFirstTamperedEvent) {
  TempDir dir;
  std::string stored;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store);
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(store->Append(Req({Ev("goal-a", R"({"value":100})")})).ok());
    }
    stored = EncodeEnvelope(*store->ReadAt(3));
  }
  std::string forged = stored;
  forged.replace(forged.find("100"), 3, "999");
  RawPut(dir.path(), "events", Be64(3), forged);
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  std::vector<std::string> progress;
  auto rep =
      store->Verify([&](const std::string& l) { progress.push_back(l); });
  EXPECT_FALSE(rep.ok);
  ASSERT_FALSE(rep.problems.empty());
  EXPECT_NE(rep.problems[0].find("event 3"), std::string::npos)
      << rep.problems[0];
  EXPECT_FALSE(progress.empty());
}

TEST(EventStore, VerifyFindsAGapAndABrokenIndex) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store);
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  }
  RawPut(dir.path(), "streams", std::string("goal-a") + '\0' + Be64(2),
         Be64(4));
  auto store = OpenStore(dir.path());
  auto rep = store->Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_FALSE(rep.problems.empty());
  EXPECT_NE(rep.problems[0].find("streams index"), std::string::npos);
}

TEST(EventStore, SnapshotsSkipABadChecksum) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->LatestSnapshot(100).has_value());
    ASSERT_TRUE(store->PutSnapshot(10, "ten").ok());
    ASSERT_TRUE(store->PutSnapshot(20, "twenty").ok());
    EXPECT_EQ(store->LatestSnapshot(15)->first, 10u);
    EXPECT_EQ(store->LatestSnapshot(15)->second, "ten");
    EXPECT_EQ(store->LatestSnapshot(20)->second, "twenty");
    EXPECT_FALSE(store->LatestSnapshot(9).has_value());
  }
  RawPut(dir.path(), "snapshots", Be64(20), std::string(32, 'x') + "twenty");
  auto store = OpenStore(dir.path());
  auto s = store->LatestSnapshot(100);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->first, 10u);
}

TEST(EventStore, SnapshotSeriesAreIndependentAndPrune) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutSnapshot(10, "full-10").ok());
  ASSERT_TRUE(store->PutSnapshot(30, "full-30").ok());
  ASSERT_TRUE(store->PutSnapshot(20, "light-20", 1).ok());
  ASSERT_TRUE(store->PutSnapshot(40, "light-40", 1).ok());
  ASSERT_TRUE(store->PutSnapshot(25, "other-25", 7).ok());
  // Each series sees only its own, from any max, the largest included.
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX)->second, "full-30");
  EXPECT_EQ(store->LatestSnapshot(29)->second, "full-10");
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX, 1)->second, "light-40");
  EXPECT_EQ(store->LatestSnapshot(39, 1)->second, "light-20");
  EXPECT_FALSE(store->LatestSnapshot(19, 1).has_value());
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX, 7)->second, "other-25");
  EXPECT_FALSE(store->LatestSnapshot(100, 2).has_value());
  // Pruning one series leaves the others.
  ASSERT_TRUE(store->DeleteSnapshots(0, 30).ok());
  EXPECT_FALSE(store->LatestSnapshot(29).has_value());
  EXPECT_EQ(store->LatestSnapshot(30)->second, "full-30");
  EXPECT_EQ(store->LatestSnapshot(39, 1)->second, "light-20");
  ASSERT_TRUE(store->DeleteSnapshots(1, 41).ok());
  EXPECT_FALSE(store->LatestSnapshot(UINT64_MAX, 1).has_value());
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX, 7)->second, "other-25");
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX)->second, "full-30");
}

// A snapshot as the store keeps it: raw SHA-256 of the bytes, then them.
std::string Checksummed(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(
      EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr), 1);
  return std::string(reinterpret_cast<const char*>(md), n) + bytes;
}

TEST(EventStore, SnapshotsWrittenBeforeTheIndexAreFound) {
  TempDir dir;
  { ASSERT_TRUE(OpenStore(dir.path())); }
  // As a store of an earlier version holds them: no index entries.
  RawPut(dir.path(), "snapshots", Be64(7), Checksummed("seven"));
  RawPut(dir.path(), "snapshots", Be64(9), Checksummed("nine"));
  auto store = OpenStore(dir.path());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX)->second, "nine");
  EXPECT_EQ(store->LatestSnapshot(8)->first, 7u);
  EXPECT_FALSE(store->LatestSnapshot(6).has_value());
  EXPECT_FALSE(store->LatestSnapshot(UINT64_MAX, 1).has_value());
  // Once indexed ones exist, they are what is found.
  ASSERT_TRUE(store->PutSnapshot(20, "twenty").ok());
  EXPECT_EQ(store->LatestSnapshot(UINT64_MAX)->second, "twenty");
}

TEST(EventStore, BackupRestoresUnderANewEpoch) {
  TempDir dir;
  auto store = OpenStore(dir.Sub("live"));
  ASSERT_TRUE(store);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  ASSERT_TRUE(store->Backup(dir.Sub("backup")).ok());
  EXPECT_FALSE(store->Backup(dir.Sub("backup")).ok());  // exists
  ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
  auto copy = OpenStore(dir.Sub("backup"));
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->Head(), 10u);
  EXPECT_NE(copy->Epoch(), store->Epoch());
  auto live = All(*store);
  ASSERT_EQ(live.size(), 11u);
  live.pop_back();
  EXPECT_EQ(All(*copy), live);
  std::string restored_epoch = copy->Epoch();
  copy.reset();
  copy = OpenStore(dir.Sub("backup"));
  EXPECT_EQ(copy->Epoch(), restored_epoch);  // new once, then stable
  EXPECT_TRUE(copy->Verify().ok);
}

TEST(EventStore, ReadOnlyOpenChangesNothing) {
  TempDir dir;
  std::string epoch;
  {
    auto store = OpenStore(dir.path());
    ASSERT_TRUE(store->Append(Req({Ev("goal-a")})).ok());
    epoch = store->Epoch();
  }
  Options o;
  o.read_only = true;
  auto ro = OpenStore(dir.path(), o);
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro->Epoch(), epoch);
  EXPECT_EQ(ro->Head(), 1u);
  auto r = ro->Append(Req({Ev("goal-a")}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(ro->Head(), 1u);
}

}  // namespace
}  // namespace cairn::eventstore
