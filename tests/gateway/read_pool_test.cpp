// The read pool: its queue on its own, and through the server, that a heavy
// read (a whole State as of a past position) no longer holds the light
// requests an I/O thread would serve next, nor a long resume on a live
// shard (or a big board's snapshot) the other sessions of that shard.
#include "read_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sequencer.hpp"
#include "server_fixture.hpp"
#include "ws_client.hpp"

namespace cairn::gateway {
namespace {

using namespace std::chrono_literals;

TEST(ReadPoolTest, RunsTasksInOrderOnItsThread) {
  ReadPool pool(1, 100, 0);
  std::mutex mu;
  std::vector<int> ran;
  std::vector<std::thread::id> on;
  std::promise<void> last;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool.Submit([&, i](bool run) {
      ASSERT_TRUE(run);
      std::lock_guard lock(mu);
      ran.push_back(i);
      on.push_back(std::this_thread::get_id());
      if (i == 49) last.set_value();
    }));
  }
  last.get_future().wait();
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[i] = i;
  EXPECT_EQ(ran, expected);
  EXPECT_NE(on.front(), std::this_thread::get_id());
  EXPECT_TRUE(std::all_of(on.begin(), on.end(),
                          [&](auto id) { return id == on.front(); }));
}

TEST(ReadPoolTest, RefusesPastItsBoundAndAnswersQueuedTasksOnStop) {
  ReadPool pool(1, 2, 0);
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0}, refused{0};
  ASSERT_TRUE(pool.Submit([&](bool run) {
    EXPECT_TRUE(run);
    started.set_value();
    released.wait();  // holds the only thread
    ++ran;
  }));
  started.get_future().wait();
  auto count = [&](bool run) { ++(run ? ran : refused); };
  EXPECT_TRUE(pool.Submit(count));
  EXPECT_TRUE(pool.Submit(count));
  EXPECT_EQ(pool.Queued(), 2u);
  EXPECT_FALSE(pool.Submit(count));  // the bound: 2 waiting
  std::thread stopper([&] { pool.Stop(); });
  // Stop answers the two queued tasks at once, then waits for the running
  // one.
  for (int i = 0; i < 500 && refused.load() < 2; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(refused.load(), 2);
  EXPECT_EQ(ran.load(), 0);
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(pool.Submit(count));  // stopped
  EXPECT_EQ(refused.load(), 2);
  pool.Stop();  // again: nothing
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

class HeavyReadsTest : public ServerTest {
 protected:
  // One I/O thread, so that a heavy read on it would hold every request.
  void SetUp() override {
    io_threads_ = 1;
    read_threads_ = 1;
    ServerTest::SetUp();
  }

  // Commands straight to the Sequencer (batched: a few fsyncs, not one
  // per command).
  void SubmitAll(std::vector<Command> commands) {
    std::vector<std::future<Response>> replies;
    replies.reserve(commands.size());
    for (Command& command : commands) {
      auto promise = std::make_shared<std::promise<Response>>();
      replies.push_back(promise->get_future());
      WriteRequest w;
      w.command = std::move(command);
      w.ctx.actor = "loader";
      w.ctx.role = Role::kEditor;
      w.render = [](const State&, const std::vector<Event>&) {
        Response r;
        r.status = 201;
        return r;
      };
      w.done = [promise](Response r) { promise->set_value(std::move(r)); };
      server_->sequencer().Submit(std::move(w));
    }
    for (auto& r : replies) ASSERT_EQ(r.get().status, 201u);
  }

  // `n` check-ins on kr-1.
  void CheckIns(int n) {
    std::vector<Command> commands;
    for (int i = 0; i < n; ++i) {
      AddCheckIn c;
      c.goal = "kr-1";
      c.value = i % 10;
      commands.push_back(c);
    }
    SubmitAll(std::move(commands));
  }

  // Reads a new live subscription's `synced` and then its events until
  // `head`: a reply is sent before the hub publishes its batch, so the
  // seeding's last batches may still be on their way.
  static void LiveUntil(LiveClient& c, uint64_t head) {
    LiveMsg m = c.Read(5s);
    ASSERT_EQ(m.op, "synced") << m.raw;
    while (m.position < head) {
      m = c.Read(5s);
      ASSERT_EQ(m.op, "event") << m.raw;
    }
    ASSERT_EQ(m.position, head);
  }

  // Client A, when it subscribed, and the time client B took to get a
  // check-in made meanwhile (after its reply).
  struct Race {
    std::unique_ptr<LiveClient> a;
    std::chrono::steady_clock::time_point subscribed;
    double b_ms = 0;
  };

  // Client B goes live on sales, then client A sends `subscribe` and `wait`
  // later a check-in on kr-1 is made.
  void CheckInWhileASubscribes(const std::string& subscribe,
                               std::chrono::milliseconds wait, Race& race) {
    std::unique_ptr<LiveClient>& a = race.a;
    const uint64_t head = Head();
    LiveClient b(server_->port(), kAdmin);
    ASSERT_TRUE(b.ok()) << b.error();
    b.Send(SubscribeMessage("b", "sales", 1, "q1", -1));
    LiveUntil(b, head);
    a = std::make_unique<LiveClient>(server_->port(), kAdmin);
    ASSERT_TRUE(a->ok()) << a->error();
    race.subscribed = std::chrono::steady_clock::now();
    a->Send(subscribe);
    std::this_thread::sleep_for(wait);  // A's catch-up under way
    auto r = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":5})");
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto written = std::chrono::steady_clock::now();
    ASSERT_EQ(Head(), head + 1);
    LiveMsg at_b = b.Read(60s);
    race.b_ms = MillisSince(written);
    ASSERT_EQ(at_b.op, "event") << at_b.raw;
    EXPECT_EQ(at_b.position, head + 1);
  }

  static double MillisSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - t0)
        .count();
  }

  // A's catch-up took `a_ms` (at least `min_a_ms`, or the test shows
  // nothing); B was not held by it.
  void ExpectNotHeld(double a_ms, double b_ms, double min_a_ms) {
    RecordProperty("catch_up_ms", std::to_string(a_ms));
    RecordProperty("other_session_ms", std::to_string(b_ms));
    ASSERT_GE(a_ms, min_a_ms) << "A's catch-up took " << a_ms << " ms";
    EXPECT_LT(b_ms, a_ms / 4) << "B got the live event after " << b_ms
                              << " ms; A's catch-up took " << a_ms << " ms";
  }

  // `n` more key results in sales.
  void Goals(int n) {
    std::vector<Command> commands;
    for (int i = 0; i < n; ++i) {
      CreateGoal g;
      g.id = "bulk-" + std::to_string(i);
      g.kind = GoalKind::kKeyResult;
      g.title = "Bulk goal number " + std::to_string(i);
      g.unit = "sales";
      g.cycle = "q1";
      g.measure = MeasureInput{.start = 0, .target = 100};
      commands.push_back(g);
    }
    SubmitAll(std::move(commands));
  }
};

