#include "cairn/core/event.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

#include "cairn/core/json_writer.hpp"

namespace cairn {

namespace {

// A buffer that holds the envelope without growing.
std::string EnvelopeBuffer(const Event& e) {
  std::string buf;
  buf.reserve(200 + e.stream.size() + e.type.size() + e.id.size() +
              e.actor.size() + e.hash.size() + e.data.size() + e.meta.size());
  return buf;
}

// The opening up to `at`: which event, of what, when.
void EncodeIdentity(const Event& e, JsonWriter& w) {
  w.BeginObject();
  w.Key("position").Uint(e.position);
  w.Key("stream").String(e.stream);
  w.Key("version").Uint(e.version);
  w.Key("type").String(e.type);
  w.Key("id").String(e.id);
  w.Key("at").String(FormatTime(e.at));
}

// The envelope up to and including `actor`.
void EncodeHead(const Event& e, JsonWriter& w) {
  EncodeIdentity(e, w);
  w.Key("actor").String(e.actor);
}

// `data`, `meta` and the end.
void EncodeTail(const Event& e, JsonWriter& w) {
  w.Key("data").Raw(e.data.empty() ? std::string_view("{}") : e.data);
  w.Key("meta").Raw(e.meta.empty() ? std::string_view("{}") : e.meta);
  w.EndObject();
}

constexpr std::string_view kHashMember = ",\"hash\":";

}  // namespace

std::string EncodeEnvelope(const Event& e, bool with_hash) {
  JsonWriter w(EnvelopeBuffer(e));
  EncodeHead(e, w);
  if (with_hash) w.Key("hash").String(e.hash);
  EncodeTail(e, w);
  return std::move(w).Take();
}

std::string EncodeWithheldEnvelope(const Event& e) {
  JsonWriter w;
  EncodeIdentity(e, w);
  w.Key("withheld").Bool(true);
  w.Key("data").Raw("{}");
  w.EndObject();
  return std::move(w).Take();
}

std::string EncodeEnvelopeUnhashed(const Event& e, size_t* hash_at) {
  JsonWriter w(EnvelopeBuffer(e));
  EncodeHead(e, w);
  *hash_at = w.str().size();
  EncodeTail(e, w);
  return std::move(w).Take();
}

std::string WithHash(std::string_view unhashed, size_t hash_at,
                     std::string_view hash) {
  std::string out;
  out.reserve(unhashed.size() + kHashMember.size() + hash.size() + 2);
  out.append(unhashed.substr(0, hash_at));
  out.append(kHashMember);
  JsonWriter::AppendQuoted(out, hash);
  out.append(unhashed.substr(hash_at));
  return out;
}

namespace {

Error Corrupt(std::string_view what) {
  return Error{ErrorCode::kCorruption, "event envelope: " + std::string(what),
               ""};
}

// The members DecodeEnvelope reads; a member's bit in its `seen` mask is
// 1 << (its index here).
constexpr std::string_view kMembers[] = {
    "position", "stream", "version", "type", "id",
    "at",       "actor",  "hash",    "data", "meta"};

constexpr unsigned MemberBit(std::string_view name) {
  for (size_t m = 0; m < std::size(kMembers); ++m) {
    if (kMembers[m] == name) return 1u << m;
  }
  return 0;
}

constexpr unsigned kRequiredMembers =
    MemberBit("position") | MemberBit("stream") | MemberBit("version") |
    MemberBit("type") | MemberBit("at");

// A cursor over one envelope exactly as EncodeEnvelope writes it: every
// step fails (returns false) on anything else, and on any escape, so the
// caller falls back to the general parser. Of envelopes whose `data` and
// `meta` are JSON objects, what it accepts it decodes as that parser would.
class FastCursor {
 public:
  explicit FastCursor(std::string_view s)
      : p_(s.data()), end_(s.data() + s.size()) {}

  bool Literal(std::string_view l) {
    if (static_cast<size_t>(end_ - p_) < l.size() ||
        std::memcmp(p_, l.data(), l.size()) != 0) {
      return false;
    }
    p_ += l.size();
    return true;
  }

  // A JSON unsigned integer: no sign, no leading zero.
  bool Uint(uint64_t* v) {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') {
      return false;
    }
    auto r = std::from_chars(p_, end_, *v);
    if (r.ec != std::errc()) return false;
    p_ = r.ptr;
    return true;
  }

  // After an opening quote: the string up to the closing quote, which must
  // contain no backslash and no control character.
  bool String(std::string* out) {
    const char* q = p_;
    while (q < end_) {
      unsigned char c = static_cast<unsigned char>(*q);
      if (c == '"') break;
      if (c == '\\' || c < 0x20) return false;
      ++q;
    }
    if (q == end_) return false;
    out->assign(p_, q);
    p_ = q + 1;
    return true;
  }

