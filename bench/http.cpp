// bench/http: durable check-ins over keep-alive connections against the
// real server (in-process, temp store, fsync on), with the same load on
// /healthz in the same run as the ceiling of the HTTP layer alone.
//
//   build/bench/http [seconds_per_case=2] [connections=1,16,128]
//
// For 1, 16 and 128 connections (or the given comma-separated counts):
// requests/s and p50/p99 latency of POST /api/v1/goals/{id}/check-ins (each
// connection its own goal) and of GET /healthz. A small async Asio client on
// one thread drives the load (one request in flight per connection); each case
// also prints the CPU the client and the server used (cores: CPU seconds per
// second) and the server's CPU per request, the figure least disturbed by
// other load on the machine, and the write path's phases per check-in from
// the server's /metrics (queued, waiting for the write ahead, the append,
// answering), and each thread's CPU microseconds and sleeps per request
// (from /proc: the I/O threads as "cairn-http", the writer, the committer,
// the publisher, and the load generator as "http"). Last line (the last
// case; 128 by default):
// {"bench":"http","connections":128,"checkins_per_s":...,
// "healthz_per_s":...,"ratio":...,"p50_ms":...,"p99_ms":...}
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "allocator.hpp"
#include "cairn/core/time.hpp"
#include "http_client.hpp"
#include "proc_stat.hpp"
#include "server.hpp"

namespace beast = boost::beast;
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
  // CPU seconds per wall second: the load generator's thread, and the rest
  // of the process (the server).
  double client_cpu = 0;
  double server_cpu = 0;
  // CPU microseconds and sleeps per request by thread (the load generator
  // is the process's main thread, named after the binary).
  std::string by_thread;
};

double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// CPU seconds used so far by each of the process's threads, and the times
// they went to sleep (voluntary context switches), summed by thread name
// with a trailing "-N" dropped (the I/O threads "cairn-http-0",
// "cairn-http-1", ... count as one), from /proc/self/task.
struct ThreadUse {
  double cpu = 0;
  double sleeps = 0;
};
std::map<std::string, ThreadUse> CpuByThread() {
  std::map<std::string, ThreadUse> use;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name)) continue;
    const size_t dash = name.rfind('-');
    if (dash != std::string::npos && dash + 1 < name.size() &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(dash) + 1,
                    name.end(), [](char ch) {
                      return std::isdigit(static_cast<unsigned char>(ch)) != 0;
                    })) {
      name.resize(dash);
    }
    ThreadUse& u = use[name];
    u.cpu += cairn::bench::StatCpuSeconds(task.path() / "stat");
    u.sleeps += cairn::bench::StatusValue(task.path() / "status",
                                          "voluntary_ctxt_switches:");
  }
  return use;
}

// "name 12.3 us/0.45" per thread group: CPU microseconds and sleeps per
// request between two CpuByThread readings.
std::string CpuPerRequest(const std::map<std::string, ThreadUse>& before,
                          const std::map<std::string, ThreadUse>& after,
                          double requests) {
  std::string out;
  for (const auto& [name, u] : after) {
    auto it = before.find(name);
    const ThreadUse b = it == before.end() ? ThreadUse{} : it->second;
    const double used = u.cpu - b.cpu;
    if (used <= 0 || requests <= 0) continue;
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s%s %.1f us/%.2f", out.empty() ? "" : ", ",
                  name.c_str(), 1e6 * used / requests,
                  (u.sleeps - b.sleeps) / requests);
    out += buf;
  }
  return out;
}

// One keep-alive connection: one request in flight at a time. The request
// bytes are serialized once; replies are framed by Content-Length with a
// minimal parser, so the load generator spends little of the 2 cores.
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
    const std::string& target = load.targets[index % load.targets.size()];
    request_ = load.method + " " + target +
               " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
               kToken + "\r\n";
    if (!load.body.empty()) {
      request_ += "Content-Type: application/json\r\nContent-Length: " +
                  std::to_string(load.body.size()) + "\r\n";
    }
    request_ += "\r\n" + load.body;
    in_.resize(64 * 1024);
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
    net::async_write(socket_, net::buffer(request_),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         ++self->errors_;
                         return;
                       }
                       self->Read();
                     });
  }

  void Read() {
    socket_.async_read_some(
        net::buffer(in_.data() + have_, in_.size() - have_),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) {
            ++self->errors_;
            return;
          }
          self->have_ += n;
          self->OnBytes();
        });
  }

  // Frames one reply out of in_[0, have_); reads more when incomplete.
  void OnBytes() {
    std::string_view v(in_.data(), have_);
    size_t head_end = v.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      if (have_ == in_.size()) {
        ++errors_;
        return;
      }
      return Read();
    }
    std::string_view head = v.substr(0, head_end);
    size_t length = 0;
    for (size_t at = head.find("\r\n"); at != std::string_view::npos;
         at = head.find("\r\n", at + 2)) {
      std::string_view line = head.substr(at + 2);
      line = line.substr(0, line.find("\r\n"));
      constexpr std::string_view kLength = "content-length:";
      if (line.size() > kLength.size() &&
          std::equal(kLength.begin(), kLength.end(), line.begin(),
                     [](char a, char b) {
                       return a == std::tolower(static_cast<unsigned char>(b));
                     })) {
        length = std::strtoul(std::string(line.substr(kLength.size())).c_str(),
                              nullptr, 10);
      }
    }
    const size_t total = head_end + 4 + length;
    if (total > in_.size()) in_.resize(total);
    if (have_ < total) return Read();
    // "HTTP/1.1 201 ..."
    const int status = head.size() > 12 ? std::atoi(head.data() + 9) : 0;
    if (status < 200 || status >= 300) {
      ++errors_;
    } else {
      latencies_.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - started_)
              .count());
    }
    std::memmove(in_.data(), in_.data() + total, have_ - total);
    have_ -= total;
    Send();
  }

  tcp::socket socket_;
  tcp::endpoint ep_;
  Clock::time_point end_;
  std::vector<double>& latencies_;
  uint64_t& errors_;
  std::string request_;
  std::vector<char> in_;
  size_t have_ = 0;
  Clock::time_point started_;
};

