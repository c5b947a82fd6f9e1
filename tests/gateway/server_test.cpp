// Integration tests: the real server (in-process) on a loopback port with a
// temp RocksDB store, called over real sockets with a small HTTP client.
#include "server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/json_writer.hpp"
#include "cairn/core/time.hpp"
#include "cairn/projections/entities.hpp"
#include "http_client.hpp"
#include "sequencer.hpp"
#include "server_fixture.hpp"
#include "ws_client.hpp"

namespace cairn::gateway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST_F(ServerTest, HealthzAnswersOkWithPositionAndEpoch) {
  auto r = Call("GET", "/healthz", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Member(r.body, "/status"), "ok");
  EXPECT_EQ(Member(r.body, "/position"), "0");
  EXPECT_EQ(Member(r.body, "/epoch").size(), 32u);
}

// The demo company's history is recorded over the months before the start,
// so a board as of a past moment shows it as it was: the CSAT key result's
// target before and after it was lowered mid-quarter.
TEST_F(ServerTest, DemoHistoryIsRecordedOverThePastMonths) {
  StopServer();
  demo_ = true;
  StartServer();
  const Millis now = NowMillis();
  auto first = Call("GET", "/api/v1/events?from=0&limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  Result<Millis> first_at = ParseTime(Member(first.body, "/events/0/at"));
  ASSERT_TRUE(first_at.ok()) << first.body;
  EXPECT_LT(*first_at, now - 14 * kMillisPerDay);

  auto history = Call("GET", "/api/v1/goals/kr-csat/history");
  ASSERT_EQ(history.status, 200) << history.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(history.body);
  std::string edited_at;
  Millis last = 0;
  for (simdjson::dom::element e : doc["events"].get_array()) {
    Result<Millis> at = ParseTime(std::string(e["at"].get_string().value()));
    ASSERT_TRUE(at.ok());
    EXPECT_GE(*at, last);
    last = *at;
    if (e["type"].get_string().value() == "goal.edited") {
      edited_at = std::string(e["at"].get_string().value());
    }
  }
  ASSERT_FALSE(edited_at.empty()) << history.body;
  const Millis edited = *ParseTime(edited_at);
  ASSERT_LT(edited, now - kMillisPerDay);

  const std::string cycle =
      Member(Call("GET", "/api/v1/goals/kr-csat").body, "/cycle");
  auto target_at = [&](Millis t) {
    auto r = Call("GET", "/api/v1/goals/kr-csat?as_of=" + FormatTime(t));
    EXPECT_EQ(r.status, 200) << r.body;
    return Member(r.body, "/measure/target");
  };
  EXPECT_EQ(target_at(edited - 1), "95");
  EXPECT_EQ(target_at(edited), "92");
  // A board as of then holds the goal as it was.
  auto board = Call("GET", "/api/v1/boards/support?cycle=" + cycle +
                               "&as_of=" + FormatTime(edited - 1));
  ASSERT_EQ(board.status, 200) << board.body;
  EXPECT_NE(board.body.find(R"("target":95)"), std::string::npos);
}

TEST_F(ServerTest, CreateGoalThenReadItAndTheBoard) {
  Seed();
  auto g = Call("GET", "/api/v1/goals/kr-1");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.Header("ETag"), "\"1\"");
  EXPECT_EQ(Member(g.body, "/title"), "Sign ten new customers");
  EXPECT_EQ(Member(g.body, "/position"), std::to_string(Head()));
  auto c = Call("POST", "/api/v1/goals/kr-1/check-ins",
                R"({"value":4,"confidence":7,"at":"2026-02-01T00:00:00Z"})");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(Member(c.body, "/current"), "4");
  EXPECT_EQ(Member(c.body, "/version"), "2");
  auto b = Call("GET", "/api/v1/boards/sales?cycle=q1");
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(Member(b.body, "/goals/0/id"), "kr-1");
  EXPECT_EQ(Member(b.body, "/summary/count"), "1");
  auto units = Call("GET", "/api/v1/units");
  EXPECT_EQ(units.status, 200);
  EXPECT_NE(units.body.find("\"sales\""), std::string::npos);
  // as_of before the goal existed: 404; past the head: 422.
  EXPECT_EQ(Call("GET", "/api/v1/goals/kr-1?as_of=4").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/goals/kr-1?as_of=5").status, 200);
  auto past = Call("GET", "/api/v1/goals/kr-1?as_of=999");
  EXPECT_EQ(past.status, 422);
  EXPECT_EQ(Member(past.body, "/error/field"), "as_of");
  auto events = Call("GET", "/api/v1/events?from=5");
  EXPECT_EQ(events.status, 200);
  EXPECT_EQ(Member(events.body, "/events/0/type"), "goal.checked_in");
  EXPECT_EQ(Member(events.body, "/head"), std::to_string(Head()));
  auto nd = Call("GET", "/api/v1/events", "", kAdmin,
                 {{"Accept", "application/x-ndjson"}});
  EXPECT_EQ(std::count(nd.body.begin(), nd.body.end(), '\n'),
            static_cast<long>(Head()));
}

TEST_F(ServerTest, EveryErrorCodeAppendsNothing) {
  Seed();
  const uint64_t head = Head();
  struct Case {
    const char* name;
    std::string method, target, body, token;
    HeaderList headers;
    unsigned status;
    const char* code;
  };
  std::vector<Case> cases = {
      {"bad json",
       "POST",
       "/api/v1/goals",
       "{nope",
       kAdmin,
       {},
       400,
       "bad_json"},
      {"validation",
       "POST",
       "/api/v1/goals",
       R"({"kind":"key_result","title":"x","unit":"sales","cycle":"q1","weight":-1})",
       kAdmin,
       {},
       422,
       "validation_failed"},
      {"no token", "GET", "/api/v1/units", "", "", {}, 401, "unauthorized"},
      {"bad token",
       "GET",
       "/api/v1/units",
       "",
       "wrong",
       {},
       401,
       "unauthorized"},
      {"not found",
       "POST",
       "/api/v1/goals/nope/check-ins",
       R"({"value":1})",
       kAdmin,
       {},
       404,
       "not_found"},
      {"conflict",
       "POST",
       "/api/v1/goals/kr-1/check-ins",
       R"({"value":1})",
       kAdmin,
       {{"If-Match", "\"7\""}},
       409,
       "version_conflict"},
      {"exists",
       "POST",
       "/api/v1/goals",
       kGoal,
       kAdmin,
       {},
       409,
       "already_exists"},
      {"media type",
       "POST",
       "/api/v1/goals",
       kGoal,
       kAdmin,
       {{"Content-Type", "text/plain"}},
       415,
       "unsupported_media_type"},
      {"too large",
       "POST",
       "/api/v1/goals",
       std::string(2 << 20, ' '),
       kAdmin,
       {},
       413,
       "payload_too_large"},
      {"target too long",
       "POST",
       "/api/v1/goals/kr-1/check-ins?pad=" + std::string(5000, 'a'),
       R"({"value":1})",
       kAdmin,
       {},
       414,
       "validation_failed"},
      {"head too large",
       "POST",
       "/api/v1/goals/kr-1/check-ins",
       R"({"value":1})",
       kAdmin,
       {{"X-Pad", std::string(20000, 'a')}},
       431,
       "validation_failed"},
      {"bad idempotency key",
       "POST",
       "/api/v1/goals/kr-1/check-ins",
       R"({"value":1})",
       kAdmin,
       {{"Idempotency-Key", "has space"}},
       422,
       "validation_failed"},
  };
  for (const Case& c : cases) {
    auto r = Call(c.method, c.target, c.body, c.token, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(Member(r.body, "/error/code"), c.code) << c.name;
    EXPECT_FALSE(Member(r.body, "/error/message").empty()) << c.name;
    EXPECT_EQ(Head(), head) << c.name;
    // The server closes a connection whose request it refused unread.
    if (c.status == 413 || c.status == 414 || c.status == 431) {
      client_->Close();
    }
  }
  // A viewer may read but not write: 403.
  auto t = Call("POST", "/api/v1/tokens", R"({"name":"vera","role":"viewer"})");
  ASSERT_EQ(t.status, 201) << t.body;
  std::string viewer = Member(t.body, "/token");
  const uint64_t head2 = Head();
  EXPECT_EQ(Call("GET", "/api/v1/goals/kr-1", "", viewer).status, 200);
  auto w =
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":1})", viewer);
  EXPECT_EQ(w.status, 403) << w.body;
  EXPECT_EQ(Member(w.body, "/error/code"), "forbidden");
  EXPECT_EQ(Head(), head2);
}

TEST_F(ServerTest, IfMatchAcceptsTheCurrentVersionOnly) {
  Seed();
  auto ok = Call("PATCH", "/api/v1/goals/kr-1",
                 R"({"title":"Sign twelve new customers"})", kAdmin,
                 {{"If-Match", "\"1\""}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header("ETag"), "\"2\"");
  const uint64_t head = Head();
  auto stale =
      Call("PATCH", "/api/v1/goals/kr-1", R"({"title":"Other title here"})",
           kAdmin, {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Member(stale.body, "/error/code"), "version_conflict");
  EXPECT_EQ(Head(), head);
}

TEST_F(ServerTest, IdempotentRetryReplaysTheFirstResponse) {
  Seed();
  HeaderList key = {{"Idempotency-Key", "retry-1"}};
  auto first = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":3})",
                    kAdmin, key);
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t head = Head();
  auto again = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":3})",
                    kAdmin, key);
  EXPECT_EQ(again.status, first.status);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("ETag"), first.Header("ETag"));
  EXPECT_EQ(Head(), head);
  auto other = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":5})",
                    kAdmin, key);
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(Member(other.body, "/error/code"), "idempotency_key_reused");
  EXPECT_EQ(Head(), head);
  // A failed first try is not kept: the same key may be retried.
  HeaderList key2 = {{"Idempotency-Key", "retry-2"}};
  EXPECT_EQ(Call("POST", "/api/v1/goals/nope/check-ins", R"({"value":1})",
                 kAdmin, key2)
                .status,
            404);
  EXPECT_EQ(Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":1})",
                 kAdmin, key2)
                .status,
            201);
  EXPECT_EQ(Head(), head + 1);
}