// Two clients ask back to back for every goal as of a past position (each a
// replay of thousands of events); a third sends /healthz every 2 ms. With
// the heavy reads on the only I/O thread, /healthz waited behind one most
// of the time (its p90 about a whole heavy read); on the read pool it does
// not.
TEST_F(HeavyReadsTest, HeavyReadsDoNotHoldLightRequests) {
  Seed();
  CheckIns(12'000);
  ASSERT_GT(Head(), 10'000u);
  std::atomic<bool> done{false};
  // Below the first snapshot (every 10,000 events; written in the
  // background, so above it a read could be cheap or not by timing).
  std::atomic<uint64_t> next_position{9'000};
  std::mutex mu;
  std::vector<double> heavy_ms, light_ms;
  std::atomic<int> bad{0};
  std::vector<std::thread> heavy;
  for (int t = 0; t < 2; ++t) {
    heavy.emplace_back([&, port = server_->port()] {
      HttpClient c("127.0.0.1", port);
      const HeaderList auth = {
          {"Authorization", std::string("Bearer ") + kAdmin}};
      while (!done.load()) {
        // Each position below the ones asked before: no cached State is
        // closer than position 0, a replay of ~9,000 events.
        const uint64_t p = next_position.fetch_sub(7);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c.Send("GET",
                        "/api/v1/goals?as_of=" + std::to_string(p) + "&limit=1",
                        {}, auth);
        if (r.status != 200) ++bad;
        std::lock_guard lock(mu);
        heavy_ms.push_back(MillisSince(t0));
      }
    });
  }
  std::this_thread::sleep_for(100ms);  // both heavy clients under way
  HttpClient light("127.0.0.1", server_->port());
  // 2 s, and longer until 8 heavy reads are done (sanitizer builds are
  // slow), 60 s at most.
  const auto start = std::chrono::steady_clock::now();
  auto enough = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (now - start >= 60s) return true;
    if (now - start < 2s) return false;
    std::lock_guard lock(mu);
    return heavy_ms.size() >= 8;
  };
  while (!enough()) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = light.Send("GET", "/healthz");
    EXPECT_EQ(r.status, 200u);
    const double ms = MillisSince(t0);
    {
      std::lock_guard lock(mu);
      light_ms.push_back(ms);
    }
    std::this_thread::sleep_for(2ms);
  }
  done = true;
  for (auto& t : heavy) t.join();
  EXPECT_EQ(bad.load(), 0);
  const double heavy_p50 = Percentile(heavy_ms, 0.5);
  const double light_p90 = Percentile(light_ms, 0.9);
  RecordProperty("heavy_p50_ms", std::to_string(heavy_p50));
  RecordProperty("light_p90_ms", std::to_string(light_p90));
  // The heavy reads were heavy and kept coming (else this shows nothing).
  ASSERT_GE(heavy_ms.size(), 8u);
  ASSERT_GE(heavy_p50, 5.0) << "heavy reads took " << heavy_p50 << " ms";
  EXPECT_LT(light_p90, heavy_p50 / 4)
      << "/healthz p90 " << light_p90 << " ms against heavy reads' p50 "
      << heavy_p50 << " ms (" << light_ms.size() << " and " << heavy_ms.size()
      << " requests)";
}

// Past the bound of queued heavy reads: 503 `unavailable` with
// Retry-After, at once, and nothing appended; the reads admitted are
// answered.
TEST_F(HeavyReadsTest, PastTheQueueBoundHeavyReadsGet503) {
  StopServer();
  max_queued_reads_ = 1;  // one running, one waiting
  StartServer();
  Seed();
  CheckIns(12'000);
  const uint64_t head = Head();
  std::atomic<bool> go{false};
  std::mutex mu;
  std::vector<ClientResponse> replies;
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t, port = server_->port()] {
      HttpClient c("127.0.0.1", port);
      const HeaderList auth = {
          {"Authorization", std::string("Bearer ") + kAdmin}};
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 3; ++i) {
        // Below the first snapshot: each a replay of ~9,000 events.
        const int p = 9'000 - 10 * (3 * t + i);
        auto r = c.Send("GET",
                        "/api/v1/goals?as_of=" + std::to_string(p) + "&limit=1",
                        {}, auth);
        std::lock_guard lock(mu);
        replies.push_back(std::move(r));
      }
    });
  }
  go = true;
  for (auto& t : clients) t.join();
  size_t ok = 0, refused = 0;
  for (const ClientResponse& r : replies) {
    if (r.status == 200) {
      ++ok;
      continue;
    }
    ASSERT_EQ(r.status, 503u) << r.body;
    ++refused;
    EXPECT_EQ(r.Header("Retry-After"), "1");
    EXPECT_EQ(Member(r.body, "/error/code"), "unavailable") << r.body;
  }
  EXPECT_GE(ok, 1u);
  EXPECT_GE(refused, 1u);
  RecordProperty("answered", std::to_string(ok));
  RecordProperty("refused", std::to_string(refused));
  EXPECT_EQ(Head(), head);
  auto m = Call("GET", "/metrics", "", "");
  EXPECT_NE(m.body.find("\ncairn_heavy_reads_queued 0\n"), std::string::npos);
  EXPECT_NE(m.body.find("route=\"/api/v1/goals\",status=\"503\"}"),
            std::string::npos)
      << m.body;
}

