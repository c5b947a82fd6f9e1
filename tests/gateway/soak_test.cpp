// Soak test: the real `cairn` binary in a child process under mixed load for
// CAIRN_SOAK_SECONDS (default 60; 600 on demand): check-ins over keep-alive
// HTTP from three threads, board/goal/history/list GETs from two, WebSocket
// subscribers connecting, reading, disconnecting (cleanly or by dropping the
// socket) and resuming with `from`, and a stream of bad requests. The
// server's RSS (/proc/<pid>/status VmRSS) and open descriptors
// (/proc/<pid>/fd) are sampled every two seconds.
//
// What must hold:
// - descriptors: with every client gone, the count returns to what it was
//   before the load (± kFdSlack for RocksDB's own files: a new WAL, SST or
//   info log); during the load it never exceeds that plus the clients'
//   connections plus the slack.
// - memory: the server's State grows with every check-in, and it holds
//   several whole copies of it (the sequencer's pool of published States,
//   the as-of cache that followers' `from` replays fill), so the model's
//   legitimate growth is not a fixed cost per event. Instead of guessing it,
//   the soaked server is compared with a fresh one: after the load the
//   soaked server stops (SIGTERM, clean), a fresh `cairn` opens the same data
//   directory and takes the same load mix (the same followers resuming from
//   their positions, the same readers and writers) for the warm-up time (20%
//   of the soak, at least 10 s), so its pools and caches fill the same way.
//   The soaked server's RSS at the end of its load must be at most
//   kFreshFactor x the fresh one's at the end of its load + kFreshSlackKiB.
//   The model is in both; a leak per request or connection is only in the
//   one that served hundreds of thousands of them.
// - correctness under the load: every answer is the expected one (201, 200
//   or the expected 4xx), and a subscriber that resumes with `from` = the last
//   position it saw has seen every position exactly once, in order.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "limits.hpp"
#include "server_fixture.hpp"
#include "ws_client.hpp"

extern char** environ;

namespace cairn::gateway {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kAdmin[] = "soak-admin";
constexpr int kWriters = 3;
constexpr int kReaders = 2;
constexpr int kFollowers = 3;
constexpr int kFdSlack = 6;
// Soaked RSS <= fresh RSS x kFreshFactor + kFreshSlackKiB: allocator
// fragmentation after a long run and the timing of pool and cache fills.
constexpr double kFreshFactor = 1.15;
constexpr long kFreshSlackKiB = 8 * 1024;

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The child's open descriptors (-1 when unreadable).
int OpenFds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

HeaderList Auth() {
  return {{"Authorization", std::string("Bearer ") + kAdmin}};
}

std::string CheckIn(int64_t value) {
  return "{\"value\":" + std::to_string(value) + ",\"confidence\":6}";
}

struct Sample {
  double t = 0;  // seconds since the load started
  long rss = 0;  // KiB
  int fds = 0;
  uint64_t head = 0;
  uint64_t requests = 0;
};

class SoakTest : public ::testing::Test {
 public:
  void TearDown() override { KillChild(pid_); }

  void StartServer() {
    ServerChild s = StartLoadServer((dir_.path() / "data").string(), kAdmin,
                                    (dir_.path() / "server.log").string());
    pid_ = s.pid;
    port_ = s.port;
    ASSERT_GT(pid_, 0) << "server did not start; see "
                       << (dir_.path() / "server.log");
  }

  // Graceful stop (SIGTERM); the exit status, -1 when it did not exit in
  // time.
  int StopServer() { return StopChild(pid_, 30s); }

