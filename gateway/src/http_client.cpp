#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace cairn::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  net::io_context ioc;
  std::optional<tcp::socket> socket;
  beast::flat_buffer buffer;
};

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) return v;
  }
  return {};
}

HttpClient::HttpClient(std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { Close(); }

bool HttpClient::Connect() {
  Close();
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->host, ec);
  if (ec) {
    tcp::resolver resolver(impl_->ioc);
    auto results =
        resolver.resolve(impl_->host, std::to_string(impl_->port), ec);
    if (ec || results.empty()) return false;
    address = results.begin()->endpoint().address();
  }
  impl_->socket.emplace(impl_->ioc);
  impl_->socket->connect({address, impl_->port}, ec);
  if (ec) {
    impl_->socket.reset();
    return false;
  }
  impl_->socket->set_option(tcp::no_delay(true), ec);
  impl_->buffer.clear();
  return true;
}

void HttpClient::Close() {
  if (impl_->socket) {
    beast::error_code ec;
    impl_->socket->shutdown(tcp::socket::shutdown_both, ec);
    impl_->socket->close(ec);
    impl_->socket.reset();
  }
}

namespace {

ClientResponse ReadResponse(tcp::socket& socket, beast::flat_buffer& buffer,
                            bool& keep_alive) {
  ClientResponse out;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64ull << 20);
  beast::error_code ec;
  http::read(socket, buffer, parser, ec);
  if (ec) {
    out.error = ec.message();
    keep_alive = false;
    return out;
  }
  auto res = parser.release();
  out.status = res.result_int();
  for (const auto& f : res) {
    out.headers.emplace_back(std::string(f.name_string()),
                             std::string(f.value()));
  }
  out.body = std::move(res.body());
  keep_alive = res.keep_alive();
  return out;
}

}  // namespace

ClientResponse HttpClient::Send(const std::string& method,
                                const std::string& target,
                                const std::string& body,
                                const HeaderList& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, impl_->host);
  bool has_type = false;
  for (const auto& [n, v] : headers) {
    req.set(n, v);
    if (beast::iequals(n, "Content-Type")) has_type = true;
  }
  if (!body.empty() && !has_type) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = body;
  req.prepare_payload();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->socket && !Connect()) {
      ClientResponse r;
      r.error = "cannot connect to " + impl_->host + ":" +
                std::to_string(impl_->port);
      return r;
    }
    beast::error_code ec;
    http::write(*impl_->socket, req, ec);
    if (ec) {
      Close();
      continue;
    }
    bool keep_alive = true;
    ClientResponse r = ReadResponse(*impl_->socket, impl_->buffer, keep_alive);
    if (r.status == 0 && attempt == 0) {
      // A kept-alive connection the server had closed: retry once.
      Close();
      continue;
    }
    if (!keep_alive) Close();
    return r;
  }
  ClientResponse r;
  r.error = "connection lost";
  return r;
}

ClientResponse HttpClient::SendRaw(const std::string& bytes) {
  if (!impl_->socket && !Connect()) {
    ClientResponse r;
    r.error = "cannot connect";
    return r;
  }
  beast::error_code ec;
  net::write(*impl_->socket, net::buffer(bytes), ec);
  if (ec) {
    ClientResponse r;
    r.error = ec.message();
    Close();
    return r;
  }
  bool keep_alive = true;
  ClientResponse r = ReadResponse(*impl_->socket, impl_->buffer, keep_alive);
  if (!keep_alive) Close();
  return r;
}

bool ParseHostPort(const std::string& text, std::string& host, uint16_t& port) {
  std::string t = text;
  if (t.rfind("http://", 0) == 0) t = t.substr(7);
  while (!t.empty() && t.back() == '/') t.pop_back();
  size_t colon = t.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == t.size()) {
    return false;
  }
  std::string p = t.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long v = std::stoul(p);
  if (v > 65535) return false;
  host = t.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace cairn::gateway
