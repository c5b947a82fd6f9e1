#include "live_event.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "hub.hpp"
#include "live_message.hpp"
#include "reused_queue.hpp"

namespace cairn::gateway {
namespace {

// Builds a small organisation through Decide + Apply (no store needed).
class Org {
 public:
  Org() {
    Run(CreateUnit{"acme", "Acme", UnitKind::kCompany, ""});
    Run(CreateUnit{"sales", "Sales", UnitKind::kDepartment, "acme"});
    Run(CreateUnit{"team-a", "Team A", UnitKind::kTeam, "sales"});
    Run(CreateUnit{"marketing", "Marketing", UnitKind::kDepartment, "acme"});
    Run(CreateCycle{"q1", "Q1", CycleKind::kQuarter, MakeDay(2026, 1, 1),
                    MakeDay(2026, 3, 31), ""});
    Run(CreateCycle{"q2", "Q2", CycleKind::kQuarter, MakeDay(2026, 4, 1),
                    MakeDay(2026, 6, 30), ""});
    CreateGoal obj;
    obj.id = "obj-sales";
    obj.kind = GoalKind::kObjective;
    obj.title = "Grow sales a lot";
    obj.unit = "sales";
    obj.cycle = "q1";
    Run(obj);
    CreateGoal kr;
    kr.id = "kr-a";
    kr.kind = GoalKind::kKeyResult;
    kr.title = "Team A sells more";
    kr.unit = "team-a";
    kr.cycle = "q1";
    kr.parent = "obj-sales";
    kr.measure = MeasureInput{.start = 0, .target = 100};
    Run(kr);
    CreateGoal mk;
    mk.id = "kr-m";
    mk.kind = GoalKind::kKeyResult;
    mk.title = "Marketing leads grow";
    mk.unit = "marketing";
    mk.cycle = "q1";
    mk.measure = MeasureInput{.start = 0, .target = 10};
    Run(mk);
  }

  // Decides and applies; returns the events as they would be stored.
  std::vector<Event> Run(const Command& cmd) {
    CommandContext ctx{.actor = "admin",
                       .now = *ParseTime("2026-02-01T10:00:00.000Z"),
                       .role = Role::kAdmin};
    auto r = Decide(state, cmd, ctx);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    std::vector<Event> out;
    if (!r) return out;
    for (const PendingEvent& p : *r) {
      Event e;
      e.position = state.position + 1;
      e.stream = p.stream;
      e.version = p.expected_version + 1;
      e.type = p.type;
      e.id = "e" + std::to_string(e.position);
      e.at = ctx.now;
      e.actor = "admin";
      e.hash = std::string(64, '0');
      e.data = p.data;
      Apply(state, e);
      out.push_back(e);
    }
    return out;
  }

