// Live fan-out: N WebSocket clients subscribed to one board while a writer
// appends check-ins at a fixed rate over HTTP. The server runs in a child
// process (so its RSS is its own); the clients and the writer in this one.
//
//   build/bench/fanout                 # 1,000 then 10,000 clients, 5 s each
//   build/bench/fanout --clients 2000 [--seconds 10] [--rate 20]
//                                      # one run; rate: check-ins per s
//
// Prints, per run, delivery latency from append (the event's `at`) to
// receipt, p50/p99/max, messages delivered per second and the server's RSS
// growth per connection. Last line: one JSON object for the last run.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/time.hpp"
#include "http_client.hpp"
#include "server.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr const char* kToken = "bench-admin-token";

long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

struct Stats {
  std::mutex mu;
  std::vector<int64_t> latencies_ms;
  std::atomic<uint64_t> delivered{0};
  std::atomic<int> synced{0};
  std::atomic<int> failed{0};
  std::atomic<bool> measuring{false};
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  WsClient(net::io_context& ioc, uint16_t port, Stats& stats,
           std::function<void()> on_synced)
      : ws_(ioc),
        port_(port),
        stats_(stats),
        on_synced_(std::move(on_synced)) {}

  void Start() {
    beast::get_lowest_layer(ws_).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
        [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->Fail();
          self->ws_.set_option(websocket::stream_base::decorator(
              [](websocket::request_type& req) {
                req.set(beast::http::field::authorization,
                        std::string("Bearer ") + kToken);
              }));
          self->ws_.async_handshake(
              "127.0.0.1:" + std::to_string(self->port_), "/api/v1/live",
              [self](beast::error_code ec2) {
                if (ec2) return self->Fail();
                self->sub_ =
                    R"({"op":"subscribe","sub":"b","unit":"co","cycle":"y"})";
                self->ws_.async_write(net::buffer(self->sub_),
                                      [self](beast::error_code ec3, size_t) {
                                        if (ec3) return self->Fail();
                                        self->Read();
                                      });
              });
        });
  }

  void Close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

 private:
  void Fail() {
    ++stats_.failed;
    if (!synced_) on_synced_();
  }

  void Read() {
    ws_.async_read(buf_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (ec) return;
                     self->OnMessage();
                     self->buf_.consume(self->buf_.size());
                     self->Read();
                   });
  }

  void OnMessage() {
    std::string_view m(static_cast<const char*>(buf_.data().data()),
                       buf_.size());
    if (m.rfind(R"({"op":"event")", 0) == 0) {
      const size_t at = m.find(R"("at":")");
      if (at != std::string_view::npos && stats_.measuring) {
        auto t = cairn::ParseTime(m.substr(at + 6, 24));
        if (t) {
          const int64_t lat = cairn::NowMillis() - *t;
          std::lock_guard lock(stats_.mu);
          stats_.latencies_ms.push_back(lat);
        }
        ++stats_.delivered;
      }
    } else if (m.rfind(R"({"op":"synced")", 0) == 0 && !synced_) {
      synced_ = true;
      ++stats_.synced;
      on_synced_();
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  uint16_t port_;
  Stats& stats_;
  std::function<void()> on_synced_;
  beast::flat_buffer buf_;
  std::string sub_;
  bool synced_ = false;
};

// Runs the server in a child; returns its pid and port via a pipe.
pid_t StartServer(const std::string& dir, size_t max_connections,
                  uint16_t& port) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    cairn::gateway::ServerOptions o;
    o.data_dir = dir;
    o.port = 0;
    o.admin_token = kToken;
    o.rate_limit = 0;
    o.access_log = false;
    o.max_connections = max_connections;
    auto server = cairn::gateway::Server::Start(o);
    uint16_t p = server ? (*server)->port() : 0;
    if (write(fds[1], &p, sizeof p) != sizeof p) _exit(1);
    close(fds[1]);
    if (!server) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  if (read(fds[0], &port, sizeof port) != sizeof port) port = 0;
  close(fds[0]);
  return pid;
}

struct Figures {
  int clients = 0;
  double delivered_per_s = 0;
  double p50 = 0, p99 = 0, max = 0;
  double rss_kib_per_conn = 0;
};

