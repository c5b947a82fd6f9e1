// A blocking WebSocket client for the gateway's fault and load tests: a real
// Beast client on 127.0.0.1 talking to /api/v1/live, with a deadline on
// every read so that a hung server fails a test instead of hanging it.
//
//   LiveClient c(port, token);
//   if (!c.ok()) ...                       // handshake failed
//   c.Send(R"({"op":"subscribe","sub":"s","unit":"co","from":0})");
//   LiveMsg m = c.Read(5s);                // op "event", "synced", ...
//                                          // or "close" / "timeout"
//
// Not thread-safe: one client per thread.
#pragma once

#include <simdjson.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <string>

namespace cairn::gateway {

// One message from the server, parsed.
struct LiveMsg {
  std::string op;  // "event", "synced", "snapshot", "error", "pong";
                   // "close" when the connection ended, "timeout"
  std::string sub;
  uint64_t position = 0;
  std::string epoch;
  std::string error_code;
  uint16_t close_code = 0;
  std::string raw;
};

class LiveClient {
 public:
  LiveClient(uint16_t port, const std::string& token) {
    namespace net = boost::asio;
    namespace http = boost::beast::http;
    namespace websocket = boost::beast::websocket;
    auto& stream = boost::beast::get_lowest_layer(ws_);
    stream.expires_after(std::chrono::seconds(10));
    stream.socket().open(net::ip::tcp::v4(), ec_);
    if (ec_) return;
    stream.socket().connect({net::ip::make_address("127.0.0.1"), port}, ec_);
    if (ec_) return;
    // As browsers do: each message leaves at once.
    stream.socket().set_option(net::ip::tcp::no_delay(true), ec_);
    if (ec_) return;
    ws_.set_option(websocket::stream_base::decorator(
        [token](websocket::request_type& req) {
          req.set(http::field::authorization, "Bearer " + token);
        }));
    ws_.read_message_max(8 << 20);
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/api/v1/live", ec_);
  }
  ~LiveClient() { Abort(); }
  LiveClient(const LiveClient&) = delete;
  LiveClient& operator=(const LiveClient&) = delete;

  bool ok() const { return !ec_; }
  std::string error() const { return ec_.message(); }

  // False when the write failed (the connection is gone).
  bool Send(const std::string& text) {
    boost::beast::error_code wec;
    ws_.text(true);
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
    ws_.write(boost::asio::buffer(text), wec);
    return !wec;
  }

  // The next message, or op "close" / "timeout".
  LiveMsg Read(std::chrono::milliseconds timeout) {
    namespace beast = boost::beast;
    LiveMsg m;
    beast::flat_buffer buf;
    beast::get_lowest_layer(ws_).expires_after(timeout);
    beast::error_code rec;
    ws_.async_read(buf, [&](beast::error_code e, size_t) { rec = e; });
    ioc_.restart();
    ioc_.run();
    if (rec == beast::error::timeout) {
      m.op = "timeout";
      return m;
    }
    if (rec) {
      m.op = "close";
      m.close_code = ws_.reason().code;
      return m;
    }
    m.raw = beast::buffers_to_string(buf.data());
    simdjson::dom::element doc;
    if (parser_.parse(m.raw).get(doc) != simdjson::SUCCESS) {
      m.op = "unparseable";
      return m;
    }
    std::string_view sv;
    if (doc["op"].get_string().get(sv) == simdjson::SUCCESS) m.op = sv;
    if (doc["sub"].get_string().get(sv) == simdjson::SUCCESS) m.sub = sv;
    uint64_t u = 0;
    if (doc["position"].get_uint64().get(u) == simdjson::SUCCESS) {
      m.position = u;
    }
    if (doc["epoch"].get_string().get(sv) == simdjson::SUCCESS) m.epoch = sv;
    if (doc["error"]["code"].get_string().get(sv) == simdjson::SUCCESS) {
      m.error_code = sv;
    }
    return m;
  }

  // A clean close handshake (bounded).
  void Close() {
    boost::beast::error_code cec;
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
    ws_.close(boost::beast::websocket::close_code::normal, cec);
  }

  // Drops the TCP connection without a close handshake.
  void Abort() {
    boost::beast::error_code cec;
    boost::beast::get_lowest_layer(ws_).socket().close(cec);
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
  boost::beast::error_code ec_;
  simdjson::dom::parser parser_;
};

// A subscribe message; `from` < 0 leaves it out.
inline std::string SubscribeMessage(const std::string& sub,
                                    const std::string& unit, int depth,
                                    const std::string& cycle, int64_t from,
                                    const std::string& epoch = "") {
  std::string m = R"({"op":"subscribe","sub":")" + sub + R"(","unit":")" +
                  unit + R"(","depth":)" + std::to_string(depth);
  if (!cycle.empty()) m += R"(,"cycle":")" + cycle + "\"";
  if (from >= 0) m += R"(,"from":)" + std::to_string(from);
  if (!epoch.empty()) m += R"(,"epoch":")" + epoch + "\"";
  return m + "}";
}

}  // namespace cairn::gateway