  void Seed() {
    HttpClient c("127.0.0.1", port_);
    auto post = [&](const std::string& target, const std::string& body) {
      auto r = c.Send("POST", target, body, Auth());
      ASSERT_EQ(r.status, 201) << target << " " << r.body;
    };
    ASSERT_NO_FATAL_FAILURE(
        post("/api/v1/units", R"({"id":"co","name":"Co","kind":"company"})"));
    for (const char* u : {"u0", "u1"}) {
      ASSERT_NO_FATAL_FAILURE(post(
          "/api/v1/units", std::string(R"({"id":")") + u + R"(","name":")" + u +
                               R"(","kind":"team","parent":"co"})"));
    }
    ASSERT_NO_FATAL_FAILURE(post(
        "/api/v1/cycles",
        R"({"id":"y","name":"Year","kind":"year","start":"2020-01-01","end":"2040-12-31"})"));
    // g0..g3 take the check-ins; gh takes few, so its history stays short.
    for (const char* g : {"g0", "g1", "g2", "g3", "gh"}) {
      const std::string unit = g[1] == '0' || g[1] == '1' ? "u0" : "u1";
      ASSERT_NO_FATAL_FAILURE(post(
          "/api/v1/goals",
          std::string(R"({"id":")") + g +
              R"(","kind":"key_result","title":"Grow the number","unit":")" +
              unit +
              R"(","cycle":"y","measure":{"start":0,"target":100000000}})"));
    }
  }

  // `n` check-ins on g0..g3 as fast as four connections go.
  void Burst(int n, int64_t& next_value) {
    std::vector<std::thread> ts;
    std::atomic<int> bad{0};
    const int64_t base = next_value;
    for (int w = 0; w < 4; ++w) {
      ts.emplace_back([&, w] {
        HttpClient c("127.0.0.1", port_);
        const std::string target =
            "/api/v1/goals/g" + std::to_string(w) + "/check-ins";
        for (int i = w; i < n; i += 4) {
          if (c.Send("POST", target, CheckIn(base + i), Auth()).status != 201)
            ++bad;
        }
      });
    }
    for (auto& t : ts) t.join();
    next_value = base + n;
    EXPECT_EQ(bad.load(), 0);
  }

  uint64_t Head() {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Send("GET", "/healthz");
    const std::string key = "\"position\":";
    size_t at = r.body.find(key);
    return at == std::string::npos
               ? 0
               : std::strtoull(r.body.c_str() + at + key.size(), nullptr, 10);
  }

  // Lets the server settle (connections closed, batches written).
  long QuietRss() {
    std::this_thread::sleep_for(1500ms);
    return RssKiB(pid_);
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // False once the child has exited (and is reaped).
  bool Alive() {
    int st = 0;
    if (pid_ > 0 && ::waitpid(pid_, &st, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// What the load's clients share across phases (the followers resume from
// where they were, across a restart of the server).
struct LoadState {
  std::atomic<uint64_t> requests{0};
  std::mutex problems_mu;
  std::vector<std::string> problems;
  std::vector<std::vector<uint64_t>> followed =
      std::vector<std::vector<uint64_t>>(kFollowers);
  std::vector<int> sessions = std::vector<int>(kFollowers, 0);
  int64_t next_value = 1;

  void Problem(std::string p) {
    std::lock_guard lock(problems_mu);
    if (problems.size() < 20) problems.push_back(std::move(p));
  }
};

// Counters of the server's /metrics read as one number (0 when absent).
uint64_t MetricValue(uint16_t port, const std::string& name) {
  HttpClient c("127.0.0.1", port);
  auto r = c.Send("GET", "/metrics", {}, Auth());
  const std::string key = "\n" + name + " ";
  size_t at = r.body.find(key);
  return at == std::string::npos
             ? 0
             : std::strtoull(r.body.c_str() + at + key.size(), nullptr, 10);
}

// The mixed load against the server at `port` for `seconds`, sampling the
// server's RSS, descriptors, head and the requests served every two seconds.
// Returns false when the server died.
bool RunLoad(SoakTest& t, int seconds, LoadState& st,
             std::vector<Sample>& samples) {
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_followers{false};
  std::vector<std::thread> threads;
  const uint16_t port = t.port();
  const uint64_t requests0 = st.requests.load();

  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      HttpClient c("127.0.0.1", port);
      int64_t v = st.next_value + 1000000000LL * (w + 1);
      for (int i = 0; !stop.load(); ++i) {
        // g0..g2 by writer; every 50th check-in goes to gh (history reads).
        const std::string goal = i % 50 == 49 ? "gh" : "g" + std::to_string(w);
        auto r = c.Send("POST", "/api/v1/goals/" + goal + "/check-ins",
                        CheckIn(v++), Auth());
        ++st.requests;
        if (r.status != 201) {
          st.Problem("check-in: " + std::to_string(r.status) + " " + r.body);
        }
        std::this_thread::sleep_for(25ms);
      }
    });
  }

  static const std::vector<std::pair<std::string, unsigned>> reads = {
      {"/api/v1/boards/co?cycle=y&depth=1", 200},
      {"/api/v1/goals/g1", 200},
      {"/api/v1/goals/gh/history", 200},
      {"/api/v1/goals?unit=u1&cycle=y", 200},
      {"/api/v1/units", 200},
      {"/api/v1/scorecards/co?cycle=y", 200},
      {"/api/v1/events?limit=50", 200},
      {"/healthz", 200},
      {"/metrics", 200},
      {"/api/v1/goals/nope", 404},
      {"/api/v1/nothing-here", 404},
  };
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      HttpClient c("127.0.0.1", port);
      for (size_t i = r; !stop.load(); ++i) {
        const auto& [target, want] = reads[i % reads.size()];
        auto res = c.Send("GET", target, {}, Auth());
        ++st.requests;
        if (res.status != want) {
          st.Problem("GET " + target + ": " + std::to_string(res.status));
        }
        std::this_thread::sleep_for(10ms);
      }
    });
  }