TEST_F(ServerTest, ScopedTokenSeesOnlyItsSubtree) {
  Seed();
  auto t = Call("POST", "/api/v1/tokens",
                R"({"name":"eve","role":"editor","unit":"eng"})");
  ASSERT_EQ(t.status, 201) << t.body;
  std::string eve = Member(t.body, "/token");
  EXPECT_EQ(Call("GET", "/api/v1/goals/kr-1", "", eve).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/boards/sales", "", eve).status, 404);
  auto units = Call("GET", "/api/v1/units", "", eve);
  EXPECT_EQ(units.body.find("\"sales\""), std::string::npos) << units.body;
  const uint64_t head = Head();
  auto w = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":1})", eve);
  EXPECT_EQ(w.status, 404) << w.body;
  EXPECT_EQ(Head(), head);
  auto mine = Call(
      "POST", "/api/v1/goals",
      R"({"id":"eng-1","kind":"objective","title":"Ship the thing","unit":"eng","cycle":"q1"})",
      eve);
  EXPECT_EQ(mine.status, 201) << mine.body;
  // Revoked tokens stop working.
  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/eve").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/units", "", eve).status, 401);
  auto list = Call("GET", "/api/v1/tokens");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(eve), std::string::npos);  // never the secret
}

TEST_F(ServerTest, RateLimitAnswers429WithRetryAfter) {
  StopServer();
  StartServer(/*rate=*/5);
  unsigned limited = 0;
  std::string retry_after;
  for (int i = 0; i < 30; ++i) {
    auto r = Call("GET", "/api/v1/units");
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("Retry-After");
      EXPECT_EQ(Member(r.body, "/error/code"), "rate_limited");
    }
  }
  EXPECT_GT(limited, 0u);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
}

