#include "router.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string_view>

#include "handlers/handlers.hpp"
#include "http_errors.hpp"
#include "read_pool.hpp"
#include "services.hpp"

namespace cairn::gateway {

namespace {

struct Route {
  std::string_view method;
  std::string_view pattern;  // segments; "{}" matches one segment
  Handler handler;
  bool needs_auth = true;
  // Answered on the read pool (services.hpp): reads that can take
  // milliseconds to tens of them on a large store. Any GET with `as_of`
  // goes there too (a write never does: its work is the writer's).
  bool heavy = false;
};

constexpr bool kHeavy = true;

// Every endpoint of API.md (and a few additions: GET /goals, GET /me,
// GET /metrics, admin backup).
constexpr Route kRoutes[] = {
    {"GET", "/healthz", GetHealth, false},
    {"GET", "/metrics", GetMetrics, false},
    {"GET", "/api/v1/events", ListEvents, true, kHeavy},
    {"POST", "/api/v1/units", CreateUnitHandler},
    {"GET", "/api/v1/units", ListUnits},
    {"GET", "/api/v1/units/{}", GetUnit},
    {"PATCH", "/api/v1/units/{}", EditUnitHandler},
    {"POST", "/api/v1/cycles", CreateCycleHandler},
    {"GET", "/api/v1/cycles", ListCycles},
    {"GET", "/api/v1/cycles/{}", GetCycle},
    {"POST", "/api/v1/cycles/{}/close", CloseCycleHandler},
    {"POST", "/api/v1/goals", CreateGoalHandler},
    {"GET", "/api/v1/goals", ListGoals, true, kHeavy},
    {"GET", "/api/v1/goals/{}", GetGoal},
    {"PATCH", "/api/v1/goals/{}", EditGoalHandler},
    {"POST", "/api/v1/goals/{}/status", ChangeGoalStatusHandler},
    {"POST", "/api/v1/goals/{}/check-ins", CheckInHandler},
    {"POST", "/api/v1/goals/{}/decompose", DecomposeHandler},
    {"GET", "/api/v1/goals/{}/history", GetGoalHistory, true, kHeavy},
    {"POST", "/api/v1/retro/notes", NoteRetroHandler},
    {"GET", "/api/v1/retro", GetRetro, true, kHeavy},
    {"GET", "/api/v1/diff", GetDiff, true, kHeavy},
    {"POST", "/api/v1/metrics", DefineMetricHandler},
    {"GET", "/api/v1/metrics", ListMetrics, true, kHeavy},
    {"GET", "/api/v1/metrics/{}", GetMetric, true, kHeavy},
    {"POST", "/api/v1/metrics/{}/values", RecordMetricHandler},
    {"GET", "/api/v1/boards/{}", GetBoard, true, kHeavy},
    {"GET", "/api/v1/scorecards/{}", GetScorecard, true, kHeavy},
    {"POST", "/api/v1/tokens", CreateTokenHandler},
    {"GET", "/api/v1/tokens", ListTokens},
    {"GET", "/api/v1/me", GetMe},
    {"DELETE", "/api/v1/tokens/{}", RevokeTokenHandler},
    {"POST", "/api/v1/admin/backup", AdminBackup, true, kHeavy},
};

// Matches the decoded segments against a pattern; fills params. Walks the
// pattern in place: this runs for every route tried on every request.
bool Match(std::string_view pattern, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
  const auto parts =
      static_cast<size_t>(std::count(pattern.begin(), pattern.end(), '/'));
  if (parts != segments.size()) return false;
  params.clear();
  size_t i = 1;
  for (const std::string& segment : segments) {
    size_t j = pattern.find('/', i);
    if (j == std::string_view::npos) j = pattern.size();
    const std::string_view part = pattern.substr(i, j - i);
    if (part == "{}") {
      if (segment.empty()) return false;
      params.push_back(segment);
    } else if (part != segment) {
      return false;
    }
    i = j + 1;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool ParseTarget(const std::string& target, Request& request) {
  if (target.empty() || target[0] != '/') return false;
  size_t q = target.find('?');
  std::string_view path = std::string_view(target).substr(0, q);
  request.path = std::string(path);
  request.segments.clear();
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string seg;
    if (!PercentDecode(path.substr(i, j - i), seg)) return false;
    request.segments.push_back(std::move(seg));
    i = j + 1;
  }
  // A trailing slash leaves one empty segment; drop it (but keep "/").
  if (request.segments.size() > 1 && request.segments.back().empty()) {
    request.segments.pop_back();
  }
  request.query.clear();
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(target).substr(q + 1);
    size_t k = 0;
    while (k <= qs.size()) {
      size_t amp = qs.find('&', k);
      if (amp == std::string_view::npos) amp = qs.size();
      std::string_view pair = qs.substr(k, amp - k);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        std::string key, value;
        if (!PercentDecode(pair.substr(0, eq), key)) return false;
        if (eq != std::string_view::npos &&
            !PercentDecode(pair.substr(eq + 1), value)) {
          return false;
        }
        request.query[key] = value;
      }
      k = amp + 1;
    }
  }
  return true;
}

Response FinishResponse(Response r) {
  if (!r.render_later) return r;
  Response done = r.render_later();
  done.route = std::move(r.route);
  done.actor = std::move(r.actor);
  done.head_only = done.head_only || r.head_only;
  return done;
}

Router::Router(Services& services) : services_(services) {}

void Router::Handle(Request request, Reply reply, bool defer_rendering) {
  services_.in_flight.fetch_add(1);
  Services* services = &services_;
  Reply answer = [services, reply = std::move(reply),
                  defer_rendering](Response r) {
    reply(defer_rendering ? std::move(r) : FinishResponse(std::move(r)));
    services->in_flight.fetch_sub(1);
  };
  if (!ParseTarget(request.target, request)) {
    Response r =
        ErrorResponse(ErrorCode::kValidationFailed, "malformed request target");
    r.status = 400;
    r.route = "bad_target";
    return answer(std::move(r));
  }
  bool is_api = !request.segments.empty() && request.segments[0] == "api";
  std::vector<std::string> params;
  const Route* found = nullptr;
  bool path_known = false;
  for (const Route& route : kRoutes) {
    if (!Match(route.pattern, request.segments, params)) continue;
    path_known = true;
    if (route.method == request.method ||
        (route.method == "GET" && request.method == "HEAD")) {
      found = &route;
      break;
    }
  }
  if (found == nullptr) {
    if (!is_api && !path_known &&
        (request.method == "GET" || request.method == "HEAD")) {
      Response r = services_.static_files->Serve(request);
      r.route = "static";
      return answer(std::move(r));
    }
    Response r =
        path_known
            ? ErrorResponse(ErrorCode::kNotFound, "method not allowed here")
            : ErrorResponse(ErrorCode::kNotFound, "no such endpoint");
    if (path_known) r.status = 405;
    r.route = "unmatched";
    return answer(std::move(r));
  }
  Call call;
  call.services = &services_;
  call.route = std::string(found->pattern);
  if (found->needs_auth) {
    auto state = services_.sequencer->Snapshot();
    Result<Principal> who =
        services_.auth->Authenticate(request.authorization, *state);
    if (!who) {
      Response r = ErrorResponse(who.error());
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      r.route = call.route;
      return answer(std::move(r));
    }
    int retry_after = 1;
    if (!services_.auth->Admit(who->name, retry_after)) {
      Response r = ErrorResponse(ErrorCode::kRateLimited,
                                 "too many requests for this token");
      r.headers.emplace_back("Retry-After", std::to_string(retry_after));
      r.route = call.route;
      r.actor = who->name;
      return answer(std::move(r));
    }
    call.principal = std::move(*who);
  }
  call.request = std::move(request);
  call.params = std::move(params);
  bool head_only = call.request.method == "HEAD";
  call.reply = [answer = std::move(answer), route = call.route,
                actor = call.principal.name, head_only](Response r) {
    r.route = route;
    r.actor = actor;
    r.head_only = r.head_only || head_only;
    answer(std::move(r));
  };
  ReadPool* pool = services_.reads;
  const bool as_of =
      found->method == "GET" && call.request.query.count("as_of") > 0;
  if (pool == nullptr || !(found->heavy || as_of)) {
    return found->handler(std::move(call));
  }
  auto heavy = std::make_shared<Call>(std::move(call));
  const bool queued = pool->Submit([handler = found->handler, heavy](bool run) {
    if (run) return handler(std::move(*heavy));
    heavy->reply(ErrorResponse(ErrorCode::kUnavailable, "shutting down"));
  });
  if (queued) return;
  Response r =
      services_.stopping.load()
          ? ErrorResponse(ErrorCode::kUnavailable, "shutting down")
          : ErrorResponse(ErrorCode::kUnavailable,
                          "too many heavy reads queued; retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  heavy->reply(std::move(r));
}

}  // namespace cairn::gateway
