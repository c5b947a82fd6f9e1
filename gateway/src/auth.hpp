// Bearer-token authentication and the per-token rate limit.
//
//   Auth auth(admin_secret);
//   Result<Principal> who = auth.Authenticate(req.authorization, state);
//   if (!auth.Admit(who->name)) -> 429 with Retry-After
//
// Token secrets are kept only as SHA-256 hex hashes: the admin token given
// at start is hashed on construction; tokens made through the API are
// stored hashed in token.created events (State::tokens). Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cairn/core/command.hpp"
#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"

namespace cairn::gateway {

// Who is calling: the token's name (the events' actor), role and scope.
struct Principal {
  std::string name;
  Role role = Role::kViewer;
  std::string unit;  // scope; empty = the whole organisation
};

// The name the start-up admin token acts as (reserved: see command.hpp).
inline constexpr std::string_view kAdminTokenName = kStartupAdminName;

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);
// A fresh random secret (URL-safe, 43 characters, 256 bits).
std::string NewTokenSecret();

class Auth {
 public:
  // `admin_secret` may be empty (no start-up admin token).
  // `rate_per_second` <= 0 turns the rate limit off.
  Auth(const std::string& admin_secret, double rate_per_second, double burst);

  // Checks an `Authorization` header value against the start-up admin token
  // and the live tokens of `state`. kUnauthorized when missing, malformed,
  // unknown or revoked.
  Result<Principal> Authenticate(std::string_view authorization,
                                 const State& state) const;

  // Takes one request from the token's bucket. When none is left returns
  // false and sets `retry_after_s` (whole seconds, >= 1).
  bool Admit(const std::string& token_name, int& retry_after_s);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::string admin_hash_;
  double rate_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace cairn::gateway
