// Live fan-out: N WebSocket clients subscribed to one board while a writer
// appends check-ins at a fixed rate over HTTP. The server runs in a child
// process (so its RSS is its own); the clients and the writer in this one.
//
//   build/bench/fanout                 # 1,000 then 10,000 clients, 5 s each
//   build/bench/fanout --clients 2000 [--seconds 10] [--rate 20]
//                                      # one run; rate: check-ins per s
//   build/bench/fanout --server-sends plain --client-reads plain
//                                      # one send / recv call per message
//
// Prints, per run, delivery latency from append (the event's `at`) to
// receipt, p50/p99/max (every event message counts: the run waits, up to
// 30 s, until each check-in reached each client), messages delivered per
// second from the first append to the last receipt, the server's RSS
// growth per connection, and the CPU time per delivered message of the
// server and of the clients during the measured window (a figure that does
// not depend on what else the machine runs). Last line: one JSON object for
// the last run.
//
// The default rate, 10 check-ins a second, is already more than a board
// watched by 10,000 people gets; each check-in is one event message to every
// client (100,000 messages a second at 10,000 clients).
//
// The clients are the measuring instrument, not the system under test, and
// share the cores with the server: they run on one thread with raw sockets
// and epoll (see ClientPool) rather than a general WebSocket library.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "allocator.hpp"
#include "cairn/core/time.hpp"
#include "child_server.hpp"
#include "http_client.hpp"
#include "proc_stat.hpp"
#include "server.hpp"

namespace {

constexpr const char* kToken = "bench-admin-token";

long RssKib(pid_t pid) {
  return static_cast<long>(cairn::bench::StatusValue(
      "/proc/" + std::to_string(pid) + "/status", "VmRSS:"));
}

// CPU time (user + system) of process `pid`, in ms.
double CpuMs(pid_t pid) {
  return 1000.0 *
         cairn::bench::StatCpuSeconds("/proc/" + std::to_string(pid) + "/stat");
}

struct Stats {
  std::vector<int64_t> latencies_ms;  // written by the client thread only
  std::atomic<uint64_t> delivered{0};
  std::atomic<int> synced{0};
  std::atomic<int> failed{0};
  std::atomic<int> dropped{0};  // closed after synced (should stay 0)
  std::atomic<bool> measuring{false};
};

// The clients: one thread, one epoll set, raw non-blocking sockets speaking
// just enough WebSocket (RFC 6455) to subscribe and read. The clients are
// the measuring instrument and share the machine's cores with the server,
// so they must cost little: one read per readiness (level-triggered), frames
// parsed in place, only the `at` of each event read. With `ring_reads` the
// reads of the connections one epoll_wait reports ready go to the kernel
// in one io_uring submit (each into its own slot of a slab) instead of one
// recv call each: on this machine's virtualised kernel a system call costs
// microseconds, as much as the rest of a message's handling. Server pings
// are answered so that idle clients are not dropped.
class ClientPool {
 public:
  ClientPool(uint16_t port, int clients, Stats& stats, bool ring_reads)
      : port_(port), stats_(stats), conns_(static_cast<size_t>(clients)) {
    if (ring_reads) {
      ring_ok_ = io_uring_queue_init(kBatch, &ring_, 0) == 0;
      if (!ring_ok_) {
        std::fprintf(stderr, "fanout: io_uring refused; clients use recv\n");
      } else {
        slab_.resize(kBatch * kSlot);
      }
    }
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    request_ = "GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:" +
               std::to_string(port_) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
               kToken + "\r\n\r\n";
    subscribe_ = MaskedFrame(
        0x1, R"({"op":"subscribe","sub":"b","unit":"co","cycle":"y"})");
  }
  ~ClientPool() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    close(epfd_);
    if (ring_ok_) io_uring_queue_exit(&ring_);
  }