  // Bad requests, each on a fresh connection now and then.
  threads.emplace_back([&] {
    std::mt19937 rng(7);
    for (int i = 0; !stop.load(); ++i) {
      HttpClient c("127.0.0.1", port);
      ClientResponse r;
      unsigned want = 0;
      switch (i % 6) {
        case 0:
          r = c.Send("POST", "/api/v1/goals/g0/check-ins",
                     "{\"value\":", Auth());
          want = 400;
          break;
        case 1:
          r = c.Send("POST", "/api/v1/goals/g0/check-ins", CheckIn(1),
                     {{"Authorization", "Bearer wrong"}});
          want = 401;
          break;
        case 2:
          r = c.Send("POST", "/api/v1/goals/g0/check-ins",
                     R"({"value":"high"})", Auth());
          want = 422;
          break;
        case 3:
          r = c.Send("POST", "/api/v1/goals/g0/check-ins",
                     std::string(kMaxBodyBytes + 10, ' '), Auth());
          want = 413;
          break;
        case 4:
          r = c.SendRaw("GARBAGE / HTTP/9.9\r\n\r\n");
          want = 400;
          break;
        case 5:
          r = c.Send("GET", "/api/v1/goals/g0?as_of=99999999999", {}, Auth());
          want = 422;
          break;
      }
      ++st.requests;
      if (r.status != want) {
        st.Problem("bad request " + std::to_string(i % 6) + ": " +
                   std::to_string(r.status) + " " + r.body.substr(0, 200));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 50));
    }
  });

  // Followers: connect, subscribe from the last position seen, read a while,
  // then close cleanly or drop the socket, and resume. Follower 0 follows
  // the whole organisation and must see every position exactly once.
  for (int f = 0; f < kFollowers; ++f) {
    threads.emplace_back([&, f] {
      std::mt19937 rng(100 + f + 7 * st.sessions[f]);
      std::vector<uint64_t>& seen = st.followed[f];
      const std::string unit = f == 0 ? "co" : f == 1 ? "u0" : "u1";
      while (!stop_followers.load()) {
        LiveClient ws(port, kAdmin);
        if (!ws.ok()) {
          st.Problem("websocket handshake: " + ws.error());
          return;
        }
        ++st.sessions[f];
        const int64_t from = seen.empty() ? 0 : int64_t(seen.back());
        ws.Send(SubscribeMessage("s", unit, f == 0 ? -1 : 0, "y", from));
        const int want = 20 + static_cast<int>(rng() % 200);
        for (int n = 0; n < want && !stop_followers.load();) {
          LiveMsg m = ws.Read(10s);
          ++st.requests;
          if (m.op == "event") {
            if (!seen.empty() && m.position <= seen.back()) {
              st.Problem("follower " + std::to_string(f) + ": position " +
                         std::to_string(m.position) + " after " +
                         std::to_string(seen.back()));
            }
            seen.push_back(m.position);
            ++n;
          } else if (m.op != "synced") {
            if (stop_followers.load()) break;
            st.Problem("follower " + std::to_string(f) + ": " + m.op + " " +
                       m.raw.substr(0, 200));
            return;
          }
        }
        if (rng() % 2 == 0) {
          ws.Close();
        } else {
          ws.Abort();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
      }
    });
  }

  // Sampling.
  bool alive = true;
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    std::this_thread::sleep_for(2s);
    Sample s;
    s.t = std::chrono::duration<double>(Clock::now() - t0).count();
    s.rss = RssKiB(t.pid());
    s.fds = OpenFds(t.pid());
    s.head = t.Head();
    s.requests = st.requests.load() - requests0;
    samples.push_back(s);
    if (!t.Alive()) {
      alive = false;
      break;
    }
  }
  // Followers first, while events still flow (they are between reads).
  stop_followers = true;
  for (int f = 0; f < kFollowers; ++f)
    threads[threads.size() - kFollowers + f].join();
  stop = true;
  for (size_t i = 0; i + kFollowers < threads.size(); ++i) threads[i].join();
  st.next_value += 1000000000LL * (kWriters + 1);
  return alive;
}