TEST_F(ServerTest, StaticFilesAndNoPathEscape) {
  auto index = Call("GET", "/", "", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>cairn</h1>");
  EXPECT_EQ(index.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(index.Header("ETag").empty());
  EXPECT_FALSE(index.Header("Last-Modified").empty());
  // Only its own scripts run, and it is never framed.
  const std::string csp = index.Header("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-"), std::string::npos) << csp;
  EXPECT_EQ(index.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(index.Header("X-Content-Type-Options"), "nosniff");
  auto js = Call("GET", "/app.js", "", "");
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  auto again =
      Call("GET", "/", "", "", {{"If-None-Match", index.Header("ETag")}});
  EXPECT_EQ(again.status, 304);
  for (const char* bad :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/sub/..%2f..%2fsecret.txt", "/sub/link.txt", "/..%5csecret.txt",
        "/%00", "/nope.html"}) {
    auto r = client_->SendRaw(std::string("GET ") + bad +
                              " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 404) << bad;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << bad;
  }
}

TEST_F(ServerTest, RestartLosesNothingAcknowledged) {
  Seed();
  for (int i = 1; i <= 20; ++i) {
    auto r = Call("POST", "/api/v1/goals/kr-1/check-ins",
                  R"({"value":)" + std::to_string(i) + "}");
    ASSERT_EQ(r.status, 201);
  }
  const uint64_t head = Head();
  auto before = Call("GET", "/api/v1/goals/kr-1?now=2026-02-01T00:00:00Z");
  StopServer();
  StartServer();
  EXPECT_EQ(Head(), head);
  auto after = Call("GET", "/api/v1/goals/kr-1?now=2026-02-01T00:00:00Z");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, before.body);
  EXPECT_EQ(Member(after.body, "/current"), "20");
}

// `threads` connections, connected first and then started together, each
// checking in `each` times on kr-1; the number answered 201.
int CheckInFromThreads(uint16_t port, int threads, int each) {
  std::atomic<int> ready{0}, created{0};
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&] {
      HttpClient c("127.0.0.1", port);
      const bool connected = c.Connect();
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      for (int i = 0; connected && i < each; ++i) {
        auto r =
            c.Send("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":1})",
                   {{"Authorization", std::string("Bearer ") + kAdmin}});
        if (r.status == 201) ++created;
      }
    });
  }
  for (auto& t : running) t.join();
  return created.load();
}

TEST_F(ServerTest, ConcurrentWritersAreAllDurableAndOrdered) {
  Seed();
  const uint64_t head = Head();
  constexpr int kThreads = 8, kEach = 10;
  EXPECT_EQ(CheckInFromThreads(server_->port(), kThreads, kEach),
            kThreads * kEach);
  EXPECT_EQ(Head(), head + kThreads * kEach);
  auto g = Call("GET", "/api/v1/goals/kr-1");
  EXPECT_EQ(Member(g.body, "/version"), std::to_string(1 + kThreads * kEach));
}

