// Kill test at the server level: the real `cairn` binary in a child process
// under a load of check-ins over keep-alive HTTP, with WebSocket subscribers
// following the log, SIGKILLed at random moments ten times. After each kill:
// `cairn verify` passes on the store, the restarted server has every
// acknowledged check-in, positions are gapless, stream versions are gapless,
// and each goal's projected current value and version agree with its log.
// After each restart the subscribers resume with `from` = the last position
// they saw; each must have seen exactly the log's events that touch its
// subscription: no gap, no duplicate, in increasing order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "server_fixture.hpp"
#include "ws_client.hpp"

extern char** environ;

namespace cairn::gateway {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kAdmin[] = "kill-test-admin";
constexpr int kKills = 10;
constexpr int kWriters = 4;

// A live subscription and the streams whose events it must receive
// (units co > u0 {g0, g1}, u1 {g2, g3}; cycle y).
struct SubSpec {
  std::string sub;
  std::string unit;
  int depth;
  std::string cycle;
  std::vector<std::string> streams;  // empty: every stream
};

const std::vector<SubSpec>& Subs() {
  static const std::vector<SubSpec> subs = {
      {"all", "co", -1, "", {}},
      {"u0", "u0", 0, "y", {"cycle-y", "unit-u0", "goal-g0", "goal-g1"}},
      {"u1", "u1", 0, "y", {"cycle-y", "unit-u1", "goal-g2", "goal-g3"}},
  };
  return subs;
}

// What one subscriber saw over every connection.
struct SubSeen {
  std::vector<uint64_t> positions;
  std::string epoch;
  int connections = 0;
  int slow_closes = 0;
  std::string problem;  // first unexpected message
};

// Connects, subscribes with `from` = the last position seen (and the epoch
// it came from) and reads until the connection ends. A `slow consumer`
// close reconnects at once; the server's death ends the round. With
// `until_synced`, returns once the backlog is sent.
void Follow(uint16_t port, const SubSpec& spec, SubSeen& seen,
            bool until_synced) {
  for (int attempt = 0; attempt < 100 && seen.problem.empty(); ++attempt) {
    LiveClient ws(port, kAdmin);
    if (!ws.ok()) return;  // the server is gone
    const int64_t from = seen.positions.empty()
                             ? 0
                             : static_cast<int64_t>(seen.positions.back());
    if (!ws.Send(SubscribeMessage(spec.sub, spec.unit, spec.depth, spec.cycle,
                                  from, seen.epoch))) {
      return;
    }
    ++seen.connections;
    for (;;) {
      LiveMsg m = ws.Read(std::chrono::seconds(10));
      if (m.op == "event") {
        if (!seen.positions.empty() && m.position <= seen.positions.back()) {
          seen.problem = "position " + std::to_string(m.position) + " after " +
                         std::to_string(seen.positions.back());
          return;
        }
        seen.positions.push_back(m.position);
      } else if (m.op == "synced") {
        if (seen.epoch.empty()) seen.epoch = m.epoch;
        if (m.epoch != seen.epoch) {
          seen.problem = "epoch changed: " + m.raw;
          return;
        }
        if (until_synced) {
          ws.Close();
          return;
        }
      } else if (m.op == "close" && m.close_code == 4008) {
        ++seen.slow_closes;
        break;  // reconnect with from = the last position seen
      } else if (m.op == "close") {
        return;  // killed
      } else {
        seen.problem = m.op + " " + m.raw;
        return;
      }
    }
  }
}

HeaderList Auth() {
  return {{"Authorization", std::string("Bearer ") + kAdmin}};
}

struct Event {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  std::string type;
  double value = 0;
  bool has_value = false;
};

class KillTest : public ::testing::Test {
 protected:
  void TearDown() override { KillServer(); }

  // Starts the server on a fresh port and waits until /healthz answers.
  void StartServer() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreePort();
      ASSERT_NE(port_, 0);
      pid_ =
          Spawn({"serve", "--data", (dir_.path() / "data").string(), "--listen",
                 "127.0.0.1:" + std::to_string(port_), "--admin-token", kAdmin,
                 "--quiet", "--rate-limit", "1000000", "--threads", "2"},
                (dir_.path() / "server.log").string());
      ASSERT_GT(pid_, 0);
      auto deadline = Clock::now() + std::chrono::seconds(20);
      while (Clock::now() < deadline) {
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;  // exited (port taken?): try another port
          break;
        }
        HttpClient c("127.0.0.1", port_);
        if (c.Send("GET", "/healthz").status == 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      KillServer();
    }
    FAIL() << "server did not start; see " << (dir_.path() / "server.log");
  }

  void KillServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

  ClientResponse Call(HttpClient& c, const std::string& method,
                      const std::string& target, const std::string& body = {}) {
    return c.Send(method, target, body, Auth());
  }

