#include <cctype>

#include "cairn/core/decide.hpp"
#include "cairn/core/time.hpp"
#include "handlers/handlers.hpp"
#include "http_errors.hpp"
#include "limits.hpp"

namespace cairn::gateway {

namespace {

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// If-Match: "3", W/"3" or 3. nullopt when absent; an error when malformed.
Result<std::optional<uint64_t>> ParseIfMatch(std::string_view v) {
  if (v.empty()) return std::optional<uint64_t>();
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  if (!AllDigits(v)) {
    return Error::Validation("If-Match", "If-Match must be \"<version>\"");
  }
  return std::optional<uint64_t>(std::stoull(std::string(v)));
}

}  // namespace

std::string QueryParam(const Call& call, const std::string& name) {
  auto it = call.request.query.find(name);
  return it == call.request.query.end() ? std::string() : it->second;
}

Response JsonResponse(unsigned status, std::string body,
                      std::optional<uint64_t> etag_version) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  if (etag_version) {
    // Built piecewise: GCC 12 -O3 warns (falsely) on "\"" + to_string(v).
    std::string etag(1, '"');
    etag += std::to_string(*etag_version);
    etag.push_back('"');
    r.headers.emplace_back("ETag", std::move(etag));
  }
  return r;
}

bool InScope(const Call& call, const State& state, const std::string& unit) {
  return UnitInScope(state, call.principal.unit, unit);
}

Result<ReadView> ViewFor(const Call& call, const UnitsOf* part) {
  ReadView view;
  view.state = call.services->sequencer->Snapshot();
  std::optional<Millis> as_of_time;
  std::string as_of = QueryParam(call, "as_of");
  if (!as_of.empty() && call.services->time_travel != nullptr) {
    TimeTravel& tt = *call.services->time_travel;
    Result<AsOf> a = tt.ResolveAsOf(as_of);
    if (!a) return a.error();
    as_of_time = a->time;
    auto s = part != nullptr ? tt.PartialStateAt(a->position, view.state, *part)
                             : tt.StateAt(a->position, view.state);
    if (!s) return s.error();
    view.state = std::move(*s);
  } else if (!as_of.empty()) {
    uint64_t position = 0;
    uint64_t head = call.services->store->Head();
    if (AllDigits(as_of)) {
      position = std::stoull(as_of);
      if (position > head) {
        return Error::Validation(
            "as_of",
            "as_of " + as_of + " is past the head " + std::to_string(head));
      }
    } else {
      Result<Millis> t = ParseTime(as_of);
      if (!t) {
        return Error::Validation(
            "as_of", "as_of must be a position or an RFC 3339 time");
      }
      as_of_time = *t;
      position = call.services->store->PositionAtOrBefore(*t);
    }
    if (position != view.state->position) {
      auto replayed = ReplayState(*call.services->store, position);
      if (!replayed) return replayed.error();
      view.state = std::move(*replayed);
    }
  }
  std::string now = QueryParam(call, "now");
  if (!now.empty()) {
    Result<Millis> t = ParseTime(now);
    if (!t) return Error::Validation("now", "now must be an RFC 3339 time");
    view.now = *t;
  } else if (as_of_time) {
    view.now = *as_of_time;
  } else if (!as_of.empty() && view.state->position > 0) {
    view.now = view.state->at;
  } else {
    view.now = NowMillis();
  }
  return view;
}

std::function<std::optional<Error>(const State&)> GoalVisible(
    std::string id, std::string scope) {
  return [id = std::move(id), scope = std::move(scope)](
             const State& state) -> std::optional<Error> {
    const Goal* g = state.FindGoal(id);
    if (g == nullptr || !UnitInScope(state, scope, g->unit)) {
      return Error::NotFound("no goal " + id);
    }
    return std::nullopt;
  };
}

std::function<std::optional<Error>(const State&)> UnitVisible(
    std::string id, std::string scope) {
  return [id = std::move(id), scope = std::move(scope)](
             const State& state) -> std::optional<Error> {
    if (scope.empty() || id.empty() || state.FindUnit(id) == nullptr) {
      return std::nullopt;
    }
    if (!UnitInScope(state, scope, id)) return Error::NotFound("no unit " + id);
    return std::nullopt;
  };
}

void SubmitWrite(Call call, Result<Command> command, Renderer render,
                 bool idempotent,
                 std::function<std::optional<Error>(const State&)> precheck) {
  const Request& req = call.request;
  if (!req.body.empty() && !req.content_type.empty() &&
      req.content_type.rfind("application/json", 0) != 0) {
    return call.reply(ErrorResponse(ErrorCode::kUnsupportedMediaType,
                                    "request bodies are application/json"));
  }
  if (!command) return call.reply(ErrorResponse(command.error()));
  Result<std::optional<uint64_t>> if_match = ParseIfMatch(req.if_match);
  if (!if_match) return call.reply(ErrorResponse(if_match.error()));
  WriteRequest w;
  if (req.has_idempotency_key && idempotent) {
    const std::string& key = req.idempotency_key;
    bool printable = !key.empty() && key.size() <= kMaxIdempotencyKeyBytes;
    for (char c : key) {
      if (c < 0x21 || c > 0x7e) printable = false;
    }
    if (!printable) {
      return call.reply(ErrorResponse(
          Error::Validation("Idempotency-Key",
                            "Idempotency-Key must be 1..128 printable ASCII "
                            "characters")));
    }
    w.idempotency_key = "idem\n" + call.principal.name + "\n" + key;
    w.raw_idempotency_key = key;
    w.fingerprint = req.method + " " + req.path + " " + Sha256Hex(req.body);
  }
  w.command = std::move(*command);
  w.ctx.actor = call.principal.name;
  w.ctx.role = call.principal.role;
  w.ctx.scope_unit = call.principal.unit;
  w.ctx.if_match = *if_match;
  w.render = std::move(render);
  w.render_on_reply = true;  // rendered on the I/O thread, not the writer's
  w.precheck = std::move(precheck);
  w.done = std::move(call.reply);
  call.services->sequencer->Submit(std::move(w));
}

}  // namespace cairn::gateway