  // Connects every client (at most 256 handshakes in flight) and reads
  // until `stop`.
  void Run(const std::atomic<bool>& stop) {
    while (next_ < conns_.size() && in_flight_ < 256) Launch();
    std::vector<epoll_event> events(kBatch);
    while (!stop.load(std::memory_order_relaxed)) {
      const int n =
          epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 50);
      unsigned batch = 0;
      for (int i = 0; i < n; ++i) {
        const uint32_t id = events[i].data.u32;
        const uint32_t what = events[i].events;
        if (ring_ok_ && conns_[id].phase == Phase::kOpen &&
            (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
          io_uring_prep_recv(sqe, conns_[id].fd, &slab_[batch * kSlot], kSlot,
                             MSG_DONTWAIT);
          io_uring_sqe_set_data64(sqe, (uint64_t{id} << 32) | batch);
          ++batch;
        } else {
          OnReady(id, what);
        }
      }
      if (batch == 0) continue;
      io_uring_submit_and_wait(&ring_, batch);
      for (unsigned done = 0; done < batch; ++done) {
        io_uring_cqe* cqe = nullptr;
        if (io_uring_wait_cqe(&ring_, &cqe) != 0) break;
        const uint64_t tag = io_uring_cqe_get_data64(cqe);
        const int res = cqe->res;
        io_uring_cqe_seen(&ring_, cqe);
        const auto id = static_cast<uint32_t>(tag >> 32);
        const char* data = &slab_[(tag & 0xffffffff) * kSlot];
        if (res == -EAGAIN || res == -EINTR) continue;
        if (res <= 0) {
          Fail(id);
          continue;
        }
        OnBytes(id, std::string_view(data, static_cast<size_t>(res)));
      }
    }
  }

 private:
  enum class Phase : uint8_t { kConnecting, kHandshake, kOpen, kClosed };
  struct Conn {
    int fd = -1;
    Phase phase = Phase::kClosed;
    bool synced = false;
    std::string pending;  // bytes of a frame (or response) not complete yet
  };

