// Disk full through the HTTP server: the real server (in-process) on a
// loopback port over a temp RocksDB store whose file system fails every
// write with "no space" on cue (eventstore::WriteFaults). While the disk is
// full, writes answer 503 `unavailable` and append nothing, reads and
// /healthz keep answering 200; when space returns writes succeed again,
// nothing acknowledged is lost (also after a restart), the store verifies,
// the projections agree with the log, and a WebSocket subscriber connected
// across the fault sees every position exactly once, in order.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/eventstore/event_store.hpp"
#include "cairn/eventstore/write_faults.hpp"
#include "http_client.hpp"
#include "server.hpp"
#include "server_fixture.hpp"
#include "ws_client.hpp"

namespace cairn::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct LogEvent {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  std::string type;
  double value = 0;
};

std::string Goal(int g) {
  return R"({"id":"g)" + std::to_string(g) +
         R"(","kind":"key_result","title":"Grow the number",)"
         R"("unit":"co","cycle":"y","measure":{"start":0,"target":1000000}})";
}

std::string CheckIn(int64_t value) {
  return "{\"value\":" + std::to_string(value) + ",\"confidence\":5}";
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer(faults_)); }

  void StartServer(std::shared_ptr<eventstore::WriteFaults> faults) {
    ServerOptions o;
    o.data_dir = (dir_.path() / "data").string();
    o.port = 0;
    o.admin_token = kAdmin;
    o.io_threads = 2;
    o.rate_limit = 0;
    o.access_log = false;
    o.store_faults = std::move(faults);
    auto s = Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }

  void StopServer() {
    client_.reset();
    server_.reset();
  }

  ClientResponse Call(HttpClient& c, const std::string& method,
                      const std::string& target, const std::string& body = {},
                      HeaderList extra = {}) {
    extra.emplace_back("Authorization", std::string("Bearer ") + kAdmin);
    return c.Send(method, target, body, extra);
  }
  ClientResponse Call(const std::string& method, const std::string& target,
                      const std::string& body = {}, HeaderList extra = {}) {
    return Call(*client_, method, target, body, std::move(extra));
  }

  void Seed(int goals) {
    ASSERT_EQ(Call("POST", "/api/v1/units",
                   R"({"id":"co","name":"Co","kind":"company"})")
                  .status,
              201);
    ASSERT_EQ(
        Call(
            "POST", "/api/v1/cycles",
            R"({"id":"y","name":"Year","kind":"year","start":"2020-01-01","end":"2040-12-31"})")
            .status,
        201);
    for (int g = 0; g < goals; ++g) {
      auto r = Call("POST", "/api/v1/goals", Goal(g));
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  // Every event of the log, oldest first, and the head the server reports.
  std::vector<LogEvent> Log(uint64_t& head) {
    std::vector<LogEvent> out;
    uint64_t from = 0;
    for (int page = 0; page < 1000; ++page) {
      auto r = Call("GET",
                    "/api/v1/events?limit=10000&from=" + std::to_string(from));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      simdjson::dom::array events;
      uint64_t next = 0;
      EXPECT_EQ(doc["events"].get(events), simdjson::SUCCESS);
      EXPECT_EQ(doc["next"].get(next), simdjson::SUCCESS);
      EXPECT_EQ(doc["head"].get(head), simdjson::SUCCESS);
      size_t n = 0;
      for (simdjson::dom::element e : events) {
        LogEvent ev;
        std::string_view s, t;
        EXPECT_EQ(e["position"].get(ev.position), simdjson::SUCCESS);
        EXPECT_EQ(e["version"].get(ev.version), simdjson::SUCCESS);
        EXPECT_EQ(e["stream"].get(s), simdjson::SUCCESS);
        EXPECT_EQ(e["type"].get(t), simdjson::SUCCESS);
        ev.stream = s;
        ev.type = t;
        if (e.at_pointer("/data/value").get(ev.value) != simdjson::SUCCESS) {
          ev.value = 0;  // not a check-in
        }
        out.push_back(std::move(ev));
        ++n;
      }
      if (n == 0 || next <= from) break;
      from = next;
    }
    return out;
  }

  // The log is gapless, stream versions are contiguous, every acknowledged
  // value of each goal is in it, and each goal's projection (current value,
  // version) agrees with its last check-in.
  void ExpectLogHolds(const std::vector<std::vector<int64_t>>& acked,
                      size_t& lost) {
    uint64_t head = 0;
    std::vector<LogEvent> log = Log(head);
    ASSERT_EQ(log.size(), head) << "the log has a gap";
    std::map<std::string, uint64_t> versions;
    for (size_t i = 0; i < log.size(); ++i) {
      ASSERT_EQ(log[i].position, i + 1);
      uint64_t& v = versions[log[i].stream];
      ASSERT_EQ(log[i].version, v + 1) << log[i].stream;
      v = log[i].version;
    }
    for (size_t g = 0; g < acked.size(); ++g) {
      const std::string stream = "goal-g" + std::to_string(g);
      std::vector<int64_t> present;
      for (const LogEvent& e : log) {
        if (e.stream == stream && e.type == "goal.checked_in") {
          present.push_back(static_cast<int64_t>(e.value));
        }
      }
      std::sort(present.begin(), present.end());
      for (int64_t a : acked[g]) {
        if (!std::binary_search(present.begin(), present.end(), a)) ++lost;
      }
      auto r = Call("GET", "/api/v1/goals/g" + std::to_string(g));
      ASSERT_EQ(r.status, 200) << r.body;
      const int64_t last = present.empty() ? 0 : present.back();
      EXPECT_EQ(Member(r.body, "/current"), std::to_string(last))
          << "goal g" << g;
      EXPECT_EQ(Member(r.body, "/version"), std::to_string(versions[stream]))
          << "goal g" << g;
    }
    EXPECT_EQ(lost, 0u) << "acknowledged check-ins lost";
  }

  // With the server stopped: the store opens at `head` and verifies.
  void ExpectStoreVerifies(uint64_t head) {
    eventstore::Options options;
    options.path = (dir_.path() / "data").string();
    auto store = eventstore::EventStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ((*store)->Head(), head);
    auto report = (*store)->Verify();
    EXPECT_TRUE(report.ok) << (report.problems.empty() ? ""
                                                       : report.problems[0]);
    EXPECT_EQ(report.events, head);
  }

  TempDir dir_;
  std::shared_ptr<eventstore::WriteFaults> faults_ =
      std::make_shared<eventstore::WriteFaults>();
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

// Reads a subscription's events until `until` is reached; appends each
// event's position to `seen`. False on a snapshot, an error, a close or a
// timeout.
bool ReadUntil(LiveClient& ws, uint64_t until, std::vector<uint64_t>& seen,
               std::string& why) {
  while (seen.empty() || seen.back() < until) {
    LiveMsg m = ws.Read(10s);
    if (m.op == "event") {
      seen.push_back(m.position);
    } else if (m.op != "synced" && m.op != "pong") {
      why = m.op + " " + m.raw;
      return false;
    }
  }
  return true;
}

void ExpectOneToHead(const std::vector<uint64_t>& seen, uint64_t head) {
  ASSERT_EQ(seen.size(), head) << "the subscriber missed or repeated events";
  for (size_t i = 0; i < seen.size(); ++i) {
    ASSERT_EQ(seen[i], i + 1) << "subscriber sequence broken at " << i;
  }
}

TEST_F(DiskFullTest, WritesAnswer503ReadsWorkNothingLostWritesResume) {
  ASSERT_NO_FATAL_FAILURE(Seed(1));
  // A subscriber over the whole organisation, from the start, connected
  // across the fault.
  LiveClient ws(server_->port(), kAdmin);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ASSERT_TRUE(ws.Send(SubscribeMessage("all", "co", -1, "", 0)));
  std::vector<uint64_t> seen;
  std::string why;

  std::vector<std::vector<int64_t>> acked(1);
  int64_t value = 1;
  for (int i = 0; i < 20; ++i, ++value) {
    auto r = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value));
    ASSERT_EQ(r.status, 201) << r.body;
    acked[0].push_back(value);
  }
  const uint64_t head = server_->Head();
  ASSERT_EQ(head, 23u);  // unit, cycle, goal, 20 check-ins
  ASSERT_TRUE(ReadUntil(ws, head, seen, why)) << why;

  // The disk fills.
  faults_->SetNoSpace(true);
  std::string retry_after;
  for (int i = 0; i < 5; ++i, ++value) {
    auto r = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value));
    ASSERT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(Member(r.body, "/error/code"), "unavailable") << r.body;
    EXPECT_FALSE(Member(r.body, "/error/message").empty()) << r.body;
    EXPECT_NE(r.Header("Content-Type").find("application/json"),
              std::string::npos);
    retry_after = r.Header("Retry-After");
  }
  // Every kind of write: a new goal, an idempotent check-in.
  auto created = Call("POST", "/api/v1/goals", Goal(7));
  EXPECT_EQ(created.status, 503) << created.body;
  EXPECT_EQ(Member(created.body, "/error/code"), "unavailable");
  auto keyed = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value),
                    {{"Idempotency-Key", "disk-full-1"}});
  EXPECT_EQ(keyed.status, 503) << keyed.body;
  EXPECT_EQ(server_->Head(), head) << "a refused write moved the head";

  // Reads keep working and show the state before the fault.
  auto health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(Member(health.body, "/status"), "ok");
  EXPECT_EQ(Member(health.body, "/position"), std::to_string(head));
  auto goal = Call("GET", "/api/v1/goals/g0");
  ASSERT_EQ(goal.status, 200) << goal.body;
  EXPECT_EQ(Member(goal.body, "/current"), "20");
  EXPECT_EQ(Member(goal.body, "/version"), "21");
  auto board = Call("GET", "/api/v1/boards/co?cycle=y");
  EXPECT_EQ(board.status, 200) << board.body;
  EXPECT_EQ(Member(board.body, "/goals/0/id"), "g0");
  EXPECT_EQ(Call("GET", "/api/v1/goals/g0/history").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/goals/g0?as_of=10").status, 200);
  uint64_t log_head = 0;
  EXPECT_EQ(Log(log_head).size(), head);
  EXPECT_EQ(log_head, head);
  // A new subscriber replays from the store while the disk is full.
  {
    LiveClient late(server_->port(), kAdmin);
    ASSERT_TRUE(late.ok()) << late.error();
    ASSERT_TRUE(late.Send(SubscribeMessage("late", "co", -1, "", 0)));
    std::vector<uint64_t> late_seen;
    ASSERT_TRUE(ReadUntil(late, head, late_seen, why)) << why;
    ExpectOneToHead(late_seen, head);
  }

  // Space returns: the next write succeeds at once.
  faults_->SetNoSpace(false);
  auto resumed = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value));
  ASSERT_EQ(resumed.status, 201) << resumed.body;
  acked[0].push_back(value++);
  EXPECT_EQ(server_->Head(), head + 1);
  // The idempotent write refused during the fault may be retried.
  auto retried = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value),
                      {{"Idempotency-Key", "disk-full-1"}});
  ASSERT_EQ(retried.status, 201) << retried.body;
  acked[0].push_back(value++);
  for (int i = 0; i < 10; ++i, ++value) {
    auto r = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(value));
    ASSERT_EQ(r.status, 201) << r.body;
    acked[0].push_back(value);
  }
  const uint64_t final_head = server_->Head();
  EXPECT_EQ(final_head, head + 12);
  // The subscriber connected across the fault saw 1..head exactly once.
  ASSERT_TRUE(ReadUntil(ws, final_head, seen, why)) << why;
  ExpectOneToHead(seen, final_head);
  size_t lost = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));

  // A restart on the same store: everything acknowledged is there and the
  // store verifies.
  ws.Close();
  StopServer();
  ASSERT_NO_FATAL_FAILURE(ExpectStoreVerifies(final_head));
  ASSERT_NO_FATAL_FAILURE(StartServer(nullptr));
  EXPECT_EQ(server_->Head(), final_head);
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));
  std::printf(
      "[disk-full] %zu acknowledged check-ins, %zu lost, 7 writes refused "
      "with 503 (Retry-After: \"%s\"), reads 200 during the fault, "
      "subscriber saw %zu events gapless\n",
      acked[0].size(), lost, retry_after.c_str(), seen.size());
}