// After a burst the writer gathers the next batch while requests keep
// coming; a write that comes alone is still written without waiting for a
// request that never comes (nor for long).
TEST_F(ServerTest, ALoneWriteAfterABurstIsNotHeldBack) {
  Seed();
  const uint64_t head = Head();
  constexpr int kThreads = 48, kEach = 4;
  EXPECT_EQ(CheckInFromThreads(server_->port(), kThreads, kEach),
            kThreads * kEach);
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":2})");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_LT(took, std::chrono::seconds(1));
  }
  EXPECT_EQ(Head(), head + kThreads * kEach + 5);
}

// The writer decides a batch while the one before it syncs, against the
// State that one predicts. Conflicting edits, check-ins, keyed retries of
// one request from several threads and refused requests, all at once: every
// answer must be what a one-at-a-time writer could have given, and the
// served State must equal a replay of the log.
TEST_F(ServerTest, PipelinedWritesAnswerAsIfOneAtATimeAndMatchTheLog) {
  Seed();
  for (int g = 2; g <= 4; ++g) {
    std::string body = kGoal;
    body.replace(body.find("kr-1"), 4, "kr-" + std::to_string(g));
    ASSERT_EQ(Call("POST", "/api/v1/goals", body).status, 201);
  }
  const uint64_t head = Head();
  constexpr int kThreads = 12, kEach = 40, kKeys = 30;
  std::atomic<int> check_ins{0}, edits{0}, conflicts{0}, bad{0};
  std::mutex mu;
  std::map<std::string, std::set<std::string>> bodies_by_key;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t, port = server_->port()] {
      HttpClient c("127.0.0.1", port);
      const HeaderList auth = {
          {"Authorization", std::string("Bearer ") + kAdmin}};
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < kEach; ++i) {
        const std::string goal = "kr-" + std::to_string(1 + rng() % 4);
        const std::string path = "/api/v1/goals/" + goal;
        switch (rng() % 4) {
          case 0: {
            auto r =
                c.Send("POST", path + "/check-ins", R"({"value":2})", auth);
            EXPECT_EQ(r.status, 201) << r.body;
            if (r.status == 201) ++check_ins;
            break;
          }
          case 1: {
            // Read the version, then edit against it: a concurrent write to
            // the goal in between makes it 409.
            auto g = c.Send("GET", path, "", auth);
            HeaderList h = auth;
            h.emplace_back("If-Match", g.Header("ETag"));
            auto r = c.Send("PATCH", path,
                            R"({"title":"Edited by )" + std::to_string(t) +
                                R"( number )" + std::to_string(i) + R"("})",
                            h);
            EXPECT_TRUE(r.status == 200 || r.status == 409) << r.body;
            if (r.status == 200) ++edits;
            if (r.status == 409) ++conflicts;
            break;
          }
          case 2: {
            // Every thread that draws key k sends the same request.
            const int k = static_cast<int>(rng() % kKeys);
            HeaderList h = auth;
            h.emplace_back("Idempotency-Key", "key-" + std::to_string(k));
            auto r = c.Send(
                "POST",
                "/api/v1/goals/kr-" + std::to_string(1 + k % 4) + "/check-ins",
                R"({"value":)" + std::to_string(k) + "}", h);
            EXPECT_EQ(r.status, 201) << r.body;
            std::lock_guard lock(mu);
            bodies_by_key[std::to_string(k)].insert(r.body);
            break;
          }
          default: {
            auto r = c.Send("POST", "/api/v1/goals/nope/check-ins",
                            R"({"value":1})", auth);
            EXPECT_EQ(r.status, 404);
            ++bad;
            break;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& [key, bodies] : bodies_by_key) {
    EXPECT_EQ(bodies.size(), 1u) << "key-" << key << " answered differently";
  }
  EXPECT_GT(bad.load(), 0);
  EXPECT_EQ(Head(), head + static_cast<uint64_t>(check_ins + edits) +
                        bodies_by_key.size());
  auto live = server_->sequencer().Snapshot();
  ASSERT_EQ(live->position, Head());
  auto replayed = ReplayState(server_->store(), Head());
  ASSERT_TRUE(replayed.ok()) << replayed.error().message;
  EXPECT_TRUE(*live == **replayed) << "the served State differs from the log";
  // State equality leaves out derived data such as each goal's trend (the
  // least-squares fold the forecast comes from); the goals as served show it.
  for (const auto& [id, goal] : live->goals) {
    JsonWriter from_live;
    JsonWriter from_log;
    projections::WriteGoal(from_live, *live, goal, live->at);
    projections::WriteGoal(from_log, **replayed, (*replayed)->goals.at(id),
                           live->at);
    EXPECT_EQ(from_live.str(), from_log.str()) << id;
  }
}