  State state;
};

TEST(LiveMatchTest, UnitDepthAndCycle) {
  const LiveTouch team_goal{{"team-a", "sales", "acme"}, "q1"};
  EXPECT_TRUE(InScope({"team-a", 0, "q1"}, team_goal));
  EXPECT_FALSE(InScope({"sales", 0, "q1"}, team_goal));
  EXPECT_TRUE(InScope({"sales", 1, "q1"}, team_goal));
  EXPECT_FALSE(InScope({"acme", 1, "q1"}, team_goal));
  EXPECT_TRUE(InScope({"acme", -1, "q1"}, team_goal));
  EXPECT_TRUE(InScope({"acme", 2, ""}, team_goal));
  EXPECT_FALSE(InScope({"sales", 1, "q2"}, team_goal));
  EXPECT_FALSE(InScope({"marketing", 5, "q1"}, team_goal));
  // A cycle event touches every unit; a unit event every cycle.
  EXPECT_TRUE(InScope({"marketing", 0, "q1"}, LiveTouch{{}, "q1"}));
  EXPECT_FALSE(InScope({"marketing", 0, "q2"}, LiveTouch{{}, "q1"}));
  EXPECT_TRUE(InScope({"sales", 0, "q2"}, LiveTouch{{"sales", "acme"}, ""}));
}

TEST(LiveDescribeTest, CheckInTouchesGoalAndParentWithGrades) {
  Org org;
  std::vector<Event> events =
      org.Run(AddCheckIn{.goal = "kr-a", .value = 50, .confidence = 7});
  ASSERT_EQ(events.size(), 1u);
  LiveEvent live = DescribeEvent(org.state, events[0], events[0].at);
  EXPECT_EQ(live.position, events[0].position);
  EXPECT_EQ(live.envelope, EncodeEnvelope(events[0]));
  ASSERT_EQ(live.goals.size(), 2u);
  EXPECT_EQ(live.goals[0]->id, "kr-a");
  EXPECT_EQ(live.goals[1]->id, "obj-sales");
  EXPECT_NE(live.goals[0]->json.find("\"progress\":0.5"), std::string::npos)
      << live.goals[0]->json;
  EXPECT_NE(live.goals[1]->json.find("\"grade\":0.5"), std::string::npos)
      << live.goals[1]->json;

  EXPECT_TRUE(Matches({"team-a", 0, "q1"}, live));
  EXPECT_TRUE(Matches({"sales", 0, "q1"}, live));  // the parent objective
  EXPECT_FALSE(Matches({"sales", 0, "q2"}, live));
  EXPECT_FALSE(Matches({"marketing", 3, ""}, live));

  // The message for a team-only subscription leaves out the parent in sales.
  std::string msg = WriteEventMessage("s1", {"team-a", 0, "q1"}, live);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(msg);
  EXPECT_EQ(std::string_view(doc["op"]), "event");
  EXPECT_EQ(uint64_t(doc["position"]), events[0].position);
  EXPECT_EQ(simdjson::dom::array(doc["goals"]).size(), 1u);
  EXPECT_EQ(std::string_view(doc["event"]["type"]), "goal.checked_in");
  std::string both = WriteEventMessage("s1", {"sales", 1, "q1"}, live);
  EXPECT_EQ(simdjson::dom::array(parser.parse(both)["goals"]).size(), 2u);
}

TEST(LiveDescribeTest, UnitCycleAndTokenEvents) {
  Org org;
  auto unit = org.Run(EditUnit{.id = "team-a", .name = "Team Alpha"});
  ASSERT_EQ(unit.size(), 1u);
  LiveEvent lu = DescribeEvent(org.state, unit[0], unit[0].at);
  EXPECT_TRUE(Matches({"sales", 1, "q2"}, lu));
  EXPECT_FALSE(Matches({"sales", 0, "q1"}, lu));
  EXPECT_FALSE(Matches({"marketing", 1, "q1"}, lu));

  auto cycle = org.Run(CloseCycle{"q1"});
  ASSERT_FALSE(cycle.empty());
  LiveEvent lc = DescribeEvent(org.state, cycle.back(), cycle.back().at);
  EXPECT_TRUE(Matches({"marketing", 0, "q1"}, lc));
  EXPECT_FALSE(Matches({"marketing", 0, "q2"}, lc));

  Event token;
  token.position = org.state.position + 1;
  token.stream = "token-bob";
  token.type = "token.created";
  Apply(org.state, token);
  LiveEvent lt = DescribeEvent(org.state, token, 0);
  EXPECT_FALSE(Matches({"acme", -1, ""}, lt));
  EXPECT_EQ(lt.revoked_token, "");
  // A revocation names the token, so that its sessions close.
  Event revoked;
  revoked.position = token.position + 1;
  revoked.stream = "token-bob";
  revoked.type = "token.revoked";
  revoked.data = "{}";
  Apply(org.state, revoked);
  LiveEvent lr = DescribeEvent(org.state, revoked, 0);
  EXPECT_FALSE(Matches({"acme", -1, ""}, lr));
  EXPECT_EQ(lr.revoked_token, "bob");
}

// ReusedQueue against std::deque under random operations, and its storage
// bounded: reused when it empties, compacted when a long queue drains.
TEST(ReusedQueueTest, BehavesAsADequeAndReusesItsStorage) {
  std::mt19937 rng(7);
  ReusedQueue<std::string> q;
  std::deque<std::string> model;
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 5 || model.empty()) {
      q.push_back(std::to_string(next));
      model.push_back(std::to_string(next));
      ++next;
    } else if (op < 9) {
      ASSERT_EQ(q.front(), model.front());
      q.pop_front();
      model.pop_front();
    } else {
      q.pop_back();
      model.pop_back();
    }
    ASSERT_EQ(q.size(), model.size());
    ASSERT_EQ(q.empty(), model.empty());
    if (!model.empty()) {
      ASSERT_EQ(q.front(), model.front());
    }
    ASSERT_LE(q.storage_size(), 2 * q.size() + 64);
  }
  // One in, one out: the same slot every time.
  q.clear();
  for (int i = 0; i < 1000; ++i) {
    q.push_back("m");
    ASSERT_EQ(q.storage_size(), 1u);
    q.pop_front();
  }
  // A queue that never empties but drains: storage stays bounded.
  for (int i = 0; i < 100; ++i) q.push_back("backlog");
  for (int i = 0; i < 100000; ++i) {
    q.push_back("m");
    q.pop_front();
    ASSERT_EQ(q.size(), 100u);
    ASSERT_LE(q.storage_size(), 2 * q.size() + 64);
  }
}