// A sync that fails after the batch reached the WAL (ENOSPC at fsync, as
// ext4 with delayed allocation may answer): the write is answered 503, and
// the store's recovery may or may not find the batch on disk. The log is the
// truth: the served model, the next writes and the live subscriber must
// equal it, and a restart must read the same log.
TEST_F(DiskFullTest, FailedSyncLeavesServedModelEqualToTheLog) {
  ASSERT_NO_FATAL_FAILURE(Seed(1));
  LiveClient ws(server_->port(), kAdmin);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ASSERT_TRUE(ws.Send(SubscribeMessage("all", "co", -1, "", 0)));
  std::vector<uint64_t> seen;
  std::string why;
  std::vector<std::vector<int64_t>> acked(1);
  for (int64_t v = 1; v <= 3; ++v) {
    auto r = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(v));
    ASSERT_EQ(r.status, 201) << r.body;
    acked[0].push_back(v);
  }
  faults_->SetSyncFails(true);
  auto failed = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(4));
  ASSERT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(Member(failed.body, "/error/code"), "unavailable");
  faults_->SetSyncFails(false);
  for (int64_t v = 5; v <= 7; ++v) {
    auto r = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(v));
    ASSERT_EQ(r.status, 201) << r.body;
    acked[0].push_back(v);
  }
  uint64_t head = 0;
  std::vector<LogEvent> log = Log(head);
  const bool landed = std::any_of(log.begin(), log.end(), [](const auto& e) {
    return e.type == "goal.checked_in" && e.value == 4;
  });
  // Whether the unacknowledged check-in is in the log depends on what the
  // store's recovery found (it was never promised either way); what the
  // server serves must equal the log in both cases.
  EXPECT_EQ(head, 3u + 6u + (landed ? 1u : 0u));
  auto health = Call("GET", "/healthz");
  EXPECT_EQ(Member(health.body, "/position"), std::to_string(head))
      << "the served model lags the log";
  size_t lost = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));
  ASSERT_TRUE(ReadUntil(ws, head, seen, why)) << why;
  ExpectOneToHead(seen, head);

  // A restart reads the same log: the failed batch neither appears nor
  // vanishes later, and the store verifies.
  ws.Close();
  StopServer();
  ASSERT_NO_FATAL_FAILURE(ExpectStoreVerifies(head));
  ASSERT_NO_FATAL_FAILURE(StartServer(nullptr));
  uint64_t head_after = 0;
  std::vector<LogEvent> log_after = Log(head_after);
  EXPECT_EQ(head_after, head);
  EXPECT_EQ(log_after.size(), log.size());
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));
  std::printf("[sync-failed] the refused batch %s in the log\n",
              landed ? "landed" : "did not land");
}