TEST_F(ServerTest, MetricsExposition) {
  Seed();
  auto m = Call("GET", "/metrics", "", "");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("cairn_http_requests_total{route=\"/api/v1/"
                        "goals\",status=\"201\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("cairn_append_duration_seconds_count"),
            std::string::npos);
  // Every seeded write was queued, waited for its batch and was answered.
  for (const char* phase : {"queued", "waiting", "answering"}) {
    const std::string key = std::string("\ncairn_write_phase_seconds_count{") +
                            "phase=\"" + phase + "\"} ";
    const size_t p = m.body.find(key);
    ASSERT_NE(p, std::string::npos) << phase << "\n" << m.body;
    EXPECT_GT(std::stoull(m.body.substr(p + key.size())), 0u) << phase;
  }
  EXPECT_NE(m.body.find("cairn_write_phase_seconds_bucket{phase=\"queued\","
                        "le=\"+Inf\"}"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("cairn_http_connections"), std::string::npos);
  EXPECT_TRUE(
      m.body.find("\ncairn_live_batched_sends 1\n") != std::string::npos ||
      m.body.find("\ncairn_live_batched_sends 0\n") != std::string::npos)
      << m.body;
  EXPECT_EQ(m.body.find(kAdmin), std::string::npos);
  // The read pool runs (one thread per core by default), nothing queued.
  EXPECT_NE(m.body.find("\ncairn_heavy_reads_queued 0\n"), std::string::npos)
      << m.body;
  // No live snapshot was asked for.
  EXPECT_NE(m.body.find("\ncairn_live_snapshot_boards_total{made=\"rendered\"}"
                        " 0\ncairn_live_snapshot_boards_total{made=\"shared\"}"
                        " 0\n"),
            std::string::npos)
      << m.body;
  // The seeded events sit in the store's write buffers: a positive gauge.
  const size_t at = m.body.find("\ncairn_store_memtable_bytes ");
  ASSERT_NE(at, std::string::npos) << m.body;
  EXPECT_GT(std::stoull(m.body.substr(at + 28)), 0u) << m.body.substr(at);
}

// A request sent in pieces, pausing between them, over a plain socket; the
// replies' text (read until `replies` status lines and bodies arrived).
std::string SendInPieces(uint16_t port, const std::vector<std::string>& pieces,
                         int replies) {
  const int fd = ConnectLoopback(port, 5);
  std::string got;
  if (fd >= 0) {
    for (const std::string& piece : pieces) {
      EXPECT_EQ(::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(piece.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Replies seen whole so far, and where the next one starts.
    int whole = 0;
    size_t at = 0;
    auto complete = [&] {
      while (whole < replies) {
        const size_t head_end = got.find("\r\n\r\n", at);
        if (head_end == std::string::npos) return false;
        const size_t len = got.find("Content-Length: ", at);
        if (len == std::string::npos || len > head_end) return false;
        const size_t end = head_end + 4 + std::stoul(got.substr(len + 16, 20));
        if (got.size() < end) return false;
        at = end;
        ++whole;
      }
      return true;
    };
    char buf[65536];
    while (!complete()) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  if (fd >= 0) ::close(fd);
  return got;
}

// The body is parsed from what arrived with the head when it is all there,
// and read on when it is not: every way of sending it gets the same reply.
TEST_F(ServerTest, RequestBodiesAreReadHoweverTheyArrive) {
  Seed();
  const uint64_t head = Head();
  const std::string target = "/api/v1/goals/kr-1/check-ins";
  const std::string body = R"({"value":3})";
  const std::string start = "POST " + target +
                            " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            kAdmin + "\r\nContent-Type: application/json\r\n";
  const std::string sized =
      start + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  const uint16_t port = server_->port();
  auto count = [](const std::string& text) {
    size_t n = 0;
    for (size_t at = text.find("HTTP/1.1 201"); at != std::string::npos;
         at = text.find("HTTP/1.1 201", at + 1)) {
      ++n;
    }
    return n;
  };
  // Head and body together, then a second request in the same packet.
  EXPECT_EQ(count(SendInPieces(port, {sized + body + sized + body}, 2)), 2u);
  // The head alone first; the body after a pause, then split in two.
  EXPECT_EQ(count(SendInPieces(port, {sized, body}, 1)), 1u);
  EXPECT_EQ(
      count(SendInPieces(port, {sized + body.substr(0, 4), body.substr(4)}, 1)),
      1u);
  // Chunked, the last chunk arriving later.
  const std::string chunked = start + "Transfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(count(SendInPieces(port,
                               {chunked + "4\r\n" + body.substr(0, 4) + "\r\n",
                                "7\r\n" + body.substr(4) + "\r\n0\r\n\r\n"},
                               1)),
            1u);
  EXPECT_EQ(Head(), head + 5);
}

// A reply larger than the socket takes at once is written in part at once
// and the rest as the client reads: it arrives whole and in order, and the
// connection serves the next request.
TEST_F(ServerTest, AReplyLargerThanTheSocketBufferArrivesWhole) {
  std::string big(24 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + (i * 7919) % 26);
  }
  std::ofstream(dir_.path() / "static" / "big.txt", std::ios::binary) << big;
  const std::string get = "GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string got = SendInPieces(
      server_->port(), {get + "GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n"}, 2);
  ASSERT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got.substr(0, 200);
  const size_t body = got.find("\r\n\r\n") + 4;
  ASSERT_GE(got.size(), body + big.size());
  EXPECT_TRUE(got.compare(body, big.size(), big) == 0);
  const std::string rest = got.substr(body + big.size());
  EXPECT_EQ(rest.rfind("HTTP/1.1 200", 0), 0u) << rest.substr(0, 200);
  EXPECT_TRUE(rest.ends_with("\r\n\r\nexport {};")) << rest;
}