// One live shard (one I/O thread). Client A resumes from position 1, a
// backlog of ~12,000 events, each described with its goal as of that
// event; client B is live on the same shard. A check-in made while A's
// backlog is being read reaches B at once, and A after its backlog and
// `synced`, exactly once. With the backlog read on the shard thread, B
// waited for the rest of A's backlog.
TEST_F(HeavyReadsTest, LongResumeDoesNotHoldTheOtherSessionsOfItsShard) {
  Seed();
  CheckIns(12'000);
  const uint64_t head = Head();
  Race race;
  CheckInWhileASubscribes(SubscribeMessage("a", "sales", 1, "q1", 1), 20ms,
                          race);
  if (HasFatalFailure()) return;
  // A: every event of kr-1 in (1, head], then synced at head, then the
  // live one, once.
  uint64_t last = 1;
  size_t events = 0;
  LiveMsg m;
  for (;;) {
    m = race.a->Read(60s);
    if (m.op != "event") break;
    ASSERT_GT(m.position, last);
    last = m.position;
    ++events;
  }
  const double a_ms = MillisSince(race.subscribed);
  ASSERT_EQ(m.op, "synced") << m.raw;
  EXPECT_EQ(m.position, head);
  EXPECT_EQ(last, head);
  EXPECT_GE(events, 12'000u);
  LiveMsg after = race.a->Read(5s);
  EXPECT_EQ(after.op, "event") << after.raw;
  EXPECT_EQ(after.position, head + 1);
  EXPECT_EQ(race.a->Read(200ms).op, "timeout");
  ExpectNotHeld(a_ms, race.b_ms, 40.0);
}

// The same for a big board: client A subscribes with a snapshot of a unit
// of 8,000 goals (a board of megabytes) while client B is live on the same
// shard; a check-in made meanwhile reaches B at once, and A after its
// snapshot and `synced`.
TEST_F(HeavyReadsTest, BigSnapshotDoesNotHoldTheOtherSessionsOfItsShard) {
  Seed();
  Goals(8'000);
  const uint64_t head = Head();
  Race race;
  CheckInWhileASubscribes(
      R"({"op":"subscribe","sub":"a","unit":"sales","cycle":"q1",)"
      R"("depth":1,"snapshot":true})",
      5ms, race);
  if (HasFatalFailure()) return;
  LiveMsg snapshot = race.a->Read(60s);
  const double a_ms = MillisSince(race.subscribed);
  ASSERT_EQ(snapshot.op, "snapshot") << snapshot.raw.substr(0, 200);
  EXPECT_EQ(snapshot.position, head);
  EXPECT_GT(snapshot.raw.size(), 1'000'000u);
  LiveMsg synced = race.a->Read(5s);
  EXPECT_EQ(synced.op, "synced") << synced.raw;
  EXPECT_EQ(synced.position, head);
  LiveMsg after = race.a->Read(5s);
  EXPECT_EQ(after.op, "event") << after.raw;
  EXPECT_EQ(after.position, head + 1);
  EXPECT_EQ(race.a->Read(200ms).op, "timeout");
  ExpectNotHeld(a_ms, race.b_ms, 20.0);
}

}  // namespace
}  // namespace cairn::gateway