// The disk fills and frees itself at random moments while four writers post
// check-ins: every answer is 201 or 503, nothing acknowledged is lost, the
// projections equal the log, and a live subscriber sees every position
// exactly once.
TEST_F(DiskFullTest, FaultsUnderConcurrentWritesLoseNothing) {
  constexpr int kWriters = 4;
  constexpr int kToggles = 8;
  ASSERT_NO_FATAL_FAILURE(Seed(kWriters));
  std::random_device rd;
  const unsigned seed = rd();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  // The subscriber reads on its own thread until it has seen `target`.
  std::atomic<uint64_t> target{UINT64_MAX};
  std::vector<uint64_t> seen;
  std::string why;
  bool sub_ok = false;
  LiveClient ws(server_->port(), kAdmin);
  ASSERT_TRUE(ws.ok()) << ws.error();
  ASSERT_TRUE(ws.Send(SubscribeMessage("all", "co", -1, "", 0)));
  std::thread reader([&] {
    sub_ok = true;
    while (seen.empty() || seen.back() < target.load()) {
      LiveMsg m = ws.Read(20s);
      if (m.op == "event") {
        seen.push_back(m.position);
      } else if (m.op != "synced") {
        why = m.op + " " + m.raw;
        sub_ok = false;
        return;
      }
    }
  });

  std::atomic<bool> stop{false};
  std::vector<std::vector<int64_t>> acked(kWriters);
  std::vector<size_t> refused(kWriters, 0);
  std::vector<std::string> unexpected(kWriters);
  std::vector<std::thread> writers;
  const uint16_t port = server_->port();
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c("127.0.0.1", port);
      const std::string target_path =
          "/api/v1/goals/g" + std::to_string(w) + "/check-ins";
      for (int64_t v = 1; v < 1000000 && !stop.load(); ++v) {
        auto r = Call(c, "POST", target_path, CheckIn(v));
        if (r.status == 201) {
          acked[w].push_back(v);
        } else if (r.status == 503 &&
                   Member(r.body, "/error/code") == "unavailable") {
          ++refused[w];
        } else {
          unexpected[w] = std::to_string(r.status) + " " + r.body;
          return;
        }
      }
    });
  }
  std::uniform_int_distribution<int> ms(20, 150);
  for (int i = 0; i < kToggles; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    faults_->SetNoSpace(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    faults_->SetNoSpace(false);
  }
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& t : writers) t.join();

  // One last write tells the subscriber where the log ends.
  target = server_->Head() + 1;
  auto last = Call("POST", "/api/v1/goals/g0/check-ins", CheckIn(2000000));
  EXPECT_EQ(last.status, 201) << last.body;  // else the reader times out
  if (last.status == 201) acked[0].push_back(2000000);
  reader.join();

  size_t total_acked = 0, total_refused = 0;
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(unexpected[w], "") << "writer " << w;
    total_acked += acked[w].size();
    total_refused += refused[w];
  }
  EXPECT_GT(total_refused, 0u) << "the fault never refused a write";
  EXPECT_GT(total_acked, 0u);
  const uint64_t head = server_->Head();
  EXPECT_TRUE(sub_ok) << why;
  ExpectOneToHead(seen, head);
  size_t lost = 0;
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));

  ws.Close();
  StopServer();
  ASSERT_NO_FATAL_FAILURE(ExpectStoreVerifies(head));
  ASSERT_NO_FATAL_FAILURE(StartServer(nullptr));
  ASSERT_NO_FATAL_FAILURE(ExpectLogHolds(acked, lost));
  std::printf(
      "[disk-full] seed %u: %d fault windows, %zu check-ins acknowledged, "
      "%zu refused with 503, %zu lost, subscriber saw %zu events gapless\n",
      seed, kToggles, total_acked, total_refused, lost, seen.size());
}

}  // namespace
}  // namespace cairn::gateway
