#include "cairn/core/event.hpp"

#include <simdjson.h>

#include "cairn/core/json_writer.hpp"

namespace cairn {

std::string EncodeEnvelope(const Event& e, bool with_hash) {
  JsonWriter w;
  w.BeginObject();
  w.Key("position").Uint(e.position);
  w.Key("stream").String(e.stream);
  w.Key("version").Uint(e.version);
  w.Key("type").String(e.type);
  w.Key("id").String(e.id);
  w.Key("at").String(FormatTime(e.at));
  w.Key("actor").String(e.actor);
  if (with_hash) w.Key("hash").String(e.hash);
  w.Key("data").Raw(e.data.empty() ? std::string_view("{}") : e.data);
  w.Key("meta").Raw(e.meta.empty() ? std::string_view("{}") : e.meta);
  w.EndObject();
  return std::move(w).Take();
}

namespace {

Error Corrupt(std::string_view what) {
  return Error{ErrorCode::kCorruption, "event envelope: " + std::string(what),
               ""};
}

}  // namespace

Result<Event> DecodeEnvelope(std::string_view json) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return Corrupt("not JSON");
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return Corrupt("not an object");
  Event e;
  e.data.clear();
  e.meta = "{}";
  bool have_pos = false, have_stream = false, have_version = false,
       have_type = false, have_at = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Corrupt("bad key");
    auto value = field.value();
    std::string_view sv;
    if (key == "position") {
      if (value.get_uint64().get(e.position)) return Corrupt("position");
      have_pos = true;
    } else if (key == "stream") {
      if (value.get_string().get(sv)) return Corrupt("stream");
      e.stream = sv;
      have_stream = true;
    } else if (key == "version") {
      if (value.get_uint64().get(e.version)) return Corrupt("version");
      have_version = true;
    } else if (key == "type") {
      if (value.get_string().get(sv)) return Corrupt("type");
      e.type = sv;
      have_type = true;
    } else if (key == "id") {
      if (value.get_string().get(sv)) return Corrupt("id");
      e.id = sv;
    } else if (key == "at") {
      if (value.get_string().get(sv)) return Corrupt("at");
      auto t = ParseTime(sv);
      if (!t) return Corrupt("at");
      e.at = *t;
      have_at = true;
    } else if (key == "actor") {
      if (value.get_string().get(sv)) return Corrupt("actor");
      e.actor = sv;
    } else if (key == "hash") {
      if (value.get_string().get(sv)) return Corrupt("hash");
      e.hash = sv;
    } else if (key == "data" || key == "meta") {
      simdjson::ondemand::object o;
      if (value.get_object().get(o)) return Corrupt(key);
      std::string_view raw;
      if (o.raw_json().get(raw)) return Corrupt(key);
      (key == "data" ? e.data : e.meta) = raw;
    }
    // Unknown members are tolerated for forward reading; On-Demand skips
    // any value left unread.
  }
  if (!have_pos || !have_stream || !have_version || !have_type || !have_at) {
    return Corrupt("missing member");
  }
  if (e.data.empty()) e.data = "{}";
  return e;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool IsValidStreamName(std::string_view stream) {
  size_t dash = stream.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 16) return false;
  for (size_t i = 0; i < dash; ++i) {
    if (stream[i] < 'a' || stream[i] > 'z') return false;
  }
  std::string_view rest = stream.substr(dash + 1);
  if (rest.empty() || rest.size() > 160) return false;
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace cairn