// Operators tell the threads apart in `top -H`, `ps -L` and perf by name.
TEST_F(ServerTest, ThreadsAreNamedForOperators) {
  std::multiset<std::string> names;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  for (const char* want :
       {"cairn-writer", "cairn-commit", "cairn-publish", "cairn-http-0"}) {
    EXPECT_EQ(names.count(want), 1u) << want;
  }
  EXPECT_EQ(names.count("cairn-live-0"), 1u);
}

// A new connection goes to the I/O thread serving the fewest.
TEST_F(ServerTest, ConnectionsAreSpreadOverTheIoThreads) {
  ASSERT_EQ(io_threads_, 2u);
  // Each thread's count in /metrics (-1 when missing).
  auto counts = [&] {
    const std::string body = Call("GET", "/metrics", "", "").body;
    std::vector<int> out;
    for (const char* thread : {"0", "1"}) {
      const std::string key = std::string("\ncairn_http_thread_connections{") +
                              "thread=\"" + thread + "\"} ";
      const size_t at = body.find(key);
      out.push_back(at == std::string::npos
                        ? -1
                        : std::stoi(body.substr(at + key.size())));
    }
    return out;
  };
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(
        std::make_unique<HttpClient>("127.0.0.1", server_->port()));
    ASSERT_EQ(clients.back()->Send("GET", "/healthz", "", {}).status, 200);
  }
  // With the fixture's own client: 6 connections.
  EXPECT_EQ(counts(), (std::vector<int>{3, 3}));
  // Closed connections leave their thread's count.
  clients.resize(1);
  std::vector<int> now;
  for (int i = 0; i < 200; ++i) {
    now = counts();
    if (now[0] + now[1] == 2) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(now[0] + now[1], 2);
}

// An HTTP reply goes out before the hub publishes its batch: a subscribe
// sent right after a unit's 201 must still find the unit. Checked against
// the State at H alone, 1 subscribe in a few hundred got "no such unit"
// here (3 of 5 runs failed).
TEST_F(ServerTest, SubscribeRightAfterCreatingAUnitFindsIt) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  LiveClient ws(server_->port(), kAdmin);
  ASSERT_TRUE(ws.ok()) << ws.error();
  for (int i = 0; i < 300; ++i) {
    const std::string id = "u" + std::to_string(i);
    ASSERT_EQ(
        Call("POST", "/api/v1/units",
             R"({"id":")" + id + R"(","name":"U","kind":"team","parent":"co"})")
            .status,
        201);
    ASSERT_TRUE(ws.Send(SubscribeMessage(id, id, 0, "", -1)));
    for (;;) {
      LiveMsg m = ws.Read(5s);
      ASSERT_NE(m.op, "error") << "subscribe " << i << ": " << m.raw;
      ASSERT_NE(m.op, "timeout") << "subscribe " << i;
      ASSERT_NE(m.op, "close") << "subscribe " << i;
      if (m.op == "synced" && m.sub == id) break;
    }
    ASSERT_TRUE(ws.Send(R"({"op":"unsubscribe","sub":")" + id + R"("})"));
  }
}

// A head under the 16 KiB limit is served, however large (one of 8-16 KiB
// was refused as a buffer overflow, 400).
TEST_F(ServerTest, HeadsUpToTheLimitAreServed) {
  for (size_t pad : {size_t{1000}, size_t{9000}, size_t{15000}}) {
    auto r = Call("GET", "/api/v1/units", "", kAdmin,
                  {{"X-Pad", std::string(pad, 'a')}});
    EXPECT_EQ(r.status, 200) << pad << ": " << r.body;
  }
}

