// Accepts connections on one endpoint and starts an HttpSession for each on
// its own strand. Past `max_connections` live connections a new one gets a
// 503 and is closed.
//
//   auto l = std::make_shared<Listener>(ioc, endpoint, router, metrics, 4096);
//   l->Run();      // l->port() is the bound port (0 asks for any)
//   l->Stop();     // stops accepting; live sessions go on
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "cairn/core/error.hpp"

namespace cairn::gateway {

class Router;
class ServerMetrics;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, Router& router, ServerMetrics& metrics,
           size_t max_connections);
  // Binds and listens. kUnavailable when the address is taken or invalid.
  Status Open(const boost::asio::ip::tcp::endpoint& endpoint);
  void Run();
  // Stops accepting (thread-safe: posts to the acceptor's strand).
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Router& router_;
  ServerMetrics& metrics_;
  size_t max_connections_;
  uint16_t port_ = 0;
};

}  // namespace cairn::gateway
