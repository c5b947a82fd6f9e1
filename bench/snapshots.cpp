// bench/snapshots: N WebSocket clients subscribing at once with a snapshot
// of one board. What the server pays for the boards when a team opens them
// together (after a deploy, at the start of a meeting): subscribers of one
// board at one position share one rendering and one copy of its bytes
// (BoardCache, gateway/src/board_cache.hpp), against the baseline of the
// same run, the same server with each subscriber's board rendered for it
// (ServerOptions::share_snapshot_boards off).
//
//   build/bench/snapshots [subscribers] [events] [depth] [rounds]
//                                           (default 50 300000 1 10)
//
// Generates the realistic organisation's log (org_log.hpp: 200 units,
// 20,000 goals, then check-ins and the rest up to `events`) in a temp store
// and starts the server on it in a child process, so that its CPU time
// (/proc/<pid>/stat) and memory are its own: first without sharing, then
// with. The board is the company's (unit u0, every cycle) to `depth` levels
// of units (-1: the whole organisation). Each server runs `rounds` rounds:
// a check-in moves the head (a new position: the board must be made anew),
// one client subscribes alone; another check-in, then the N clients
// (connected beforehand) subscribe at once.
// Figures: the server's CPU per round of N (cpu_ratio: shared / each its
// own), and of one alone; the time from the subscribes to the last
// snapshot (median of the rounds); the board's size; boards rendered and
// shared (/metrics); each server's peak RSS growth over its rounds. Last
// line: one JSON object.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/core/time.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "child_server.hpp"
#include "http_client.hpp"
#include "org_log.hpp"
#include "proc_stat.hpp"
#include "server.hpp"
#include "time_travel.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "bench-admin-token";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "snapshots: %s\n", what.c_str());
  std::exit(1);
}

double CpuMs(pid_t pid) {
  return 1000.0 *
         cairn::bench::StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat");
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Generates the log into `dir` (no fsync: set-up) and leaves a snapshot at
// its head, as a cleanly stopped server would. In a child process: the
// server is forked from this one later, and a process that forks must not
// have started RocksDB's background threads.
void MakeStore(const std::string& dir, size_t events) {
  const pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      Die("generating the store failed");
    }
    return;
  }
  cairn::eventstore::Options opts;
  opts.path = dir;
  opts.sync = false;
  auto store = cairn::eventstore::EventStore::Open(opts);
  if (!store.ok()) Die("open " + dir + ": " + store.error().message);
  cairn::gateway::TimeTravel tt(**store);
  cairn::bench::OrgLogGenerator gen(**store, tt, events);
  gen.Run();
  if (cairn::Status s = tt.SnapshotNow(gen.live()); !s.ok()) {
    Die("snapshot: " + s.error().message);
  }
  store->reset();
  std::exit(0);
}

pid_t StartServer(const std::string& dir, bool share, uint16_t& port) {
  cairn::gateway::ServerOptions o =
      cairn::bench::BenchServerOptions(dir, kToken);
  o.share_snapshot_boards = share;
  return cairn::bench::ForkServer(o, port);
}

// One subscriber on its own connection and thread. Each round it sends a
// subscribe with a snapshot, reads until that snapshot, notes when it came
// and how large it was, and unsubscribes.
class Subscriber {
 public:
  Subscriber(uint16_t port, int depth) : ws_(ioc_), depth_(depth) {
    tcp::resolver resolver(ioc_);
    asio::connect(ws_.next_layer(),
                  resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.read_message_max(1ull << 30);
    ws_.handshake("127.0.0.1",
                  std::string("/api/v1/live?access_token=") + kToken);
  }

  // Returns the snapshot's size in bytes.
  size_t Round(int round) {
    const std::string sub = "r" + std::to_string(round);
    ws_.write(asio::buffer(R"({"op":"subscribe","sub":")" + sub +
                           R"(","unit":"u0","depth":)" +
                           std::to_string(depth_) + R"(,"snapshot":true})"));
    const std::string want = R"("op":"snapshot","sub":")" + sub + "\"";
    for (;;) {
      beast::flat_buffer buf;
      ws_.read(buf);
      std::string_view text(static_cast<const char*>(buf.data().data()),
                            buf.size());
      if (text.substr(0, 200).find(want) != std::string_view::npos) {
        arrived_ = Clock::now();
        ws_.write(asio::buffer(R"({"op":"unsubscribe","sub":")" + sub + "\"}"));
        return text.size();
      }
    }
  }

  Clock::time_point arrived() const { return arrived_; }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  int depth_;
  Clock::time_point arrived_{};
};