  static std::string MaskedFrame(uint8_t opcode, std::string_view payload) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    f.push_back(static_cast<char>(0x80 | payload.size()));  // < 126 bytes
    f.append(4, '\0');  // masking key 0: the payload goes as is
    f.append(payload);
    return f;
  }

  void Launch() {
    const uint32_t id = static_cast<uint32_t>(next_++);
    Conn& c = conns_[id];
    ++in_flight_;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c.fd < 0 ||
        (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
         errno != EINPROGRESS)) {
      return Fail(id);
    }
    c.phase = Phase::kConnecting;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = id;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) Fail(id);
  }

  void Fail(uint32_t id) {
    Conn& c = conns_[id];
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    c.phase = Phase::kClosed;
    if (!c.synced) {
      ++stats_.failed;
      Settled();
    } else {
      ++stats_.dropped;
    }
  }

  // A client synced or failed: start the next one.
  void Settled() {
    --in_flight_;
    if (next_ < conns_.size()) Launch();
  }

  bool SendAll(Conn& c, std::string_view bytes) {
    // Small frames on a socket that is nearly always writable; a short write
    // would be a bench bug worth failing on.
    return send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  void OnReady(uint32_t id, uint32_t what) {
    Conn& c = conns_[id];
    if (c.phase == Phase::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || !SendAll(c, request_)) return Fail(id);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = id;
      epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
      c.phase = Phase::kHandshake;
      return;
    }
    if (c.phase == Phase::kClosed ||
        (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
      return;
    }
    const ssize_t n = recv(c.fd, buf_, sizeof buf_, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return Fail(id);
    }
    OnBytes(id, std::string_view(buf_, static_cast<size_t>(n)));
  }

  // What one read of connection `id` got.
  void OnBytes(uint32_t id, std::string_view data) {
    Conn& c = conns_[id];
    if (!c.pending.empty()) {
      c.pending.append(data);
      data = c.pending;
    }
    size_t used = 0;
    if (c.phase == Phase::kHandshake) {
      const size_t end = data.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (c.pending.empty()) c.pending.assign(data);
        return;
      }
      if (data.rfind("HTTP/1.1 101", 0) != 0 || !SendAll(c, subscribe_)) {
        return Fail(id);
      }
      c.phase = Phase::kOpen;
      used = end + 4;
    }
    used += Frames(id, data.substr(used));
    if (c.phase == Phase::kClosed) return;
    // Keep what is left of a partial frame (rare: frames are small).
    if (data.data() == c.pending.data()) {
      c.pending.erase(0, used);
    } else {
      c.pending.assign(data.substr(used));
    }
  }

  // Handles every complete frame at the start of `data`; returns the bytes
  // used.
  size_t Frames(uint32_t id, std::string_view data) {
    size_t used = 0;
    for (;;) {
      std::string_view rest = data.substr(used);
      if (rest.size() < 2) return used;
      const auto b0 = static_cast<uint8_t>(rest[0]);
      const auto b1 = static_cast<uint8_t>(rest[1]);
      size_t header = 2;
      uint64_t len = b1 & 0x7f;
      if (len == 126) {
        if (rest.size() < 4) return used;
        len = (uint64_t(uint8_t(rest[2])) << 8) | uint8_t(rest[3]);
        header = 4;
      } else if (len == 127) {
        if (rest.size() < 10) return used;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | uint8_t(rest[2 + i]);
        header = 10;
      }
      if (rest.size() < header + len) return used;
      std::string_view payload = rest.substr(header, len);
      used += header + len;
      switch (b0 & 0x0f) {
        case 0x1:
          OnMessage(id, payload);
          break;
        case 0x9:  // ping: answer so the server keeps us
          if (!SendAll(conns_[id], MaskedFrame(0xA, payload))) {
            Fail(id);
            return used;
          }
          break;
        case 0x8:  // close
          Fail(id);
          return used;
        default:
          break;
      }
    }
  }

  void OnMessage(uint32_t id, std::string_view m) {
    if (m.rfind(R"({"op":"event")", 0) == 0) {
      if (!stats_.measuring.load(std::memory_order_relaxed)) return;
      const size_t at = m.find(R"("at":")");
      if (at != std::string_view::npos) {
        auto t = cairn::ParseTime(m.substr(at + 6, 24));
        if (t) stats_.latencies_ms.push_back(cairn::NowMillis() - *t);
      }
      stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    } else if (m.rfind(R"({"op":"synced")", 0) == 0 && !conns_[id].synced) {
      conns_[id].synced = true;
      ++stats_.synced;
      Settled();
    }
  }

  uint16_t port_;
  Stats& stats_;
  std::vector<Conn> conns_;
  size_t next_ = 0;
  int in_flight_ = 0;
  int epfd_ = -1;
  std::string request_;
  std::string subscribe_;
  char buf_[64 * 1024];
  // Batched reads: one slot of the slab per connection read in a batch.
  static constexpr unsigned kBatch = 1024;
  static constexpr size_t kSlot = 16 * 1024;
  bool ring_ok_ = false;
  io_uring ring_{};
  std::vector<char> slab_;
};

// Runs the server in a child; returns its pid and port via a pipe.
pid_t StartServer(const std::string& dir, size_t max_connections,
                  bool ring_sends, uint16_t& port) {
  cairn::gateway::ServerOptions o =
      cairn::bench::BenchServerOptions(dir, kToken);
  o.max_connections = max_connections;
  o.live_send_ring = ring_sends;
  return cairn::bench::ForkServer(o, port);
}

struct Figures {
  int clients = 0;
  double delivered_per_s = 0;
  double p50 = 0, p99 = 0, max = 0;
  double rss_kib_per_conn = 0;
};

struct Modes {
  bool ring_sends = true;  // the server's default
  bool ring_reads = true;
};

