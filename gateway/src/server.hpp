// The server process: opens the store, rebuilds the State, starts the
// Sequencer, N I/O threads, N live-session threads and the listener.
//
//   ServerOptions opts{.data_dir = "cairn-data", .port = 0};
//   Result<std::unique_ptr<Server>> s = Server::Start(opts);
//   std::cout << (*s)->url();     // http://127.0.0.1:<port>
//   (*s)->Stop();                 // graceful; also done by the destructor
//
// Stop: stops accepting, finishes every queued write (each durable and
// answered), waits briefly for in-flight replies, then stops the I/O threads
// and closes the store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cairn/core/error.hpp"
#include "limits.hpp"

namespace cairn::eventstore {
class EventStore;
class WriteFaults;
}  // namespace cairn::eventstore

namespace cairn::gateway {

class Sequencer;

struct ServerOptions {
  // The store's folder. Default: "cairn-data" under the working directory.
  std::string data_dir = "cairn-data";
  // Default: 127.0.0.1:8080. Port 0 picks a free port (see Server::port()).
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  // The start-up admin token's secret. Default: empty (no admin token).
  std::string admin_token;
  // Feed the demo company on first start of an empty store. Default: false.
  bool demo = false;
  // Folder of the browser files. Default: empty (everything static is 404).
  std::string static_dir;
  // I/O threads (each a single-threaded io_context serving its share of the
  // HTTP connections; listener.hpp), and as many live-session threads
  // (LiveShards).
  // Default: 0 = the number of cores.
  unsigned io_threads = 0;
  // Threads for heavy reads (views as of a past moment, diffs, retros,
  // boards, scorecards, goal lists and histories, a metric's points, the
  // event log, backups, live resumes' backlogs; read_pool.hpp), so that
  // they never hold an I/O or live thread. 0: heavy reads run on the
  // thread that took the request. Default: -1 = the number of cores.
  int read_threads = -1;
  // Heavy reads waiting for a read thread; past it they get 503.
  // Default: kMaxQueuedReads.
  size_t max_queued_reads = kMaxQueuedReads;
  // Default: kMaxConnections.
  size_t max_connections = kMaxConnections;
  // Time a request has to arrive whole, from the connection's start or the
  // last reply (an idle keep-alive connection closes after it too).
  // Default: kReadTimeout.
  std::chrono::milliseconds read_timeout = kReadTimeout;
  // Per-token requests per second (<= 0: off) and burst.
  // Default: kRateLimitPerSecond, kRateLimitBurst.
  double rate_limit = kRateLimitPerSecond;
  double rate_burst = kRateLimitBurst;
  // fsync every append (only speed-ceiling benchmarks turn it off).
  // Default: true.
  bool sync = true;
  // Write the access log (spdlog, one line per request). Default: true.
  bool access_log = true;
  // Live snapshots of one board at one position share one rendering and its
  // bytes (BoardCache). Off only for bench/snapshots' baseline, where each
  // subscriber's board is rendered for it. Default: true.
  bool share_snapshot_boards = true;
  // Free memory each malloc arena keeps at its top instead of handing it
  // back to the system (glibc M_TOP_PAD; 0: leave the allocator as it is).
  // Live fan-out allocates and frees a few MB per event (one send per
  // client); with glibc's default 128 KiB the arenas shrank and regrew,
  // page faults included, for every event: 16 MiB cut the server's CPU per
  // delivered message by a fifth (bench/fanout). Process-wide, set at Start.
  // Only where glibc's malloc serves the process: the default build links
  // jemalloc (CAIRN_JEMALLOC), which keeps freed pages for reuse by itself
  // and is not tuned by this. Default: 16 MiB.
  size_t malloc_top_pad = size_t{16} << 20;
  // Live sessions write through one io_uring per live thread, a batch of
  // sends per system call (see send_ring.hpp); where the kernel refuses
  // io_uring they write one send at a time, as with false. Default: true.
  bool live_send_ring = true;
  // Test-only: makes the store's file writes fail on cue (disk full; see
  // cairn/eventstore/write_faults.hpp). Default: null (none).
  std::shared_ptr<eventstore::WriteFaults> store_faults;
};

class Server {
 public:
  // Opens the store and starts serving. kUnavailable when the store is held
  // by another process or the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  std::string url() const;
  uint64_t Head() const;
  eventstore::EventStore& store();
  Sequencer& sequencer();
  // Graceful stop (see above). Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::gateway
