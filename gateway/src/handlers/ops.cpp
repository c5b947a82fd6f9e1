// Operations and administration: health, metrics, the event list, tokens
// and the online backup.
#include <simdjson.h>

#include <string>
#include <utility>
#include <vector>

#include "board_cache.hpp"
#include "cairn/core/command_json.hpp"
#include "cairn/core/json_writer.hpp"
#include "handlers/handlers.hpp"
#include "http_errors.hpp"
#include "limits.hpp"
#include "listener.hpp"
#include "read_pool.hpp"
#include "server_metrics.hpp"
#include "websocket_session.hpp"

namespace cairn::gateway {

namespace {

bool ParseCount(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 19 ||
      s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoull(s);
  return true;
}

// True when a scoped principal may see this event: only goal and unit
// events inside its scope (and retro notes of units inside it).
bool EventVisible(const Call& call, const State& state, const Event& e) {
  if (call.principal.unit.empty()) return true;
  if (e.stream.rfind("goal-", 0) == 0) {
    const Goal* g = state.FindGoal(e.stream.substr(5));
    return g != nullptr && InScope(call, state, g->unit);
  }
  if (e.stream.rfind("unit-", 0) == 0) {
    return InScope(call, state, e.stream.substr(5));
  }
  return false;
}

// A token's "name", "role" and "unit" (null: the whole organisation).
void WriteTokenWho(JsonWriter& w, const std::string& name, Role role,
                   const std::string& unit) {
  w.Key("name").String(name);
  w.Key("role").String(RoleName(role));
  w.Key("unit");
  if (unit.empty()) {
    w.Null();
  } else {
    w.String(unit);
  }
}

}  // namespace

void GetHealth(Call call) {
  auto state = call.services->sequencer->Snapshot();
  JsonWriter w;
  w.BeginObject();
  w.Key("status").String(call.services->stopping ? "stopping" : "ok");
  w.Key("position").Uint(state->position);
  w.Key("epoch").String(call.services->store->Epoch());
  w.EndObject();
  call.reply(
      JsonResponse(call.services->stopping ? 503 : 200, std::move(w).Take()));
}

void GetMetrics(Call call) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = call.services->metrics->Render();
  AppendGauge(r.body, "cairn_store_memtable_bytes",
              "Bytes in the store's write buffers (flushed to disk as they "
              "fill).",
              call.services->store->MemtableBytes());
  if (call.services->reads != nullptr) {
    AppendGauge(r.body, "cairn_heavy_reads_queued",
                "Heavy reads waiting for a read thread.",
                call.services->reads->Queued());
  }
  if (const auto* io = call.services->io; io != nullptr) {
    std::vector<std::pair<std::string, uint64_t>> per_thread;
    for (size_t i = 0; i < io->size(); ++i) {
      per_thread.emplace_back(
          std::to_string(i),
          (*io)[i]->connections.load(std::memory_order_relaxed));
    }
    AppendFamily(r.body, "cairn_http_thread_connections",
                 "HTTP connections each I/O thread serves (a new one goes "
                 "to the thread serving the fewest).",
                 "gauge", "thread", per_thread);
  }
  if (const LiveContext* live = call.services->live;
      live != nullptr && live->boards != nullptr) {
    AppendFamily(r.body, "cairn_live_snapshot_boards_total",
                 "Boards of live snapshots: rendered for the snapshot, or "
                 "shared from another subscriber's snapshot of the same "
                 "board at the same position.",
                 "counter", "made",
                 {{"rendered", live->boards->rendered()},
                  {"shared", live->boards->shared()}});
    AppendGauge(r.body, "cairn_live_board_cache_bytes",
                "Bytes of boards kept for the next snapshot of the same "
                "board at the same position.",
                live->boards->bytes());
  }
  call.reply(std::move(r));
}

void ListEvents(Call call) {
  uint64_t from = 0;
  uint64_t limit = kDefaultEventsLimit;
  std::string f = QueryParam(call, "from");
  std::string l = QueryParam(call, "limit");
  if (!f.empty() && !ParseCount(f, from)) {
    return call.reply(
        ErrorResponse(Error::Validation("from", "from must be a position")));
  }
  if (!l.empty() &&
      (!ParseCount(l, limit) || limit == 0 || limit > kMaxEventsLimit)) {
    return call.reply(
        ErrorResponse(Error::Validation("limit", "limit must be 1..10000")));
  }
  std::string stream = QueryParam(call, "stream");
  std::string type = QueryParam(call, "type");
  bool ndjson =
      call.request.accept.find("application/x-ndjson") != std::string::npos;
  auto state = call.services->sequencer->Snapshot();
  uint64_t head = call.services->store->Head();
  uint64_t next = from;
  uint64_t count = 0;
  std::string out;
  if (!ndjson) out = "{\"events\":[";
  Status st = call.services->store->ReadAll(from, [&](const Event& e) {
    if (count >= limit) return false;
    next = e.position;
    if (!stream.empty() && e.stream != stream) return true;
    if (!type.empty() && e.type != type) return true;
    if (!EventVisible(call, *state, e)) return true;
    if (!ndjson && count > 0) out += ',';
    out += EncodeEnvelope(e);
    if (ndjson) out += '\n';
    ++count;
    return true;
  });
  if (!st) return call.reply(ErrorResponse(st.error()));
  Response r;
  if (ndjson) {
    r.content_type = "application/x-ndjson";
  } else {
    out += "],\"next\":" + std::to_string(next) +
           ",\"head\":" + std::to_string(head) + "}";
  }
  r.headers.emplace_back("X-Cairn-Head", std::to_string(head));
  r.headers.emplace_back("X-Cairn-Next", std::to_string(next));
  r.body = std::move(out);
  call.reply(std::move(r));
}