  void Seed() {
    HttpClient c("127.0.0.1", port_);
    ASSERT_EQ(Call(c, "POST", "/api/v1/units",
                   R"({"id":"co","name":"Co","kind":"company"})")
                  .status,
              201);
    for (const char* u : {"u0", "u1"}) {
      ASSERT_EQ(Call(c, "POST", "/api/v1/units",
                     std::string(R"({"id":")") + u + R"(","name":")" + u +
                         R"(","kind":"team","parent":"co"})")
                    .status,
                201);
    }
    ASSERT_EQ(
        Call(
            c, "POST", "/api/v1/cycles",
            R"({"id":"y","name":"Year","kind":"year","start":"2020-01-01","end":"2040-12-31"})")
            .status,
        201);
    for (int g = 0; g < kWriters; ++g) {
      const std::string body =
          R"({"id":"g)" + std::to_string(g) +
          R"(","kind":"key_result","title":"Grow the number",)"
          R"("unit":"u)" +
          std::to_string(g / 2) +
          R"(","cycle":"y","measure":{"start":0,"target":1000000}})";
      auto r = Call(c, "POST", "/api/v1/goals", body);
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }

  // Every event of the log (optionally of one stream), oldest first.
  std::vector<Event> Events(HttpClient& c, const std::string& stream,
                            uint64_t& head) {
    std::vector<Event> out;
    uint64_t from = 0;
    for (int page = 0; page < 1000; ++page) {
      std::string target =
          "/api/v1/events?limit=10000&from=" + std::to_string(from);
      if (!stream.empty()) target += "&stream=" + stream;
      auto r = Call(c, "GET", target);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      simdjson::dom::array events;
      EXPECT_EQ(doc["events"].get(events), simdjson::SUCCESS);
      uint64_t next = 0;
      EXPECT_EQ(doc["next"].get(next), simdjson::SUCCESS);
      EXPECT_EQ(doc["head"].get(head), simdjson::SUCCESS);
      size_t n = 0;
      for (simdjson::dom::element e : events) {
        Event ev;
        EXPECT_EQ(e["position"].get(ev.position), simdjson::SUCCESS);
        EXPECT_EQ(e["version"].get(ev.version), simdjson::SUCCESS);
        std::string_view s, t;
        EXPECT_EQ(e["stream"].get(s), simdjson::SUCCESS);
        EXPECT_EQ(e["type"].get(t), simdjson::SUCCESS);
        ev.stream = s;
        ev.type = t;
        double v = 0;
        if (e.at_pointer("/data/value").get(v) == simdjson::SUCCESS) {
          ev.value = v;
          ev.has_value = true;
        }
        out.push_back(ev);
        ++n;
      }
      if (n == 0 || next <= from) break;
      from = next;
    }
    return out;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST_F(KillTest, EveryAcknowledgedCheckInSurvivesTenKills) {
  auto t0 = Clock::now();
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(Seed());

  // Per goal: every acknowledged value, and the next value to send (values
  // only grow, so the projected current value can be checked against them).
  std::vector<std::set<int64_t>> acked(kWriters);
  std::vector<int64_t> next_value(kWriters, 1);
  size_t total_acked = 0;
  size_t total_lost = 0;
  int kills = 0;
  std::vector<SubSeen> seen(Subs().size());

  // Each subscriber saw exactly the log's events that touch its
  // subscription, up to the last position it saw (all of them when
  // `complete`).
  auto check_subscribers = [&](const std::vector<Event>& log, bool complete) {
    for (size_t i = 0; i < Subs().size(); ++i) {
      const SubSpec& spec = Subs()[i];
      EXPECT_EQ(seen[i].problem, "") << "subscriber " << spec.sub;
      const uint64_t last =
          seen[i].positions.empty() ? 0 : seen[i].positions.back();
      std::vector<uint64_t> expected;
      for (const Event& e : log) {
        if (!complete && e.position > last) break;
        if (spec.streams.empty() ||
            std::find(spec.streams.begin(), spec.streams.end(), e.stream) !=
                spec.streams.end()) {
          expected.push_back(e.position);
        }
      }
      EXPECT_EQ(seen[i].positions, expected)
          << "subscriber " << spec.sub << " saw " << seen[i].positions.size()
          << " events, the log holds " << expected.size();
    }
  };

  for (int round = 0; round < kKills; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::atomic<bool> stop{false};
    std::vector<std::vector<int64_t>> round_acked(kWriters);
    std::vector<int> unexpected(kWriters, 0);
    std::vector<std::string> unexpected_body(kWriters);
    std::vector<std::thread> writers;
    const uint16_t port = port_;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, port] {
        HttpClient c("127.0.0.1", port);
        const std::string target =
            "/api/v1/goals/g" + std::to_string(w) + "/check-ins";
        // Bounded: at most 100000 requests, and each fails fast once the
        // server is gone.
        for (int i = 0; i < 100000 && !stop.load(); ++i) {
          int64_t v = next_value[w]++;
          auto r = c.Send(
              "POST", target,
              "{\"value\":" + std::to_string(v) + ",\"confidence\":5}", Auth());
          if (r.status >= 200 && r.status < 300) {
            round_acked[w].push_back(v);
          } else if (r.status == 0) {
            break;  // the server was killed
          } else {
            ++unexpected[w];
            unexpected_body[w] = std::to_string(r.status) + " " + r.body;
          }
        }
      });
    }
    // Subscribers resume where they stopped, reading until the kill.
    std::vector<std::thread> followers;
    for (size_t i = 0; i < Subs().size(); ++i) {
      followers.emplace_back(
          [&, i, port] { Follow(port, Subs()[i], seen[i], false); });
    }
    std::uniform_int_distribution<int> delay(100, 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    KillServer();
    ++kills;
    stop = true;
    for (auto& t : writers) t.join();
    for (auto& t : followers) t.join();
    for (int w = 0; w < kWriters; ++w) {
      EXPECT_EQ(unexpected[w], 0)
          << "writer " << w << ": " << unexpected_body[w];
      for (int64_t v : round_acked[w]) acked[w].insert(v);
      total_acked += round_acked[w].size();
    }

    // The stopped store verifies.
    pid_t v = Spawn({"verify", "--data", (dir_.path() / "data").string()},
                    (dir_.path() / "verify.log").string());
    ASSERT_GT(v, 0);
    ASSERT_EQ(WaitExit(v, std::chrono::seconds(30)), 0)
        << "cairn verify failed; see " << (dir_.path() / "verify.log");

    // The restarted server (projections rebuilt from snapshot + log).
    ASSERT_NO_FATAL_FAILURE(StartServer());
    HttpClient c("127.0.0.1", port_);
    uint64_t head = 0;
    std::vector<Event> all = Events(c, "", head);
    ASSERT_FALSE(all.empty());
    ASSERT_EQ(all.size(), head) << "the log has a gap";
    std::map<std::string, uint64_t> stream_version;
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].position, i + 1) << "positions are not gapless";
      uint64_t& sv = stream_version[all[i].stream];
      ASSERT_EQ(all[i].version, sv + 1)
          << "stream " << all[i].stream << " version gap at position "
          << all[i].position;
      sv = all[i].version;
    }

    for (int w = 0; w < kWriters; ++w) {
      const std::string stream = "goal-g" + std::to_string(w);
      std::set<int64_t> present;
      int64_t last_value = 0;
      for (const Event& e : all) {
        if (e.stream != stream || e.type != "goal.checked_in") continue;
        ASSERT_TRUE(e.has_value);
        present.insert(static_cast<int64_t>(e.value));
        last_value = static_cast<int64_t>(e.value);
      }
      size_t lost = 0;
      int64_t first_lost = 0;
      for (int64_t a : acked[w]) {
        if (!present.count(a)) {
          if (lost == 0) first_lost = a;
          ++lost;
        }
      }
      total_lost += lost;
      EXPECT_EQ(lost, 0u) << "goal g" << w << " lost " << lost
                          << " acknowledged check-ins, first value "
                          << first_lost;
      // Sent values only grow, so the last check-in holds the largest value,
      // at least the last acknowledged one.
      if (!acked[w].empty()) {
        EXPECT_GE(last_value, *acked[w].rbegin()) << "goal g" << w;
      }
      // Next round's values continue above anything that may be in the log.
      next_value[w] = std::max(next_value[w], last_value + 1);

      // The projection agrees with the log.
      auto r = Call(c, "GET", "/api/v1/goals/g" + std::to_string(w));
      ASSERT_EQ(r.status, 200) << r.body;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      double current = -1;
      uint64_t version = 0;
      ASSERT_EQ(doc["current"].get(current), simdjson::SUCCESS) << r.body;
      ASSERT_EQ(doc["version"].get(version), simdjson::SUCCESS) << r.body;
      EXPECT_EQ(static_cast<int64_t>(current), last_value) << "goal g" << w;
      EXPECT_EQ(version, stream_version[stream]) << "goal g" << w;
    }
    check_subscribers(all, false);
    if (HasFailure()) break;
  }

  // After the last restart every subscriber catches up to the head: it must
  // then hold every event of its subscription, each once, in order.
  size_t sub_events = 0;
  int connections = 0, slow_closes = 0;
  if (!HasFailure()) {
    for (size_t i = 0; i < Subs().size(); ++i) {
      Follow(port_, Subs()[i], seen[i], true);
    }
    HttpClient c("127.0.0.1", port_);
    uint64_t head = 0;
    std::vector<Event> all = Events(c, "", head);
    check_subscribers(all, true);
    for (const SubSeen& s : seen) {
      sub_events += s.positions.size();
      connections += s.connections;
      slow_closes += s.slow_closes;
      EXPECT_GT(s.connections, kKills) << "a subscriber never resumed";
    }
  }

  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
          .count();
  EXPECT_EQ(kills, kKills);
  EXPECT_GT(total_acked, 0u);
  std::printf(
      "[kill] seed %u: %d kills survived, %zu acknowledged check-ins checked, "
      "%zu lost; %zu subscriber events checked over %d connections (%d slow "
      "consumer closes), %lld ms\n",
      seed, kills, total_acked, total_lost, sub_events, connections,
      slow_closes, static_cast<long long>(ms));
  EXPECT_LT(ms, 60000);
}

}  // namespace
}  // namespace cairn::gateway
