#include "live_message.hpp"

#include <simdjson.h>

#include "cairn/core/json_writer.hpp"

namespace cairn::gateway {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

Error Bad(std::string field, std::string message) {
  return Error::Validation(std::move(field), std::move(message));
}

bool IsValidSubId(std::string_view s) {
  if (s.empty() || s.size() > kMaxSubIdBytes) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

Result<ClientMessage> ParseClientMessage(std::string_view text,
                                         std::string* sub_out) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadJson, "message is not valid JSON", {}};
  }
  object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadJson, "message is not a JSON object", {}};
  }

  ClientMessage m;
  std::string_view sv;
  element sub_el;
  if (obj["sub"].get(sub_el) == simdjson::SUCCESS) {
    if (sub_el.get_string().get(sv) != simdjson::SUCCESS || !IsValidSubId(sv)) {
      return Bad("sub", "sub must be 1..64 printable ASCII characters");
    }
    m.sub = std::string(sv);
    if (sub_out != nullptr) *sub_out = m.sub;
  }

  if (obj["op"].get_string().get(sv) != simdjson::SUCCESS) {
    return Bad("op", "op must be a string");
  }
  if (sv == "ping") {
    m.op = ClientMessage::Op::kPing;
    return m;
  }
  if (sv == "unsubscribe") {
    m.op = ClientMessage::Op::kUnsubscribe;
    if (m.sub.empty()) return Bad("sub", "sub is required");
    return m;
  }
  if (sv != "subscribe") {
    return Bad("op", "op must be subscribe, unsubscribe or ping");
  }
  m.op = ClientMessage::Op::kSubscribe;
  if (m.sub.empty()) return Bad("sub", "sub is required");

  if (obj["unit"].get_string().get(sv) != simdjson::SUCCESS || !IsValidId(sv)) {
    return Bad("unit", "unit must be a unit id");
  }
  m.filter.unit = std::string(sv);

  element el;
  if (obj["cycle"].get(el) == simdjson::SUCCESS && !el.is_null()) {
    if (el.get_string().get(sv) != simdjson::SUCCESS || !IsValidId(sv)) {
      return Bad("cycle", "cycle must be a cycle id");
    }
    m.filter.cycle = std::string(sv);
  }
  if (obj["depth"].get(el) == simdjson::SUCCESS && !el.is_null()) {
    int64_t depth = 0;
    if (el.get_int64().get(depth) != simdjson::SUCCESS || depth < -1 ||
        depth > kMaxDepth) {
      return Bad("depth", "depth must be an integer from -1 to 64");
    }
    m.filter.depth = static_cast<int>(depth);
  }
  if (obj["from"].get(el) == simdjson::SUCCESS && !el.is_null()) {
    uint64_t from = 0;
    if (el.get_uint64().get(from) != simdjson::SUCCESS) {
      return Bad("from", "from must be a non-negative integer position");
    }
    m.from = from;
  }
  if (obj["snapshot"].get(el) == simdjson::SUCCESS && !el.is_null()) {
    bool b = false;
    if (el.get_bool().get(b) != simdjson::SUCCESS) {
      return Bad("snapshot", "snapshot must be true or false");
    }
    m.snapshot = b;
  }
  if (obj["epoch"].get(el) == simdjson::SUCCESS && !el.is_null()) {
    if (el.get_string().get(sv) != simdjson::SUCCESS || sv.size() > 128) {
      return Bad("epoch", "epoch must be a string");
    }
    m.epoch = std::string(sv);
  }
  return m;
}

std::string WriteError(const Error& error, std::string_view sub) {
  JsonWriter w;
  w.BeginObject();
  w.Key("op").String("error");
  if (!sub.empty()) w.Key("sub").String(sub);
  w.Key("error").BeginObject();
  w.Key("code").String(ErrorCodeName(error.code));
  w.Key("message").String(error.message);
  if (!error.field.empty()) w.Key("field").String(error.field);
  w.EndObject();
  w.EndObject();
  return std::move(w).Take();
}

std::string WritePong() { return R"({"op":"pong"})"; }

std::string WriteSynced(std::string_view sub, uint64_t position,
                        std::string_view epoch) {
  JsonWriter w;
  w.BeginObject();
  w.Key("op").String("synced");
  w.Key("sub").String(sub);
  w.Key("position").Uint(position);
  w.Key("epoch").String(epoch);
  w.EndObject();
  return std::move(w).Take();
}

std::string WriteSnapshotHead(std::string_view sub, uint64_t position) {
  JsonWriter w;
  w.BeginObject();
  w.Key("op").String("snapshot");
  w.Key("sub").String(sub);
  w.Key("position").Uint(position);
  w.Key("board");
  return std::move(w).Take();
}

std::string WriteEventMessage(std::string_view sub, const LiveFilter& filter,
                              const LiveEvent& event) {
  JsonWriter w;
  w.BeginObject();
  w.Key("op").String("event");
  w.Key("sub").String(sub);
  w.Key("position").Uint(event.position);
  w.Key("event").Raw(EnvelopeFor(filter, event));
  w.Key("goals").BeginArray();
  for (const auto& g : event.goals) {
    if (InScope(filter, g->where)) w.Raw(g->json);
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace cairn::gateway