// Runs Round() on every subscriber at the same moment, each on its own
// thread, and waits for all.
class Crowd {
 public:
  Crowd(uint16_t port, int n, int depth) {
    for (int i = 0; i < n; ++i) {
      subs_.push_back(std::make_unique<Subscriber>(port, depth));
    }
    for (size_t i = 0; i < subs_.size(); ++i) {
      threads_.emplace_back([this, i] { Loop(i); });
    }
  }
  ~Crowd() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Starts round `round` on every subscriber; returns when all have their
  // snapshot. Sets each subscriber's arrival and the snapshot's size.
  size_t Run(int round) {
    std::unique_lock lock(mu_);
    round_ = round;
    done_ = 0;
    ++generation_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return done_ == subs_.size(); });
    return bytes_;
  }

  std::vector<Clock::time_point> Arrivals() const {
    std::vector<Clock::time_point> out;
    for (const auto& s : subs_) out.push_back(s->arrived());
    return out;
  }

 private:
  void Loop(size_t i) {
    uint64_t seen = 0;
    for (;;) {
      int round;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        round = round_;
      }
      size_t bytes = subs_[i]->Round(round);
      std::lock_guard lock(mu_);
      bytes_ = bytes;
      if (++done_ == subs_.size()) cv_.notify_all();
    }
  }

  std::vector<std::unique_ptr<Subscriber>> subs_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int round_ = 0;
  size_t done_ = 0;
  size_t bytes_ = 0;
};

// The server's boards made and shared so far (/metrics).
std::pair<double, double> BoardsMadeAndShared(
    cairn::gateway::HttpClient& http) {
  auto r = http.Send("GET", "/metrics");
  auto value = [&](std::string_view sample) {
    size_t at = r.body.find(sample);
    if (at == std::string::npos) return 0.0;
    return std::atof(r.body.c_str() + at + sample.size());
  };
  return {value("cairn_live_snapshot_boards_total{made=\"rendered\"} "),
          value("cairn_live_snapshot_boards_total{made=\"shared\"} ")};
}

struct Figures {
  double one_ms = 0;   // server CPU per round, one subscriber
  double all_ms = 0;   // server CPU per round, N at once
  double last_ms = 0;  // median over rounds: subscribes to last snapshot
  size_t board_bytes = 0;
  double rendered = 0, shared = 0;  // boards, from /metrics
  double rss_growth_mib = 0;        // server's peak RSS over the rounds
};

