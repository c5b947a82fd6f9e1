#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "http_session.hpp"
#include "server_metrics.hpp"

namespace cairn::gateway {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(const std::vector<std::unique_ptr<IoThread>>& io,
                   Router& router, ServerMetrics& metrics,
                   size_t max_connections,
                   std::chrono::milliseconds read_timeout)
    : io_(io),
      acceptor_(io.front()->ioc),
      retry_(io.front()->ioc),
      router_(router),
      metrics_(metrics),
      max_connections_(max_connections),
      read_timeout_(read_timeout) {}

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
    self->retry_.cancel();
  });
}

IoThread& Listener::LeastBusy() const {
  IoThread* best = io_.front().get();
  for (const auto& t : io_) {
    if (t->connections.load(std::memory_order_relaxed) <
        best->connections.load(std::memory_order_relaxed)) {
      best = t.get();
    }
  }
  return *best;
}

void Listener::DoAccept() {
  acceptor_.async_accept([self = shared_from_this()](
                             boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) {
      return;
    }
    if (ec) {
      // EMFILE and the like: the connection waits in the kernel's queue
      // and the next accept would fail at once. Try again later.
      if (self->failed_accepts_++ == 0) {
        spdlog::warn("accept failed: {}; retrying every {} ms", ec.message(),
                     kAcceptRetry.count());
      }
      self->retry_.expires_after(kAcceptRetry);
      self->retry_.async_wait([self](boost::system::error_code wait_ec) {
        if (!wait_ec && self->acceptor_.is_open()) self->DoAccept();
      });
      return;
    }
    if (self->failed_accepts_ > 0) {
      spdlog::warn("accepting again after {} failed accepts",
                   self->failed_accepts_);
      self->failed_accepts_ = 0;
    }
    if (static_cast<size_t>(self->metrics_.connections()) >=
        self->max_connections_) {
      RejectConnection(std::move(socket));
    } else {
      self->Serve(std::move(socket));
    }
    self->DoAccept();
  });
}

void Listener::Serve(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  // Chosen now, not when the accept began: connections may have closed
  // meanwhile. The socket was accepted on the first thread's io_context.
  IoThread& io = LeastBusy();
  if (&io == io_.front().get()) {
    return StartHttpSession(std::move(socket), io.connections, router_,
                            metrics_, read_timeout_);
  }
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return;  // the peer is gone already
  const tcp::socket::native_handle_type fd = socket.release(ec);
  if (ec) return;
  StartHttpSession(tcp::socket(io.ioc, local.protocol(), fd), io.connections,
                   router_, metrics_, read_timeout_);
}

}  // namespace cairn::gateway
