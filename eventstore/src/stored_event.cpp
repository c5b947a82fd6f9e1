#include "stored_event.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

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

Result<Event> DecodeStored(std::string_view json) {
  Event e;
  if (Status st = DecodeEnvelopeInto(json, &e); !st.ok()) return st.error();
  return e;
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
