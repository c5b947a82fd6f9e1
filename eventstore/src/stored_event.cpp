#include "stored_event.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace cairn::eventstore {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

EVP_MD_CTX* ThreadCtx() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

// SHA-256 fetched from the provider once: EVP_sha256() in an Init makes
// OpenSSL 3 look the implementation up again on every call.
const EVP_MD* Sha256() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

void Digest(std::string_view a, std::string_view b, unsigned char* md) {
  EVP_MD_CTX* ctx = ThreadCtx();
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, Sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, md, &len);
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string Sha256Hex(std::string_view a, std::string_view b) {
  unsigned char md[32];
  Digest(a, b, md);
  std::string out(64, '0');
  for (int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256Raw(std::string_view s) {
  unsigned char md[32];
  Digest(s, {}, md);
  return std::string(reinterpret_cast<const char*>(md), 32);
}

std::string EventHash(std::string_view prev_hash, const Event& e) {
  return Sha256Hex(prev_hash, EncodeEnvelope(e, /*with_hash=*/false));
}

bool CanonicalObject(std::string_view in, std::string* out) {
  if (in.empty()) {
    *out = "{}";
    return true;
  }
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(in);
  simdjson::dom::element el;
  if (parser.parse(padded).get(el)) return false;  // syntax and UTF-8
  if (el.type() != simdjson::dom::element_type::OBJECT) return false;
  std::string buf(in.size() + simdjson::SIMDJSON_PADDING, '\0');
  size_t n = 0;
  if (simdjson::minify(in.data(), in.size(), buf.data(), n)) return false;
  buf.resize(n);
  *out = std::move(buf);
  return true;
}

namespace {

// A cursor over one stored envelope; every step fails (returns false) on
// anything but EncodeEnvelope's exact output without escapes.
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

  bool Uint(uint64_t* v) {
    auto r = std::from_chars(p_, end_, *v);
    if (r.ec != std::errc() || r.ptr == p_) return false;
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

  // "YYYY-MM-DDTHH:MM:SS.mmmZ" then the closing quote.
  bool Time(Millis* t) {
    if (end_ - p_ < 25 || p_[24] != '"') return false;
    const char* s = p_;
    auto d = [&](int i, int n, int* v) {
      int x = 0;
      for (int k = 0; k < n; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '9') return false;
        x = x * 10 + (c - '0');
      }
      *v = x;
      return true;
    };
    int y, mo, da, h, mi, se, ms;
    if (!d(0, 4, &y) || s[4] != '-' || !d(5, 2, &mo) || s[7] != '-' ||
        !d(8, 2, &da) || s[10] != 'T' || !d(11, 2, &h) || s[13] != ':' ||
        !d(14, 2, &mi) || s[16] != ':' || !d(17, 2, &se) || s[19] != '.' ||
        !d(20, 3, &ms) || s[23] != 'Z') {
      return false;
    }
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 ||
        se > 59) {
      return false;
    }
    // Days from civil (H. Hinnant).
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = static_cast<unsigned>(yy - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + da - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
    *t = ((days * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms;
    p_ += 25;
    return true;
  }

  // A JSON object starting here, as raw text (balanced braces, strings
  // skipped).
  bool Object(std::string* out) {
    if (p_ == end_ || *p_ != '{') return false;
    const char* q = p_;
    int depth = 0;
    while (q < end_) {
      char c = *q;
      if (c == '"') {
        ++q;
        while (q < end_ && *q != '"') q += (*q == '\\') ? 2 : 1;
        if (q >= end_) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
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

bool FastDecode(std::string_view json, Event* e) {
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

Result<Event> DecodeStored(std::string_view json) {
  Event e;
  if (FastDecode(json, &e)) return e;
  return DecodeEnvelope(json);
}

Status DecodeStoredInto(std::string_view json, Event* e) {
  if (FastDecode(json, e)) return Status::Ok();
  auto slow = DecodeEnvelope(json);
  if (!slow) return slow.error();
  *e = std::move(*slow);
  return Status::Ok();
}

std::string NewEpoch() {
  std::random_device rd;
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) {
    uint32_t v = rd();
    for (int k = 7; k >= 0; --k) out.push_back(kHex[(v >> (4 * k)) & 15]);
  }
  return out;
}

IdGenerator::IdGenerator() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

std::string IdGenerator::Next(int64_t millis) {
  if (millis > last_ms_) {
    last_ms_ = millis;
    // Random, leaving headroom so increments within a millisecond never wrap.
    hi_ = rng_() & 0x7fff;
    lo_ = rng_();
  } else if (++lo_ == 0) {
    ++hi_;
  }
  static constexpr char kB32[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string out(26, '0');
  uint64_t t = static_cast<uint64_t>(last_ms_);
  for (int i = 9; i >= 0; --i) {
    out[i] = kB32[t & 31];
    t >>= 5;
  }
  // 80 bits = hi_(16) lo_(64), as 16 base32 digits.
  uint64_t hi = hi_, lo = lo_;
  for (int i = 25; i >= 10; --i) {
    out[i] = kB32[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return out;
}

}  // namespace cairn::eventstore