void PrintSamples(const char* what, const std::vector<Sample>& samples) {
  std::printf("[soak] %s samples (t s, RSS KiB, fds, head, requests):\n", what);
  for (const Sample& s : samples) {
    std::printf("[soak]   %5.0f %8ld %4d %8llu %10llu\n", s.t, s.rss, s.fds,
                static_cast<unsigned long long>(s.head),
                static_cast<unsigned long long>(s.requests));
  }
}

TEST_F(SoakTest, RssAndDescriptorsStayFlatUnderMixedLoad) {
  int seconds = 60;
  if (const char* env = std::getenv("CAIRN_SOAK_SECONDS")) {
    seconds = std::max(10, std::atoi(env));
  }
  const int fresh_seconds = std::max(10, seconds / 5);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const long rss_start = RssKiB(pid_);
  ASSERT_NO_FATAL_FAILURE(Seed());
  LoadState st;
  ASSERT_NO_FATAL_FAILURE(Burst(1000, st.next_value));  // a model to read
  const long rss_seeded = QuietRss();
  const uint64_t head_seeded = Head();
  const int fds_before = OpenFds(pid_);
  ASSERT_GT(fds_before, 0);

  // The soak.
  std::vector<Sample> samples;
  const bool alive = RunLoad(*this, seconds, st, samples);
  ASSERT_TRUE(alive) << "the server died; see " << (dir_.path() / "server.log");
  ASSERT_GE(samples.size(), 3u);
  const uint64_t soak_requests = st.requests.load();
  const long rss_quiet_end = QuietRss();
  const int fds_after = OpenFds(pid_);
  const uint64_t head_end = Head();
  const uint64_t copies_soaked = MetricValue(port_, "cairn_state_copies_total");
  const uint64_t memtable_soaked =
      MetricValue(port_, "cairn_store_memtable_bytes");
  EXPECT_EQ(StopServer(), 0) << "the soaked server did not stop cleanly";

  // The fresh server on the same data, under the same load.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const long rss_fresh_start = RssKiB(pid_);
  std::vector<Sample> fresh;
  ASSERT_TRUE(RunLoad(*this, fresh_seconds, st, fresh))
      << "the fresh server died; see " << (dir_.path() / "server.log");
  ASSERT_GE(fresh.size(), 3u);
  const uint64_t copies_fresh = MetricValue(port_, "cairn_state_copies_total");
  const uint64_t memtable_fresh =
      MetricValue(port_, "cairn_store_memtable_bytes");

  // The baseline: the first sample after the warm-up (20% of the time).
  size_t warm = 0;
  while (warm + 1 < samples.size() && samples[warm].t < 0.2 * seconds) ++warm;
  const Sample& base = samples[warm];
  const Sample& last = samples.back();
  const Sample& fresh_last = fresh.back();
  int fds_max = 0;
  for (const Sample& s : samples) fds_max = std::max(fds_max, s.fds);
  const double bound_kib =
      kFreshFactor * double(fresh_last.rss) + double(kFreshSlackKiB);

  std::printf(
      "[soak] %d s, %llu requests and WebSocket messages, %llu events "
      "appended (head %llu)\n"
      "[soak] RSS: %ld KiB at start (empty store), %ld KiB seeded (head "
      "%llu), %ld KiB after the warm-up (t=%.0f s, head %llu), %ld KiB at the "
      "end (t=%.0f s, head %llu), %ld KiB quiet after the load\n"
      "[soak] fresh server on the same data: %ld KiB at start, %ld KiB after "
      "%d s of the same load (head %llu, %llu requests); soaked/fresh %.3f, "
      "allowed %.0f KiB = %.2f x fresh + %ld\n"
      "[soak] whole-State copies (cairn_state_copies_total): soaked %llu, "
      "fresh %llu\n"
      "[soak] fds: %d before the load, %d after the warm-up, %d at the end, "
      "%d max, %d after the load; fresh %d at the end\n"
      "[soak] followers: %zu/%zu/%zu events over %d/%d/%d sessions\n",
      seconds, static_cast<unsigned long long>(soak_requests),
      static_cast<unsigned long long>(head_end - head_seeded),
      static_cast<unsigned long long>(head_end), rss_start, rss_seeded,
      static_cast<unsigned long long>(head_seeded), base.rss, base.t,
      static_cast<unsigned long long>(base.head), last.rss, last.t,
      static_cast<unsigned long long>(last.head), rss_quiet_end,
      rss_fresh_start, fresh_last.rss, fresh_seconds,
      static_cast<unsigned long long>(fresh_last.head),
      static_cast<unsigned long long>(fresh_last.requests),
      double(last.rss) / double(std::max(1L, fresh_last.rss)), bound_kib,
      kFreshFactor, kFreshSlackKiB,
      static_cast<unsigned long long>(copies_soaked),
      static_cast<unsigned long long>(copies_fresh), fds_before, base.fds,
      last.fds, fds_max, fds_after, fresh_last.fds, st.followed[0].size(),
      st.followed[1].size(), st.followed[2].size(), st.sessions[0],
      st.sessions[1], st.sessions[2]);
  std::printf(
      "[soak] store write buffers (cairn_store_memtable_bytes) at the end: "
      "soaked %llu KiB, fresh %llu KiB\n",
      static_cast<unsigned long long>(memtable_soaked / 1024),
      static_cast<unsigned long long>(memtable_fresh / 1024));
  PrintSamples("soaked", samples);
  PrintSamples("fresh", fresh);

  {
    std::lock_guard lock(st.problems_mu);
    EXPECT_TRUE(st.problems.empty())
        << st.problems.size() << " problems, first: " << st.problems.front();
  }
  EXPECT_LE(double(last.rss), bound_kib)
      << "the soaked server holds more memory than a fresh one with the same "
         "data under the same load: a leak in request or connection handling";
  EXPECT_LE(fds_after, fds_before + kFdSlack) << "descriptors leaked";
  // During the load: the clients' connections (writers, readers, the bad
  // request's, followers) plus the slack.
  // A refused oversized request lingers up to kLingerTimeout (2 s) after
  // its reply: a few of those at once.
  EXPECT_LE(fds_max,
            fds_before + kWriters + kReaders + kFollowers + 4 + kFdSlack);
  EXPECT_GT(last.head, base.head);
  EXPECT_GT(fresh_last.head, head_end);

  // Follower 0 (the whole organisation) saw every position after the seed's
  // first event exactly once, across the restart: 1..its last position, in
  // order.
  ASSERT_FALSE(st.followed[0].empty());
  for (size_t i = 0; i < st.followed[0].size(); ++i) {
    ASSERT_EQ(st.followed[0][i], i + 1) << "follower 0 broke at " << i;
  }
  EXPECT_EQ(StopServer(), 0) << "the fresh server did not stop cleanly";
}

}  // namespace
}  // namespace cairn::gateway
