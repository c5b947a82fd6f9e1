#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "http_session.hpp"
#include "server_metrics.hpp"

namespace cairn::gateway {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, Router& router, ServerMetrics& metrics,
                   size_t max_connections)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      router_(router),
      metrics_(metrics),
      max_connections_(max_connections) {}

Status Listener::Open(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{ErrorCode::kUnavailable,
                 "cannot listen on " + endpoint.address().to_string() + ":" +
                     std::to_string(endpoint.port()) + ": " + ec.message(),
                 {}};
  }
  port_ = acceptor_.local_endpoint().port();
  return Status::Ok();
}

void Listener::Run() { DoAccept(); }

void Listener::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::DoAccept() {
  acceptor_.async_accept(
      net::make_strand(ioc_),
      [self = shared_from_this()](boost::system::error_code ec,
                                  tcp::socket socket) {
        if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) {
          return;
        }
        if (!ec) {
          socket.set_option(tcp::no_delay(true), ec);
          if (static_cast<size_t>(self->metrics_.connections()) >=
              self->max_connections_) {
            RejectConnection(std::move(socket));
          } else {
            StartHttpSession(std::move(socket), self->router_, self->metrics_);
          }
        } else {
          spdlog::warn("accept failed: {}", ec.message());
        }
        self->DoAccept();
      });
}

}  // namespace cairn::gateway