Figures Run(uint16_t port, const Load& load, size_t connections,
            double seconds) {
  net::io_context ioc;
  std::vector<double> latencies;
  uint64_t errors = 0;
  const auto threads0 = CpuByThread();
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  const double thread0 = CpuSeconds(RUSAGE_THREAD);
  const double self0 = CpuSeconds(RUSAGE_SELF);
  auto begin = Clock::now();
  auto end = begin + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  for (size_t i = 0; i < connections; ++i) {
    std::make_shared<Connection>(ioc, ep, load, i, end, latencies, errors)
        ->Start();
  }
  ioc.run();
  double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  const double client = CpuSeconds(RUSAGE_THREAD) - thread0;
  const double all = CpuSeconds(RUSAGE_SELF) - self0;
  Figures f;
  f.client_cpu = client / elapsed;
  f.server_cpu = (all - client) / elapsed;
  f.errors = errors;
  f.per_s = static_cast<double>(latencies.size()) / elapsed;
  f.by_thread = CpuPerRequest(threads0, CpuByThread(),
                              static_cast<double>(latencies.size()));
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    f.p50_ms = latencies[latencies.size() / 2];
    f.p99_ms =
        latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return f;
}

// The value of an unlabelled sample in a Prometheus exposition, 0 if none.
double MetricValue(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::gateway;
  TuneAllocator();  // as `cairn serve` does (the client shares it)
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  if (seconds <= 0) seconds = 2.0;
  std::vector<size_t> cases = {1, 16, 128};
  if (argc > 2) {
    cases.clear();
    for (const char* p = argv[2]; *p != '\0';) {
      char* next = nullptr;
      const unsigned long n = std::strtoul(p, &next, 10);
      if (next == p || n == 0) break;
      cases.push_back(n);
      p = *next == ',' ? next + 1 : next;
    }
    if (cases.empty()) cases = {128};
  }
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
    size_t last_conns = 0;
    for (size_t conns : cases) {
      Figures h = Run(port, healthz, conns, seconds);
      const std::string m0 = c.Send("GET", "/metrics").body;
      Figures k = Run(port, checkins, conns, seconds);
      const std::string m1 = c.Send("GET", "/metrics").body;
      auto delta = [&](const std::string& name) {
        return MetricValue(m1, name) - MetricValue(m0, name);
      };
      const double batches = delta("cairn_append_batch_size_count");
      const double append_ms =
          batches > 0
              ? 1000 * delta("cairn_append_duration_seconds_sum") / batches
              : 0.0;
      std::printf(
          "connections %3zu  writer: %.0f batches, %.1f commands/batch, "
          "%.2f ms/append (fsync), %.0f whole-State copies\n",
          conns, batches,
          batches > 0 ? delta("cairn_append_batch_size_sum") / batches : 0.0,
          append_ms, delta("cairn_state_copies_total"));
      // Mean per request, from the write-phase histograms.
      auto phase_ms = [&](const std::string& phase) {
        const std::string labels = "{phase=\"" + phase + "\"}";
        const double n = delta("cairn_write_phase_seconds_count" + labels);
        return n > 0
                   ? 1000 * delta("cairn_write_phase_seconds_sum" + labels) / n
                   : 0.0;
      };
      std::printf(
          "connections %3zu  write path per check-in: queued %.2f ms, "
          "waiting %.2f ms, append %.2f ms (per batch), answering %.2f ms\n",
          conns, phase_ms("queued"), phase_ms("waiting"), append_ms,
          phase_ms("answering"));
      std::printf(
          "connections %3zu  check-ins %8.0f/s p50 %6.2f ms p99 %6.2f ms "
          "(errors %llu)  healthz %8.0f/s p50 %6.2f ms p99 %6.2f ms  "
          "cpu client/server: check-ins %.2f/%.2f healthz %.2f/%.2f  "
          "server cpu per request: check-in %.1f us healthz %.1f us\n",
          conns, k.per_s, k.p50_ms, k.p99_ms,
          static_cast<unsigned long long>(k.errors + h.errors), h.per_s,
          h.p50_ms, h.p99_ms, k.client_cpu, k.server_cpu, h.client_cpu,
          h.server_cpu, k.per_s > 0 ? 1e6 * k.server_cpu / k.per_s : 0.0,
          h.per_s > 0 ? 1e6 * h.server_cpu / h.per_s : 0.0);
      std::printf(
          "connections %3zu  per request by thread (CPU us/sleeps): "
          "check-in: %s; healthz: %s\n",
          conns, k.by_thread.c_str(), h.by_thread.c_str());
      std::fflush(stdout);
      last_c = k;
      last_h = h;
      last_conns = conns;
      if (k.errors + h.errors > 0) rc = 1;
    }
    std::printf(
        "{\"bench\":\"http\",\"connections\":%zu,\"checkins_per_s\":%.0f,"
        "\"healthz_per_s\":%.0f,\"ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}"
        "\n",
        last_conns, last_c.per_s, last_h.per_s,
        last_h.per_s > 0 ? last_c.per_s / last_h.per_s : 0.0, last_c.p50_ms,
        last_c.p99_ms);
    (*server)->Stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