Figures RunOnce(int clients, double seconds, double rate, Modes modes) {
  Figures f;
  f.clients = clients;
  std::random_device rd;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("cairn-bench-fanout-" + std::to_string(rd())))
                              .string();
  uint16_t port = 0;
  pid_t pid = StartServer(dir, static_cast<size_t>(clients) + 64,
                          modes.ring_sends, port);
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

  Stats stats;
  stats.latencies_ms.reserve(static_cast<size_t>(rate * seconds * 1.2 + 2) *
                             static_cast<size_t>(clients));
  auto pool =
      std::make_unique<ClientPool>(port, clients, stats, modes.ring_reads);
  std::atomic<bool> stop{false};
  std::thread io([&] { pool->Run(stop); });
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
  const double server_cpu_before = CpuMs(pid);
  const double client_cpu_before = CpuMs(getpid());
  stats.measuring = true;
  const auto start = std::chrono::steady_clock::now();
  uint64_t checkins = 0;
  {
    cairn::gateway::HttpClient w("127.0.0.1", port);
    cairn::gateway::HeaderList auth = {
        {"Authorization", std::string("Bearer ") + kToken}};
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
      ++checkins;
    }
  }
  // Every check-in reaches every client: wait for all of them (late ones
  // count in the percentiles), up to 30 s.
  const uint64_t expected = checkins * uint64_t(stats.synced.load());
  const auto wait_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (stats.delivered < expected &&
         std::chrono::steady_clock::now() < wait_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  stats.measuring = false;
  const double server_cpu_ms = CpuMs(pid) - server_cpu_before;
  const double client_cpu_ms = CpuMs(getpid()) - client_cpu_before;
  stop = true;
  io.join();  // the latencies are the client thread's until here
  // From the first append to the last receipt.
  f.delivered_per_s = double(stats.delivered) / elapsed_s;
  {
    auto& v = stats.latencies_ms;
    std::sort(v.begin(), v.end());
    if (!v.empty()) {
      f.p50 = double(v[v.size() / 2]);
      f.p99 = double(v[std::min(v.size() - 1, v.size() * 99 / 100)]);
      f.max = double(v.back());
    }
  }
  std::printf(
      "clients %6d (synced %d, failed %d, dropped %d)  delivered %9.0f/s  p50 "
      "%5.0f ms  "
      "p99 %5.0f ms  max %5.0f ms  server RSS %.1f KiB/conn  "
      "CPU per message: server %.2f us, clients %.2f us\n",
      clients, stats.synced.load(), stats.failed.load(), stats.dropped.load(),
      f.delivered_per_s, f.p50, f.p99, f.max, f.rss_kib_per_conn,
      stats.delivered ? server_cpu_ms * 1000.0 / double(stats.delivered) : 0,
      stats.delivered ? client_cpu_ms * 1000.0 / double(stats.delivered) : 0);
  std::fflush(stdout);

  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pool.reset();
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
  Modes modes;
  constexpr const char* kUsage =
      "usage: fanout [--clients N] [--seconds S] [--rate R] "
      "[--server-sends ring|plain] [--client-reads ring|plain]\n";
  auto ring_or_plain = [&](const std::string& v, bool& out) {
    if (v != "ring" && v != "plain") {
      std::fprintf(stderr, "%s", kUsage);
      std::exit(2);
    }
    out = v == "ring";
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
    const char* value = argv[++i];
    if (arg == "--clients") {
      runs = {std::atoi(value)};
    } else if (arg == "--seconds") {
      seconds = std::atof(value);
    } else if (arg == "--rate") {
      rate = std::atof(value);
    } else if (arg == "--server-sends") {
      ring_or_plain(value, modes.ring_sends);
    } else if (arg == "--client-reads") {
      ring_or_plain(value, modes.ring_reads);
    } else {
      std::fprintf(stderr, "%s", kUsage);
      return 2;
    }
  }
  if (runs[0] <= 0 || seconds <= 0 || rate <= 0) {
    std::fprintf(stderr, "fanout: clients, seconds and rate must be > 0\n");
    return 2;
  }
  Figures last;
  for (int n : runs) last = RunOnce(n, seconds, rate, modes);
  std::printf(
      "{\"bench\":\"fanout\",\"clients\":%d,\"delivered_per_s\":%.0f,"
      "\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
      "\"rss_kib_per_conn\":%.2f}\n",
      last.clients, last.delivered_per_s, last.p50, last.p99, last.max,
      last.rss_kib_per_conn);
  return 0;
}