// Past the connection limit a new connection is answered 503 and closed;
// the ones being served go on, and once one closes a new one is served.
TEST_F(ServerTest, ConnectionsPastTheLimitGet503) {
  StopServer();
  max_connections_ = 3;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::vector<std::unique_ptr<HttpClient>> served;
  for (int i = 0; i < 3; ++i) {
    served.push_back(
        std::make_unique<HttpClient>("127.0.0.1", server_->port()));
    ASSERT_EQ(served.back()->Send("GET", "/healthz").status, 200) << i;
  }
  HttpClient extra("127.0.0.1", server_->port());
  auto r = extra.Send("GET", "/healthz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Member(r.body, "/error/code"), "unavailable") << r.body;
  for (auto& c : served) EXPECT_EQ(c->Send("GET", "/healthz").status, 200);
  served.front()->Close();
  unsigned status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {  // the server sees the FIN
    std::this_thread::sleep_for(20ms);
    HttpClient next("127.0.0.1", server_->port());
    status = next.Send("GET", "/healthz").status;
  }
  EXPECT_EQ(status, 200u);
}

// Reads until the server closes `fd` (0 or a reset) or the receive timeout
// passes; true when the server closed it.
bool ReadUntilClosed(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != ECONNRESET) {
      ADD_FAILURE() << "recv: " << std::strerror(errno);
    }
    return n == 0 || errno == ECONNRESET;
  }
}

// Slowloris: a client sending its request a byte at a time is closed once
// the read timeout passes from the connection's start, however steadily it
// sends; a keep-alive connection idle that long after a reply is closed too.
TEST_F(ServerTest, SlowAndIdleConnectionsAreClosedAfterTheReadTimeout) {
  StopServer();
  read_timeout_ = 600ms;
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(400, 'a') +
      "\r\n\r\n";
  const int slow = ConnectLoopback(server_->port(), 5);
  ASSERT_GE(slow, 0);
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> closed{false};
  std::thread dribble([&] {
    for (char c : request) {  // 400+ bytes, 10 ms apart: ~4 s in all
      if (closed || ::send(slow, &c, 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(10ms);
    }
  });
  EXPECT_TRUE(ReadUntilClosed(slow));
  const auto after = std::chrono::steady_clock::now() - start;
  closed = true;
  dribble.join();
  ::close(slow);
  EXPECT_GE(after, 500ms);
  EXPECT_LT(after, 3s) << "the slow client was served for "
                       << std::chrono::duration<double>(after).count() << " s";

  const int idle = ConnectLoopback(server_->port(), 5);
  ASSERT_GE(idle, 0);
  const std::string whole = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(idle, whole.data(), whole.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(whole.size()));
  char buf[4096];
  const ssize_t n = ::recv(idle, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 200", 0),
            0u);
  const auto replied = std::chrono::steady_clock::now();
  EXPECT_TRUE(ReadUntilClosed(idle));
  const auto idled = std::chrono::steady_clock::now() - replied;
  ::close(idle);
  EXPECT_GE(idled, 500ms);
  EXPECT_LT(idled, 3s);
}

// Boards kept for sharing between snapshots are let go once the head
// moves past them: an idle server holds none.
TEST_F(ServerTest, SharedSnapshotBoardsGoWhenTheHeadMovesOn) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  auto kept = [&] {
    const std::string text = Call("GET", "/metrics").body;
    const std::string name = "\ncairn_live_board_cache_bytes ";
    const size_t at = text.find(name);
    return at == std::string::npos
               ? -1.0
               : std::stod(text.substr(at + name.size(), 20));
  };
  LiveClient ws(server_->port(), kAdmin);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ASSERT_TRUE(ws.Send(
      R"({"op":"subscribe","sub":"s","unit":"sales","snapshot":true})"));
  for (;;) {
    LiveMsg m = ws.Read(5s);
    ASSERT_NE(m.op, "timeout");
    ASSERT_NE(m.op, "close");
    if (m.op == "synced") break;
  }
  EXPECT_GT(kept(), 0);
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":4})").status,
      201);
  EXPECT_EQ(ws.Read(5s).op, "event");  // published
  // The drop follows the hand-over to the sessions on the publishing thread.
  double bytes = kept();
  for (int i = 0; i < 100 && bytes != 0; ++i) {
    std::this_thread::sleep_for(10ms);
    bytes = kept();
  }
  EXPECT_EQ(bytes, 0);
}

// A revoked token loses its live connections too, not only its next HTTP
// request: a session subscribed when the revocation is published closes
// with 4001, and one that subscribes after it is closed instead of served.
// Other tokens' sessions stay.
TEST_F(ServerTest, RevokingATokenClosesItsLiveSessions) {
  ASSERT_NO_FATAL_FAILURE(Seed());
  auto made = Call("POST", "/api/v1/tokens",
                   R"({"name":"wall","role":"viewer","unit":"sales"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string wall = Member(made.body, "/token");
  auto synced = [](LiveClient& c, const std::string& sub) {
    for (;;) {
      LiveMsg m = c.Read(5s);
      if (m.op == "synced" && m.sub == sub) return true;
      if (m.op == "timeout" || m.op == "close" || m.op == "error") return false;
    }
  };
  LiveClient subscribed(server_->port(), wall);
  ASSERT_TRUE(subscribed.ok()) << subscribed.error();
  ASSERT_TRUE(subscribed.Send(SubscribeMessage("s", "sales", 0, "", -1)));
  ASSERT_TRUE(synced(subscribed, "s"));
  LiveClient idle(server_->port(), wall);  // connected, nothing subscribed
  ASSERT_TRUE(idle.ok()) << idle.error();
  LiveClient other(server_->port(), kAdmin);
  ASSERT_TRUE(other.ok()) << other.error();
  ASSERT_TRUE(other.Send(SubscribeMessage("o", "sales", 0, "", -1)));
  ASSERT_TRUE(synced(other, "o"));

  ASSERT_EQ(Call("DELETE", "/api/v1/tokens/wall").status, 200);
  LiveMsg m = subscribed.Read(5s);
  EXPECT_EQ(m.op, "close") << m.raw;
  EXPECT_EQ(m.close_code, 4001);
  ASSERT_TRUE(idle.Send(SubscribeMessage("late", "sales", 0, "", -1)));
  m = idle.Read(5s);
  EXPECT_EQ(m.op, "close") << m.raw;
  EXPECT_EQ(m.close_code, 4001);
  // The admin's session still gets the check-ins.
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":3})").status,
      201);
  m = other.Read(5s);
  EXPECT_EQ(m.op, "event") << m.raw;
  EXPECT_EQ(LiveClient(server_->port(), wall).ok(), false);
}

