#include "auth.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cmath>
#include <stdexcept>

namespace cairn::gateway {

std::string Sha256Hex(std::string_view bytes) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up
  // on every call (a few µs of each request's token check).
  static const EVP_MD* const kSha256 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, kSha256, nullptr) !=
      1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string NewTokenSecret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    throw std::runtime_error("no randomness for a token secret");
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  // 6 bits per character: 43 characters carry the 256 bits.
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

Auth::Auth(const std::string& admin_secret, double rate_per_second,
           double burst)
    : admin_hash_(admin_secret.empty() ? "" : Sha256Hex(admin_secret)),
      rate_(rate_per_second),
      burst_(burst) {}

Result<Principal> Auth::Authenticate(std::string_view authorization,
                                     const State& state) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return Error{ErrorCode::kUnauthorized,
                 "missing or malformed Authorization: Bearer <token>",
                 {}};
  }
  std::string_view secret = authorization.substr(kBearer.size());
  while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
  std::string hash = Sha256Hex(secret);
  if (!admin_hash_.empty() && hash == admin_hash_) {
    return Principal{std::string(kAdminTokenName), Role::kAdmin, {}};
  }
  if (const Token* token = state.FindTokenByHash(hash);
      token != nullptr && !token->revoked) {
    return Principal{token->name, token->role, token->unit};
  }
  return Error{ErrorCode::kUnauthorized, "unknown or revoked token", {}};
}

bool Auth::Admit(const std::string& token_name, int& retry_after_s) {
  if (rate_ <= 0) return true;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(token_name);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst_;
  } else {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  }
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  retry_after_s =
      std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
  return false;
}

}  // namespace cairn::gateway
