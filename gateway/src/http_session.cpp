#include "http_session.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <optional>

#include "http_errors.hpp"
#include "limits.hpp"
#include "router.hpp"
#include "server_metrics.hpp"
#include "services.hpp"
#include "websocket_session.hpp"

namespace cairn::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string HeaderOf(const http::request<http::string_body>& req,
                     http::field f) {
  auto it = req.find(f);
  return it == req.end() ? std::string() : std::string(it->value());
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, std::atomic<int>& connections,
              Router& router, ServerMetrics& metrics,
              std::chrono::milliseconds read_timeout)
      : stream_(std::move(socket)),
        connections_(connections),
        router_(router),
        metrics_(metrics),
        read_timeout_(read_timeout) {
    connections_.fetch_add(1, std::memory_order_relaxed);
    metrics_.ConnectionOpened();
  }
  ~HttpSession() {
    metrics_.ConnectionClosed();
    connections_.fetch_sub(1, std::memory_order_relaxed);
  }

  void Run() {
    // Replies are first written without waiting (Send); async operations
    // are not affected by the flag.
    beast::error_code ec;
    stream_.socket().non_blocking(true, ec);
    net::dispatch(
        stream_.get_executor(),
        beast::bind_front_handler(&HttpSession::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(read_timeout_);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    started_ = std::chrono::steady_clock::now();
    const auto& req = parser_->get();
    // A declared body past the limit is refused before any of it is read.
    if (auto len = parser_->content_length(); len && *len > kMaxBodyBytes) {
      return Fail(ErrorResponse(ErrorCode::kPayloadTooLarge,
                                "request bodies are limited to 1 MiB"),
                  "body_limit");
    }
    if (req.target().size() > kMaxTargetBytes) {
      Response r = ErrorResponse(ErrorCode::kValidationFailed,
                                 "request target too long");
      r.status = 414;
      return Fail(std::move(r), "target_limit");
    }
    // Usually the body came in with the head: parse it from the buffer here
    // rather than through another trip round the io_context.
    parser_->eager(true);
    while (!parser_->is_done() && buffer_.size() > 0) {
      beast::error_code put_ec;
      const size_t used = parser_->put(buffer_.data(), put_ec);
      buffer_.consume(used);
      if (put_ec == http::error::need_more) break;
      if (put_ec) return OnReadError(put_ec);
      if (used == 0) break;
    }
    if (parser_->is_done()) return OnRead({}, 0);
    http::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::OnRead, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Fail(ErrorResponse(ErrorCode::kPayloadTooLarge,
                                "request bodies are limited to 1 MiB"),
                  "body_limit");
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      Response r =
          ErrorResponse(ErrorCode::kValidationFailed, "request head too large");
      r.status = 431;
      return Fail(std::move(r), "header_limit");
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      return DoClose();
    }
    if (ec.category() ==
            http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::bad_target || ec == http::error::bad_method) {
      return Fail(ErrorResponse(ErrorCode::kBadJson,
                                "malformed HTTP request: " + ec.message()),
                  "bad_request");
    }
    DoClose();
  }

  // Answers `r` and closes the connection (the request was not read whole).
  void Fail(Response r, const char* route) {
    started_ = std::chrono::steady_clock::now();
    method_ = "-";
    r.route = route;
    close_after_ = true;
    linger_ = true;
    Send(std::move(r));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    const LiveContext* live = router_.services().live;
    if (live != nullptr && beast::websocket::is_upgrade(parser_->get()) &&
        parser_->get().target().starts_with("/api/v1/live")) {
      // The WebSocket session owns the socket from here on.
      stream_.expires_never();
      beast::error_code nb;
      stream_.socket().non_blocking(false, nb);
      RunWebSocketSession(stream_.release_socket(), parser_->release(), *live);
      return;
    }
    http::request<http::string_body> req = parser_->release();
    Request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.received = started_;
    r.authorization = HeaderOf(req, http::field::authorization);
    r.content_type = HeaderOf(req, http::field::content_type);
    r.accept = HeaderOf(req, http::field::accept);
    r.if_match = HeaderOf(req, http::field::if_match);
    r.if_none_match = HeaderOf(req, http::field::if_none_match);
    if (auto it = req.find("Idempotency-Key"); it != req.end()) {
      r.has_idempotency_key = true;
      r.idempotency_key = std::string(it->value());
    }
    r.body = std::move(req.body());
    method_ = r.method;
    close_after_ = !req.keep_alive();
    version_ = req.version();
    // The reply may come from the writer thread, unrendered: hop back to
    // our thread, where Send renders it (the writer never renders bodies).
    router_.Handle(
        std::move(r),
        [self = shared_from_this()](Response res) {
          net::post(self->stream_.get_executor(),
                    [self, res = std::move(res)]() mutable {
                      self->Send(std::move(res));
                    });
        },
        /*defer_rendering=*/true);
  }

  void Send(Response r) {
    r = FinishResponse(std::move(r));
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - started_)
                      .count();
    metrics_.RecordRequest(r.route.empty() ? "other" : r.route, r.status, secs);
    spdlog::info("{} {} {} {:.3f}ms actor={}", method_,
                 r.route.empty() ? "other" : r.route, r.status, secs * 1000,
                 r.actor.empty() ? "-" : r.actor);
    res_.emplace();
    res_->version(version_);
    res_->result(r.status);
    SetAnswerHeaders(*res_);  // then the response's own may replace them
    if (r.status != 304 && r.status != 204) {
      res_->set(http::field::content_type, r.content_type);
    }
    for (auto& [name, value] : r.headers) res_->set(name, value);
    res_->keep_alive(!close_after_);
    if (r.head_only) {
      res_->content_length(r.body.size());
    } else {
      res_->body() = std::move(r.body);
      res_->prepare_payload();
    }
    stream_.expires_after(read_timeout_);
    serializer_.emplace(*res_);
    if (r.head_only) serializer_->split(true);
    // A reply nearly always fits the socket's buffer: write it now, and go
    // on to the next request without a trip through the io_context for
    // the completion. Only what does not fit waits for the socket.
    beast::error_code ec;
    size_t written = 0;
    auto done = [&] {
      return r.head_only ? serializer_->is_header_done()
                         : serializer_->is_done();
    };
    while (!done() && !ec)
      written += http::write_some(stream_.socket(), *serializer_, ec);
    if (done()) return OnWrite({}, written);
    if (ec != net::error::would_block && ec != net::error::try_again) {
      return OnWrite(ec, written);
    }
    auto on_write =
        beast::bind_front_handler(&HttpSession::OnWrite, shared_from_this());
    if (r.head_only) {
      http::async_write_header(stream_, *serializer_, std::move(on_write));
    } else {
      http::async_write(stream_, *serializer_, std::move(on_write));
    }
  }

  void OnWrite(beast::error_code ec, size_t) {
    serializer_.reset();
    res_.reset();
    if (!ec && linger_) return DoLingeringClose();
    if (ec || close_after_) return DoClose();
    DoRead();
  }

  // After refusing a request whose body was not read, closing at once would
  // make the kernel reset the connection while the client is still sending,
  // and the client would lose the reply. Half-close, then discard what the
  // client still sends, for a bounded time and amount.
  void DoLingeringClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTimeout);
    DrainSome({}, 0);
  }

  void DrainSome(beast::error_code ec, size_t n) {
    drained_ += n;
    if (ec || drained_ > kLingerMaxBytes) return stream_.close();
    stream_.async_read_some(
        net::buffer(drain_buf_),
        beast::bind_front_handler(&HttpSession::DrainSome, shared_from_this()));
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::atomic<int>& connections_;
  // Room for a whole head at the limit and then some: a head past the limit
  // is then refused as such (431) rather than as an overflow of the buffer.
  beast::flat_buffer buffer_{2 * kMaxHeaderBytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  Router& router_;
  ServerMetrics& metrics_;
  const std::chrono::milliseconds read_timeout_;
  std::chrono::steady_clock::time_point started_;
  std::string method_;
  unsigned version_ = 11;
  bool linger_ = false;
  size_t drained_ = 0;
  std::array<char, 16384> drain_buf_{};
  bool close_after_ = false;
};

}  // namespace

void StartHttpSession(tcp::socket socket, std::atomic<int>& connections,
                      Router& router, ServerMetrics& metrics,
                      std::chrono::milliseconds read_timeout) {
  std::make_shared<HttpSession>(std::move(socket), connections, router, metrics,
                                read_timeout)
      ->Run();
}

void RejectConnection(tcp::socket socket) {
  struct Rejection {
    tcp::socket socket;
    std::string text;
  };
  auto r = std::make_shared<Rejection>(Rejection{std::move(socket), {}});
  std::string body =
      R"({"error":{"code":"unavailable","message":"too many connections"}})";
  r->text =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
      "application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  net::async_write(r->socket, net::buffer(r->text),
                   [r](beast::error_code, size_t) {
                     beast::error_code ec;
                     r->socket.shutdown(tcp::socket::shutdown_both, ec);
                     r->socket.close(ec);
                   });
}

}  // namespace cairn::gateway
