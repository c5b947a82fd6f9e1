// Routing: the plain request/response values the handlers see (no Beast
// types), and the Router that maps method + path to a handler.
//
//   Router router(services);
//   router.Handle(std::move(request), [](Response r) { ... });  // any thread
//
// `/api/...` requests are authenticated (Bearer token) and rate limited
// before their handler runs; `/healthz` and `/metrics` need no token; every
// other GET/HEAD is a static file. A handler replies exactly once, possibly
// later from another thread (writes reply from the Sequencer's thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cairn::gateway {

struct Request {
  std::string method;                        // "GET", "POST", ...
  std::string target;                        // as sent: path and query
  std::string path;                          // the path part, not decoded
  std::vector<std::string> segments;         // path segments, percent-decoded
  std::map<std::string, std::string> query;  // decoded; last value wins
  std::string body;
  // Headers the server uses (empty when absent).
  std::string authorization;
  std::string content_type;
  std::string accept;
  std::string if_match;
  std::string if_none_match;
  std::string idempotency_key;
  bool has_idempotency_key = false;
  std::chrono::steady_clock::time_point received;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // For the access log and /metrics: the route pattern and the token's name.
  std::string route;
  std::string actor;
  bool head_only = false;  // HEAD: send headers, no body
  // When set, the reply is not rendered yet: FinishResponse calls this (on
  // the thread that sends the reply, off the writer thread) and its status,
  // content type, headers and body replace the ones above.
  std::function<Response()> render_later;
};

// Renders a reply whose rendering was deferred (render_later); route, actor
// and head_only are kept. Returns `r` unchanged otherwise.
Response FinishResponse(Response r);

// Called once with the response; may be called from any thread.
using Reply = std::function<void(Response)>;

struct Services;

class Router {
 public:
  explicit Router(Services& services);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Routes the request and replies exactly once. With `defer_rendering`,
  // a write's reply may come unrendered (Response::render_later set, from
  // the writer thread): the caller runs FinishResponse on its own thread.
  // Without it, every reply is finished before `reply` is called.
  void Handle(Request request, Reply reply, bool defer_rendering = false);
  Services& services() { return services_; }

 private:
  Services& services_;
};

// Splits `target` into path, decoded segments and decoded query. False when
// the target is malformed (bad percent-encoding, not starting with '/').
bool ParseTarget(const std::string& target, Request& request);
// Percent-decodes `s` ('+' stays '+'). False on a malformed escape.
bool PercentDecode(std::string_view s, std::string& out);

}  // namespace cairn::gateway