void CreateTokenHandler(Call call) {
  Result<Command> cmd = ParseCreateToken(call.request.body);
  std::string secret = NewTokenSecret();
  if (cmd) {
    if (auto* c = std::get_if<CreateToken>(&*cmd)) {
      c->secret_hash = Sha256Hex(secret);
    }
  }
  std::string name;
  if (cmd) {
    if (auto* c = std::get_if<CreateToken>(&*cmd)) name = c->name;
  }
  Renderer render = [name, secret](const State& state,
                                   const std::vector<Event>&) {
    auto it = state.tokens.find(name);
    if (it == state.tokens.end()) {
      return ErrorResponse(Error::Internal("the token was not recorded"));
    }
    const Token& t = it->second;
    JsonWriter w;
    w.BeginObject();
    WriteTokenWho(w, t.name, t.role, t.unit);
    w.Key("token").String(secret);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(201, std::move(w).Take(), t.version);
  };
  // The reply holds the secret, which is never stored: no idempotent replay.
  SubmitWrite(std::move(call), std::move(cmd), std::move(render),
              /*idempotent=*/false);
}

void GetMe(Call call) {
  const Principal& p = call.principal;
  JsonWriter w;
  w.BeginObject();
  WriteTokenWho(w, p.name, p.role, p.unit);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void ListTokens(Call call) {
  if (call.principal.role != Role::kAdmin) {
    return call.reply(ErrorResponse(ErrorCode::kForbidden,
                                    "listing tokens needs an admin token"));
  }
  auto state = call.services->sequencer->Snapshot();
  JsonWriter w;
  w.BeginObject().Key("tokens").BeginArray();
  for (const auto& [name, t] : state->tokens) {
    if (!InScope(call, *state, t.unit.empty() ? std::string() : t.unit) &&
        !call.principal.unit.empty()) {
      continue;
    }
    w.BeginObject();
    WriteTokenWho(w, t.name, t.role, t.unit);
    w.Key("revoked").Bool(t.revoked);
    w.Key("version").Uint(t.version);
    w.EndObject();
  }
  w.EndArray();
  w.Key("position").Uint(state->position);
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take()));
}

void RevokeTokenHandler(Call call) {
  std::string name = call.params[0];
  Result<Command> cmd = ParseRevokeToken(name);
  Renderer render = [name](const State& state, const std::vector<Event>&) {
    JsonWriter w;
    w.BeginObject();
    w.Key("name").String(name);
    w.Key("revoked").Bool(true);
    w.Key("position").Uint(state.position);
    w.EndObject();
    return JsonResponse(200, std::move(w).Take());
  };
  SubmitWrite(std::move(call), std::move(cmd), std::move(render));
}

void AdminBackup(Call call) {
  if (call.principal.role != Role::kAdmin || !call.principal.unit.empty()) {
    return call.reply(ErrorResponse(ErrorCode::kForbidden,
                                    "backups need an unscoped admin token"));
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string body(call.request.body);
  std::string_view dir;
  auto doc = parser.iterate(body);
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return call.reply(
        ErrorResponse(ErrorCode::kBadJson, "body must be {\"to\": dir}"));
  }
  if (obj["to"].get_string().get(dir) != simdjson::SUCCESS || dir.empty()) {
    return call.reply(ErrorResponse(Error::Validation("to", "to is required")));
  }
  std::string to(dir);
  Status st = call.services->store->Backup(to);
  if (!st) return call.reply(ErrorResponse(st.error()));
  JsonWriter w;
  w.BeginObject();
  w.Key("backup").String(to);
  w.Key("head").Uint(call.services->store->Head());
  w.Key("epoch").String(call.services->store->Epoch());
  w.EndObject();
  call.reply(JsonResponse(200, std::move(w).Take()));
}

}  // namespace cairn::gateway