// A goal of another unit under one of a board's goals changes that goal's
// roll-up, so the board's subscribers get its events; one whose token may
// not read that goal over REST (404) must not read it here either: the
// event comes withheld (no data, no actor), live and on a resume alike. A
// subscription of the goal's own unit gets it whole.
TEST_F(ServerTest, LiveEventsOfGoalsOutsideTheBoardAreWithheld) {
  Seed();
  auto t = Call("POST", "/api/v1/tokens",
                R"({"name":"sam","role":"viewer","unit":"sales"})");
  ASSERT_EQ(t.status, 201) << t.body;
  const std::string sam = Member(t.body, "/token");
  ASSERT_EQ(
      Call(
          "POST", "/api/v1/goals",
          R"({"id":"eng-kr","kind":"key_result","title":"Eng part","unit":"eng","cycle":"q1","parent":"kr-1","measure":{"start":0,"target":5}})")
          .status,
      201);
  ASSERT_EQ(Call("GET", "/api/v1/goals/eng-kr", "", sam).status, 404);
  const uint64_t before = Head();
  // The next event on `sub` (after its "synced").
  const auto next_event = [](LiveClient& ws, const std::string& sub) {
    for (;;) {
      LiveMsg m = ws.Read(5s);
      if (m.op == "timeout" || m.op == "close" || m.op == "error") return m;
      if (m.op == "event" && m.sub == sub) return m;
    }
  };
  LiveClient scoped(server_->port(), sam);
  ASSERT_TRUE(scoped.ok()) << scoped.error();
  ASSERT_TRUE(scoped.Send(SubscribeMessage("s", "sales", 0, "", -1)));
  LiveClient own(server_->port(), kAdmin);
  ASSERT_TRUE(own.ok()) << own.error();
  ASSERT_TRUE(own.Send(SubscribeMessage("e", "eng", 0, "", -1)));
  for (LiveClient* ws : {&scoped, &own}) {
    for (;;) {
      LiveMsg m = ws->Read(5s);
      ASSERT_NE(m.op, "timeout");
      if (m.op == "synced") break;
    }
  }
  ASSERT_EQ(Call("POST", "/api/v1/goals/eng-kr/check-ins",
                 R"({"value":2,"note":"secret-note"})")
                .status,
            201);
  const auto expect_withheld = [](const LiveMsg& m) {
    ASSERT_EQ(m.op, "event") << m.raw;
    EXPECT_EQ(Member(m.raw, "/event/withheld"), "true") << m.raw;
    EXPECT_EQ(Member(m.raw, "/event/type"), "goal.checked_in") << m.raw;
    EXPECT_EQ(m.raw.find("secret-note"), std::string::npos) << m.raw;
    EXPECT_EQ(m.raw.find("\"actor\""), std::string::npos) << m.raw;
    // The board's own goal, with its roll-up; not the other unit's goal.
    EXPECT_EQ(Member(m.raw, "/goals/0/id"), "kr-1") << m.raw;
    EXPECT_EQ(Member(m.raw, "/goals/1/id"), "") << m.raw;
  };
  expect_withheld(next_event(scoped, "s"));
  LiveMsg whole = next_event(own, "e");
  ASSERT_EQ(whole.op, "event") << whole.raw;
  EXPECT_NE(whole.raw.find("secret-note"), std::string::npos) << whole.raw;
  EXPECT_EQ(Member(whole.raw, "/event/actor"), "admin") << whole.raw;
  EXPECT_EQ(Member(whole.raw, "/event/withheld"), "") << whole.raw;
  // A resume from before the check-in replays it withheld too.
  ASSERT_TRUE(scoped.Send(
      SubscribeMessage("r", "sales", 0, "", static_cast<int64_t>(before))));
  expect_withheld(next_event(scoped, "r"));
}

}  // namespace
}  // namespace cairn::gateway