TEST(LiveBatchTest, SharedRendersOncePerEventAndKeyAcrossThreads) {
  LiveBatch batch;
  batch.events.resize(2);
  batch.events[0].position = 7;
  batch.events[1].position = 8;
  std::atomic<int> renders{0};
  auto render = [&](size_t i, const std::string& key) {
    return batch.Shared(i, key, [&] {
      ++renders;
      return key + "@" + std::to_string(batch.events[i].position);
    });
  };
  std::vector<std::shared_ptr<const std::string>> seen(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] { seen[t] = render(1, "s1|sales"); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(renders, 1);
  for (const auto& s : seen) {
    EXPECT_EQ(s.get(), seen[0].get());  // the same bytes, shared
  }
  EXPECT_EQ(*seen[0], "s1|sales@8");
  EXPECT_EQ(*render(0, "s1|sales"), "s1|sales@7");
  EXPECT_EQ(*render(1, "s2|sales"), "s2|sales@8");
  EXPECT_EQ(renders, 3);
}

TEST(LiveMessageTest, ParsesSubscribe) {
  auto m = ParseClientMessage(
      R"({"op":"subscribe","sub":"s1","unit":"sales","cycle":"2026-q1",)"
      R"("depth":1,"from":1040,"snapshot":false,"epoch":"abc"})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->op, ClientMessage::Op::kSubscribe);
  EXPECT_EQ(m->sub, "s1");
  EXPECT_EQ(m->filter.unit, "sales");
  EXPECT_EQ(m->filter.cycle, "2026-q1");
  EXPECT_EQ(m->filter.depth, 1);
  ASSERT_TRUE(m->from.has_value());
  EXPECT_EQ(*m->from, 1040u);
  EXPECT_FALSE(m->snapshot);
  EXPECT_EQ(m->epoch, "abc");

  auto p = ParseClientMessage(R"({"op":"ping"})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->op, ClientMessage::Op::kPing);
  auto u = ParseClientMessage(R"({"op":"unsubscribe","sub":"s1"})");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->op, ClientMessage::Op::kUnsubscribe);
}

TEST(LiveMessageTest, RejectsBadMessagesNamingTheField) {
  struct Case {
    const char* text;
    ErrorCode code;
    const char* field;
    const char* sub;
  };
  const Case cases[] = {
      {"not json", ErrorCode::kBadJson, "", ""},
      {"[1,2]", ErrorCode::kBadJson, "", ""},
      {R"({"op":"subscribe","sub":"s1","unit":"sales")", ErrorCode::kBadJson,
       "", ""},
      {R"({"sub":"s1"})", ErrorCode::kValidationFailed, "op", "s1"},
      {R"({"op":"dance"})", ErrorCode::kValidationFailed, "op", ""},
      {R"({"op":"subscribe","unit":"sales"})", ErrorCode::kValidationFailed,
       "sub", ""},
      {R"({"op":"subscribe","sub":"","unit":"sales"})",
       ErrorCode::kValidationFailed, "sub", ""},
      {R"({"op":"subscribe","sub":"s1"})", ErrorCode::kValidationFailed, "unit",
       "s1"},
      {R"({"op":"subscribe","sub":"s1","unit":"Bad Unit"})",
       ErrorCode::kValidationFailed, "unit", "s1"},
      {R"({"op":"subscribe","sub":"s1","unit":"u","depth":"1"})",
       ErrorCode::kValidationFailed, "depth", "s1"},
      {R"({"op":"subscribe","sub":"s1","unit":"u","depth":99})",
       ErrorCode::kValidationFailed, "depth", "s1"},
      {R"({"op":"subscribe","sub":"s1","unit":"u","from":-3})",
       ErrorCode::kValidationFailed, "from", "s1"},
      {R"({"op":"subscribe","sub":"s1","unit":"u","snapshot":1})",
       ErrorCode::kValidationFailed, "snapshot", "s1"},
      {R"({"op":"unsubscribe"})", ErrorCode::kValidationFailed, "sub", ""},
  };
  for (const Case& c : cases) {
    std::string sub;
    auto m = ParseClientMessage(c.text, &sub);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.error().code, c.code) << c.text;
    EXPECT_EQ(m.error().field, c.field) << c.text;
    EXPECT_EQ(sub, c.sub) << c.text;
    // The error message is valid JSON naming the code.
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(WriteError(m.error(), sub));
    EXPECT_EQ(std::string_view(doc["op"]), "error");
    EXPECT_EQ(std::string_view(doc["error"]["code"]), ErrorCodeName(c.code));
  }
}

// A sink that records what it is handed (the session's real one posts).
class RecordingSink : public LiveSink {
 public:
  void Deliver(std::shared_ptr<const LiveBatch> cs) override {
    std::lock_guard lock(mu);
    for (const auto& e : cs->events) positions.push_back(e.position);
  }
  void Shutdown() override { shut = true; }
  std::mutex mu;
  std::vector<uint64_t> positions;
  std::atomic<bool> shut{false};
};

std::shared_ptr<LiveBatch> OneEvent(uint64_t position, LiveTouch touch) {
  auto cs = std::make_shared<LiveBatch>();
  LiveEvent e;
  e.position = position;
  e.touches.push_back(std::move(touch));
  cs->events.push_back(std::move(e));
  return cs;
}

TEST(HubTest, DeliversOnlyMatchingAndReportsHead) {
  Hub hub(10);
  auto sales = std::make_shared<RecordingSink>();
  auto other = std::make_shared<RecordingSink>();
  const uint64_t a = hub.Attach(sales);
  const uint64_t b = hub.Attach(other);
  EXPECT_EQ(hub.AddSubscription(a, "s", {"sales", 1, "q1"}), 10u);
  EXPECT_EQ(hub.AddSubscription(b, "s", {"marketing", 0, ""}), 10u);
  hub.PublishBatch(OneEvent(11, {{"team-a", "sales", "acme"}, "q1"}));
  hub.PublishBatch(OneEvent(12, {{"marketing", "acme"}, "q1"}));
  hub.PublishBatch(OneEvent(12, {{"team-a", "sales", "acme"}, "q1"}));  // stale
  EXPECT_EQ(hub.last_published(), 12u);
  EXPECT_EQ(sales->positions, (std::vector<uint64_t>{11}));
  EXPECT_EQ(other->positions, (std::vector<uint64_t>{12}));
  EXPECT_EQ(hub.AddSubscription(a, "t", {"marketing", 0, ""}), 12u);
  hub.RemoveSubscription(a, "s");
  hub.PublishBatch(OneEvent(13, {{"team-a", "sales", "acme"}, "q1"}));
  EXPECT_EQ(sales->positions, (std::vector<uint64_t>{11}));

  // Dead sinks are dropped; shutdown reaches the living.
  other.reset();
  hub.PublishBatch(OneEvent(14, {{"marketing", "acme"}, "q1"}));
  EXPECT_EQ(hub.sink_count(), 1u);
  hub.Shutdown();
  EXPECT_TRUE(sales->shut);
  auto late = std::make_shared<RecordingSink>();
  EXPECT_EQ(hub.Attach(late), 0u);
  EXPECT_TRUE(late->shut);
  hub.Detach(a);
  EXPECT_EQ(hub.sink_count(), 0u);
}

// A subscription learns the State at its H from the hub when the last
// batch was published with one (Hub::Publish), whether or not anyone was
// listening; a batch without one leaves the subscriber to compute it.
TEST(HubTest, AddSubscriptionHandsOverTheStateAtH) {
  Hub hub(10);
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t id = hub.Attach(sink);
  std::shared_ptr<const State> at_h =
      std::make_shared<const State>();  // replaced below
  EXPECT_EQ(hub.AddSubscription(id, "s", {"sales", 1, ""}, &at_h), 10u);
  EXPECT_EQ(at_h, nullptr);  // nothing published yet
  auto publish = [&](uint64_t position) {
    auto state = std::make_shared<State>();
    state->position = position;
    auto changes = std::make_shared<ChangeSet>();
    Event e;
    e.position = position;
    e.stream = "unit-sales";
    e.type = "unit.renamed";
    changes->events.push_back(e);
    changes->state = state;
    hub.Publish(changes);
    return state;
  };
  auto s11 = publish(11);  // a subscriber: described and delivered
  EXPECT_EQ(hub.AddSubscription(id, "t", {"sales", 1, ""}, &at_h), 11u);
  EXPECT_EQ(at_h, s11);
  hub.RemoveSubscription(id, "s");
  hub.RemoveSubscription(id, "t");
  auto s12 = publish(12);  // nobody listening: only H and the State move
  EXPECT_EQ(hub.AddSubscription(id, "u", {"sales", 1, ""}, &at_h), 12u);
  EXPECT_EQ(at_h, s12);
  hub.PublishBatch(OneEvent(13, {{"sales"}, ""}));  // no State with it
  EXPECT_EQ(hub.AddSubscription(id, "v", {"sales", 1, ""}, &at_h), 13u);
  EXPECT_EQ(at_h, nullptr);
}

// A subscription registered while a writer publishes sees every position
// after the H it was given and none at or before it.
TEST(HubTest, RegistrationIsAtomicWithPublish) {
  Hub hub(0);
  constexpr uint64_t kEvents = 20000;
  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> registered{0};
  // Writer and subscriber pace each other so the registrations spread over
  // the whole run (about one every 100 to 200 events) on any machine.
  std::thread writer([&] {
    for (uint64_t p = 1; p <= kEvents; ++p) {
      while (registered < p / 200) std::this_thread::yield();
      hub.PublishBatch(OneEvent(p, {{"sales"}, ""}));
      published = p;
    }
  });
  std::vector<std::pair<std::shared_ptr<RecordingSink>, uint64_t>> subs;
  while (published < kEvents) {
    if (published < registered * 100) {
      std::this_thread::yield();
      continue;
    }
    auto sink = std::make_shared<RecordingSink>();
    const uint64_t id = hub.Attach(sink);
    subs.emplace_back(sink, hub.AddSubscription(id, "s", {"sales", 0, ""}));
    ++registered;
  }
  writer.join();
  ASSERT_GE(subs.size(), 100u);
  for (auto& [sink, h] : subs) {
    ASSERT_EQ(sink->positions.size(), kEvents - h);
    for (size_t i = 0; i < sink->positions.size(); ++i) {
      ASSERT_EQ(sink->positions[i], h + 1 + i);
    }
  }
}

}  // namespace
}  // namespace cairn::gateway