Figures RunOnce(int clients, double seconds, double rate) {
  Figures f;
  f.clients = clients;
  std::random_device rd;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("cairn-bench-fanout-" + std::to_string(rd())))
                              .string();
  uint16_t port = 0;
  pid_t pid = StartServer(dir, static_cast<size_t>(clients) + 64, port);
  if (pid <= 0 || port == 0) {
    std::fprintf(stderr, "bench/fanout: server did not start\n");
    std::exit(1);
  }
  {
    cairn::gateway::HttpClient c("127.0.0.1", port);
    cairn::gateway::HeaderList auth = {
        {"Authorization", std::string("Bearer ") + kToken}};
    const int year = cairn::YearOf(cairn::DayOf(cairn::NowMillis()));
    c.Send("POST", "/api/v1/units",
           R"({"id":"co","name":"Co","kind":"company"})", auth);
    c.Send("POST", "/api/v1/cycles",
           R"({"id":"y","name":"Year","kind":"year","start":")" +
               std::to_string(year) + R"(-01-01","end":")" +
               std::to_string(year) + R"(-12-31"})",
           auth);
    for (int i = 0; i < 8; ++i) {
      c.Send(
          "POST", "/api/v1/goals",
          R"({"id":"kr-)" + std::to_string(i) +
              R"(","kind":"key_result","title":"Fan out goal number",)"
              R"("unit":"co","cycle":"y","measure":{"start":0,"target":100}})",
          auth);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long rss_before = RssKib(pid);

  net::io_context ioc(1);
  Stats stats;
  std::vector<std::shared_ptr<WsClient>> all;
  all.reserve(static_cast<size_t>(clients));
  std::atomic<int> launched{0};
  std::function<void()> launch_next;
  launch_next = [&] {
    if (launched >= clients) return;
    ++launched;
    auto c =
        std::make_shared<WsClient>(ioc, port, stats, [&] { launch_next(); });
    all.push_back(c);
    c->Start();
  };
  for (int i = 0; i < std::min(clients, 256); ++i) launch_next();
  std::thread io([&] { ioc.run(); });
  auto work = net::make_work_guard(ioc);
  const auto connect_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (stats.synced + stats.failed < clients &&
         std::chrono::steady_clock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long rss_after = RssKib(pid);
  f.rss_kib_per_conn =
      stats.synced > 0 ? double(rss_after - rss_before) / stats.synced : 0;

  // The writer: check-ins at a fixed rate.
  stats.measuring = true;
  {
    cairn::gateway::HttpClient w("127.0.0.1", port);
    cairn::gateway::HeaderList auth = {
        {"Authorization", std::string("Bearer ") + kToken}};
    const auto start = std::chrono::steady_clock::now();
    const auto period = std::chrono::duration<double>(1.0 / rate);
    for (int i = 0;; ++i) {
      const auto due =
          start +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              period * i);
      if (due - start > std::chrono::duration<double>(seconds)) break;
      std::this_thread::sleep_until(due);
      w.Send("POST", "/api/v1/goals/kr-" + std::to_string(i % 8) + "/check-ins",
             R"({"value":)" + std::to_string(i % 100) + "}", auth);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stats.measuring = false;
  f.delivered_per_s = double(stats.delivered) / seconds;
  {
    std::lock_guard lock(stats.mu);
    auto& v = stats.latencies_ms;
    std::sort(v.begin(), v.end());
    if (!v.empty()) {
      f.p50 = double(v[v.size() / 2]);
      f.p99 = double(v[std::min(v.size() - 1, v.size() * 99 / 100)]);
      f.max = double(v.back());
    }
  }
  std::printf(
      "clients %6d (synced %d, failed %d)  delivered %9.0f/s  p50 %5.0f ms  "
      "p99 %5.0f ms  max %5.0f ms  server RSS %.1f KiB/conn\n",
      clients, stats.synced.load(), stats.failed.load(), f.delivered_per_s,
      f.p50, f.p99, f.max, f.rss_kib_per_conn);
  std::fflush(stdout);

  work.reset();
  net::post(ioc, [&] {
    for (auto& c : all) c->Close();
  });
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ioc.stop();
  io.join();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  std::vector<int> runs = {1000, 10000};
  double seconds = 5.0;
  double rate = 10.0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: fanout [--clients N] [--seconds S] [--rate R]\n");
      return 2;
    }
    const char* value = argv[++i];
    if (arg == "--clients") {
      runs = {std::atoi(value)};
    } else if (arg == "--seconds") {
      seconds = std::atof(value);
    } else if (arg == "--rate") {
      rate = std::atof(value);
    } else {
      std::fprintf(stderr,
                   "usage: fanout [--clients N] [--seconds S] [--rate R]\n");
      return 2;
    }
  }
  if (runs[0] <= 0 || seconds <= 0 || rate <= 0) {
    std::fprintf(stderr, "fanout: clients, seconds and rate must be > 0\n");
    return 2;
  }
  Figures last;
  for (int n : runs) last = RunOnce(n, seconds, rate);
  std::printf(
      "{\"bench\":\"fanout\",\"clients\":%d,\"delivered_per_s\":%.0f,"
      "\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
      "\"rss_kib_per_conn\":%.2f}\n",
      last.clients, last.delivered_per_s, last.p50, last.p99, last.max,
      last.rss_kib_per_conn);
  return 0;
}
