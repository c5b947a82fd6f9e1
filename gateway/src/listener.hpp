// Accepts connections on one endpoint and starts an HttpSession for each on
// the I/O thread that serves the fewest connections. Past `max_connections`
// live connections a new one gets a 503 and is closed. When an accept fails
// (out of file descriptors: the connection stays in the kernel's queue) the
// listener waits kAcceptRetry before the next, rather than spinning on it,
// and logs the first failure of a run and the recovery.
//
//   std::vector<std::unique_ptr<IoThread>> io = ...;  // one per thread
//   auto l = std::make_shared<Listener>(io, router, metrics, 4096,
//                                       kReadTimeout);
//   l->Open(endpoint);
//   l->Run();      // l->port() is the bound port (0 asks for any)
//   l->Stop();     // stops accepting; live sessions go on
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "cairn/core/error.hpp"

namespace cairn::gateway {

class Router;
class ServerMetrics;

// One HTTP I/O thread: a single-threaded io_context, which is the strand of
// every connection it serves (no strand per connection, no handler ever
// waiting on another thread), and how many connections it serves. The
// thread runs ioc.run(); `work` keeps it running while it has none.
struct IoThread {
  std::atomic<int> connections{0};  // declared first: outlives the sessions
  boost::asio::io_context ioc{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      ioc.get_executor()};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  static constexpr std::chrono::milliseconds kAcceptRetry{100};

  // Accepts on io.front(); `io` must outlive the listener's handlers.
  // `read_timeout`: each session's (StartHttpSession).
  Listener(const std::vector<std::unique_ptr<IoThread>>& io, Router& router,
           ServerMetrics& metrics, size_t max_connections,
           std::chrono::milliseconds read_timeout);
  // Binds and listens. kUnavailable when the address is taken or invalid.
  Status Open(const boost::asio::ip::tcp::endpoint& endpoint);
  void Run();
  // Stops accepting (thread-safe: posts to the acceptor's thread).
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();
  // Starts the connection's session on the least busy I/O thread.
  void Serve(boost::asio::ip::tcp::socket socket);
  IoThread& LeastBusy() const;

  const std::vector<std::unique_ptr<IoThread>>& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept
  uint64_t failed_accepts_ = 0;      // in a row
  Router& router_;
  ServerMetrics& metrics_;
  size_t max_connections_;
  std::chrono::milliseconds read_timeout_;
  uint16_t port_ = 0;
};

}  // namespace cairn::gateway