  // "YYYY-MM-DDTHH:MM:SS.mmmZ" then the closing quote (FormatTime's form),
  // read by ParseTime like any other time.
  bool Time(Millis* t) {
    if (end_ - p_ < 25 || p_[24] != '"') return false;
    auto parsed = ParseTime(std::string_view(p_, 24));
    if (!parsed) return false;
    *t = *parsed;
    p_ += 25;
    return true;
  }

  // A JSON object starting here, as raw text (balanced braces, strings
  // skipped, no control character in them). Its values are checked no
  // further, as the general parser's raw_json() does not check them.
  bool Object(std::string* out) {
    if (p_ == end_ || *p_ != '{') return false;
    const char* q = p_;
    int depth = 0;
    while (q < end_) {
      char c = *q;
      if (c == '"') {
        ++q;
        while (q < end_ && *q != '"') {
          // Unescaped control characters are not JSON (simdjson refuses
          // them too).
          if (static_cast<unsigned char>(*q) < 0x20) return false;
          q += (*q == '\\') ? 2 : 1;
        }
        if (q >= end_) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          // Room for simdjson's padding after it, so Apply can parse the
          // data where it lies.
          out->reserve(static_cast<size_t>(q + 1 - p_) +
                       simdjson::SIMDJSON_PADDING);
          out->assign(p_, q + 1);
          p_ = q + 1;
          return true;
        }
      }
      ++q;
    }
    return false;
  }

  bool AtEnd() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

// True when no byte has its high bit set (then the text is valid UTF-8).
bool AllAscii(std::string_view s) {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    any |= w;
  }
  for (; i < s.size(); ++i) any |= static_cast<unsigned char>(s[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

bool FastDecode(std::string_view json, Event* e) {
  if (!AllAscii(json) && !simdjson::validate_utf8(json.data(), json.size())) {
    return false;
  }
  FastCursor c(json);
  return c.Literal("{\"position\":") && c.Uint(&e->position) &&
         c.Literal(",\"stream\":\"") && c.String(&e->stream) &&
         c.Literal(",\"version\":") && c.Uint(&e->version) &&
         c.Literal(",\"type\":\"") && c.String(&e->type) &&
         c.Literal(",\"id\":\"") && c.String(&e->id) &&
         c.Literal(",\"at\":\"") && c.Time(&e->at) &&
         c.Literal(",\"actor\":\"") && c.String(&e->actor) &&
         c.Literal(",\"hash\":\"") && c.String(&e->hash) &&
         c.Literal(",\"data\":") && c.Object(&e->data) &&
         c.Literal(",\"meta\":") && c.Object(&e->meta) && c.Literal("}") &&
         c.AtEnd();
}

}  // namespace

Status DecodeEnvelopeInto(std::string_view json, Event* e) {
  if (FastDecode(json, e)) return Status::Ok();
  auto general = DecodeEnvelope(json);
  if (!general) return general.error();
  *e = std::move(*general);
  return Status::Ok();
}

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
  // EncodeEnvelope writes each member once. A second one is damage, and
  // taking either copy could disagree with the store's fast path (which
  // reads the first `data` as far as its braces balance).
  unsigned seen = 0;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Corrupt("bad key");
    const unsigned bit = MemberBit(key);
    if ((seen & bit) != 0) return Corrupt("duplicate " + std::string(key));
    seen |= bit;
    auto value = field.value();
    std::string_view sv;
    if (key == "position") {
      if (value.get_uint64().get(e.position)) return Corrupt("position");
    } else if (key == "stream") {
      if (value.get_string().get(sv)) return Corrupt("stream");
      e.stream = sv;
    } else if (key == "version") {
      if (value.get_uint64().get(e.version)) return Corrupt("version");
    } else if (key == "type") {
      if (value.get_string().get(sv)) return Corrupt("type");
      e.type = sv;
    } else if (key == "id") {
      if (value.get_string().get(sv)) return Corrupt("id");
      e.id = sv;
    } else if (key == "at") {
      if (value.get_string().get(sv)) return Corrupt("at");
      auto t = ParseTime(sv);
      if (!t) return Corrupt("at");
      e.at = *t;
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
  if ((seen & kRequiredMembers) != kRequiredMembers) {
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

StreamParts SplitStream(std::string_view stream) {
  const size_t dash = stream.find('-');
  if (dash == std::string_view::npos) return {};
  return {stream.substr(0, dash), stream.substr(dash + 1)};
}

bool IsValidStreamName(std::string_view stream) {
  const auto [kind, rest] = SplitStream(stream);
  if (kind.empty() || kind.size() > 16) return false;
  for (char c : kind) {
    if (c < 'a' || c > 'z') return false;
  }
  if (rest.empty() || rest.size() > 160) return false;
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace cairn
