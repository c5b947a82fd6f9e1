// A small synchronous HTTP/1.1 client over one keep-alive connection, for
// the command line (talking to a running server), the integration tests and
// the HTTP benchmark.
//
//   HttpClient c("127.0.0.1", 8080);
//   ClientResponse r = c.Send("POST", "/api/v1/goals", body,
//                             {{"Authorization", "Bearer " + token}});
//   if (r.status == 201) ...
//
// Reconnects once when the server closed the kept-alive connection. Not
// thread-safe: one client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cairn::gateway {

struct ClientResponse {
  unsigned status = 0;  // 0: no response (connection failed)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string error;  // why status is 0

  // The header's value ("" when absent); names compare case-insensitively.
  std::string Header(std::string_view name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  ClientResponse Send(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const HeaderList& headers = {});
  // Sends raw bytes and reads one response (for malformed-request tests).
  ClientResponse SendRaw(const std::string& bytes);
  bool Connect();
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" (or "http://HOST:PORT[/]"). False when malformed.
bool ParseHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace cairn::gateway