// One server on the store, with or without shared boards; `rounds` rounds
// of one subscriber, then N at once, each after a check-in.
Figures Measure(const std::string& dir, bool share, int subscribers, int depth,
                int rounds) {
  uint16_t port = 0;
  const pid_t server = StartServer(dir, share, port);
  if (server <= 0 || port == 0) Die("the server did not start");
  const std::string status = "/proc/" + std::to_string(server) + "/status";
  Figures f;
  {
    cairn::gateway::HttpClient http("127.0.0.1", port);
    const cairn::gateway::HeaderList auth = {
        {"Authorization", std::string("Bearer ") + kToken},
        {"Content-Type", "application/json"}};
    int checkins = 0;
    auto move_head = [&] {
      auto r = http.Send(
          "POST", "/api/v1/goals/g1/check-ins",
          R"({"value":)" + std::to_string(120 + ++checkins) + "}", auth);
      if (r.status != 201) Die("check-in: " + std::to_string(r.status));
    };
    Subscriber one(port, depth);
    Crowd crowd(port, subscribers, depth);
    const double rss_before = cairn::bench::StatusValue(status, "VmHWM:");
    std::vector<double> last_ms;
    int round = 0;
    for (int r = 0; r < rounds; ++r) {
      move_head();
      double c0 = CpuMs(server);
      f.board_bytes = one.Round(++round);
      f.one_ms += CpuMs(server) - c0;

      move_head();
      c0 = CpuMs(server);
      const auto go = Clock::now();
      crowd.Run(++round);
      f.all_ms += CpuMs(server) - c0;
      std::vector<Clock::time_point> arrivals = crowd.Arrivals();
      last_ms.push_back(
          Ms(*std::max_element(arrivals.begin(), arrivals.end()) - go));
      std::printf(
          "  %s, round %d: one %.0f ms CPU, %d at once %.0f ms CPU, "
          "last snapshot after %.0f ms\n",
          share ? "shared" : "unshared", r + 1, f.one_ms / (r + 1), subscribers,
          f.all_ms / (r + 1), last_ms.back());
    }
    std::tie(f.rendered, f.shared) = BoardsMadeAndShared(http);
    f.rss_growth_mib =
        (cairn::bench::StatusValue(status, "VmHWM:") - rss_before) / 1024.0;
    std::sort(last_ms.begin(), last_ms.end());
    f.last_ms = last_ms[last_ms.size() / 2];
    f.one_ms /= rounds;
    f.all_ms /= rounds;
  }
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int subscribers = argc > 1 ? std::atoi(argv[1]) : 50;
  const size_t events =
      argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 300'000;
  const int depth = argc > 3 ? std::atoi(argv[3]) : 1;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 10;
  if (subscribers < 1 || events < 30'000 || rounds < 1) {
    Die("usage: snapshots [subscribers >= 1] [events >= 30000] [depth] "
        "[rounds >= 1]");
  }

  const std::string dir =
      (std::filesystem::temp_directory_path() /
       ("cairn-snapshots-" + std::to_string(cairn::NowMillis())))
          .string();
  auto t0 = Clock::now();
  MakeStore(dir, events);
  std::printf(
      "generated %zu events (%d goals) in %.1f s; board: u0 to "
      "depth %d, %d subscribers\n",
      events, cairn::bench::kGoals, Ms(Clock::now() - t0) / 1000, depth,
      subscribers);

  // The baseline first: each subscriber's board rendered for it.
  const Figures own = Measure(dir, false, subscribers, depth, rounds);
  const Figures shared = Measure(dir, true, subscribers, depth, rounds);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  const double ratio = own.all_ms > 0 ? shared.all_ms / own.all_ms : 0;
  std::printf(
      "board %.1f KB. Server CPU per round of %d subscribers at once: "
      "%.1f ms shared against %.1f ms each its own (ratio %.3f; one "
      "subscriber alone %.1f / %.1f ms); last snapshot after %.0f "
      "against %.0f ms (medians); boards rendered %.0f, shared %.0f; "
      "peak RSS +%.1f against +%.1f MiB\n",
      shared.board_bytes / 1024.0, subscribers, shared.all_ms, own.all_ms,
      ratio, shared.one_ms, own.one_ms, shared.last_ms, own.last_ms,
      shared.rendered, shared.shared, shared.rss_growth_mib,
      own.rss_growth_mib);
  std::printf(
      "{\"bench\":\"snapshots\",\"subscribers\":%d,\"depth\":%d,"
      "\"events\":%zu,\"board_bytes\":%zu,\"shared_cpu_ms\":%.1f,"
      "\"own_cpu_ms\":%.1f,\"cpu_ratio\":%.3f,\"shared_last_ms\":%.0f,"
      "\"own_last_ms\":%.0f,\"shared_rss_mib\":%.1f,\"own_rss_mib\":%.1f}"
      "\n",
      subscribers, depth, events, shared.board_bytes, shared.all_ms, own.all_ms,
      ratio, shared.last_ms, own.last_ms, shared.rss_growth_mib,
      own.rss_growth_mib);
  return 0;
}
