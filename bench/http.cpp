// bench/http: durable check-ins over keep-alive connections against the
// real server (in-process, temp store, fsync on), with the same load on
// /healthz in the same run as the ceiling of the HTTP layer alone.
//
//   build/bench/http [seconds_per_case=2]
//
// For 1, 16 and 128 connections: requests/s and p50/p99 latency of
// POST /api/v1/goals/{id}/check-ins (each connection its own goal) and of
// GET /healthz. A small async Beast client on one thread drives the load.
// Last line: {"bench":"http","connections":128,"checkins_per_s":...,
// "healthz_per_s":...,"ratio":...,"p50_ms":...,"p99_ms":...}
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/core/time.hpp"
#include "http_client.hpp"
#include "server.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kToken[] = "bench-admin-token";

struct Load {
  std::string method;
  std::vector<std::string> targets;  // one per connection (cycled)
  std::string body;
};

struct Figures {
  double per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, tcp::endpoint ep, const Load& load,
             size_t index, Clock::time_point end,
             std::vector<double>& latencies, uint64_t& errors)
      : socket_(ioc),
        ep_(ep),
        end_(end),
        latencies_(latencies),
        errors_(errors) {
    req_.method_string(load.method);
    req_.target(load.targets[index % load.targets.size()]);
    req_.version(11);
    req_.set(http::field::host, "127.0.0.1");
    req_.set(http::field::authorization, std::string("Bearer ") + kToken);
    if (!load.body.empty()) {
      req_.set(http::field::content_type, "application/json");
      req_.body() = load.body;
    }
    req_.prepare_payload();
  }

  void Start() {
    socket_.async_connect(ep_,
                          [self = shared_from_this()](beast::error_code ec) {
                            if (ec) {
                              ++self->errors_;
                              return;
                            }
                            self->socket_.set_option(tcp::no_delay(true));
                            self->Send();
                          });
  }

 private:
  void Send() {
    if (Clock::now() >= end_) return;
    started_ = Clock::now();
    http::async_write(
        socket_, req_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            ++self->errors_;
            return;
          }
          self->Read();
        });
  }
  void Read() {
    res_ = {};
    http::async_read(socket_, buffer_, res_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         ++self->errors_;
                         return;
                       }
                       if (self->res_.result_int() >= 300) {
                         ++self->errors_;
                       } else {
                         self->latencies_.push_back(
                             std::chrono::duration<double, std::milli>(
                                 Clock::now() - self->started_)
                                 .count());
                       }
                       self->Send();
                     });
  }

  tcp::socket socket_;
  tcp::endpoint ep_;
  Clock::time_point end_;
  std::vector<double>& latencies_;
  uint64_t& errors_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buffer_;
  Clock::time_point started_;
};

Figures Run(uint16_t port, const Load& load, size_t connections,
            double seconds) {
  net::io_context ioc;
  std::vector<double> latencies;
  uint64_t errors = 0;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  auto begin = Clock::now();
  auto end = begin + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  for (size_t i = 0; i < connections; ++i) {
    std::make_shared<Connection>(ioc, ep, load, i, end, latencies, errors)
        ->Start();
  }
  ioc.run();
  double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  Figures f;
  f.errors = errors;
  f.per_s = static_cast<double>(latencies.size()) / elapsed;
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    f.p50_ms = latencies[latencies.size() / 2];
    f.p99_ms =
        latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::gateway;
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  if (seconds <= 0) seconds = 2.0;
  std::random_device rd;
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("cairn-bench-http-" + std::to_string(rd()));
  int rc = 0;
  {
    ServerOptions o;
    o.data_dir = dir.string();
    o.port = 0;
    o.admin_token = kToken;
    o.rate_limit = 0;
    o.access_log = false;
    auto server = Server::Start(o);
    if (!server) {
      std::fprintf(stderr, "bench/http: %s\n", server.error().message.c_str());
      return 1;
    }
    uint16_t port = (*server)->port();
    HttpClient c("127.0.0.1", port);
    HeaderList auth = {{"Authorization", std::string("Bearer ") + kToken}};
    int year = YearOf(DayOf(NowMillis()));
    c.Send("POST", "/api/v1/units",
           R"({"id":"co","name":"Co","kind":"company"})", auth);
    c.Send("POST", "/api/v1/cycles",
           R"({"id":"y","name":"Year","kind":"year","start":")" +
               std::to_string(year) + R"(-01-01","end":")" +
               std::to_string(year) + R"(-12-31"})",
           auth);
    Load checkins{"POST", {}, R"({"value":7,"confidence":6})"};
    for (int i = 0; i < 128; ++i) {
      std::string id = "kr-" + std::to_string(i);
      auto r = c.Send(
          "POST", "/api/v1/goals",
          R"({"id":")" + id +
              R"(","kind":"key_result","title":"Bench goal number )" +
              std::to_string(i) +
              R"(","unit":"co","cycle":"y","measure":{"start":0,"target":100}})",
          auth);
      if (r.status != 201) {
        std::fprintf(stderr, "bench/http: seeding failed: %u %s\n", r.status,
                     r.body.c_str());
        return 1;
      }
      checkins.targets.push_back("/api/v1/goals/" + id + "/check-ins");
    }
    Load healthz{"GET", {"/healthz"}, ""};
    Figures last_c, last_h;
    for (size_t conns : {1, 16, 128}) {
      Figures h = Run(port, healthz, conns, seconds);
      Figures k = Run(port, checkins, conns, seconds);
      std::printf(
          "connections %3zu  check-ins %8.0f/s p50 %6.2f ms p99 %6.2f ms "
          "(errors %llu)  healthz %8.0f/s p50 %6.2f ms p99 %6.2f ms\n",
          conns, k.per_s, k.p50_ms, k.p99_ms,
          static_cast<unsigned long long>(k.errors + h.errors), h.per_s,
          h.p50_ms, h.p99_ms);
      std::fflush(stdout);
      last_c = k;
      last_h = h;
      if (k.errors + h.errors > 0) rc = 1;
    }
    std::printf(
        "{\"bench\":\"http\",\"connections\":128,\"checkins_per_s\":%.0f,"
        "\"healthz_per_s\":%.0f,\"ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}"
        "\n",
        last_c.per_s, last_h.per_s,
        last_h.per_s > 0 ? last_c.per_s / last_h.per_s : 0.0, last_c.p50_ms,
        last_c.p99_ms);
    (*server)->Stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
