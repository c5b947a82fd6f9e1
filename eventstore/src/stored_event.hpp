// Encoding helpers of the write path and the read path: hashing, canonical
// JSON objects, generated ids, and a fast decoder of stored envelopes.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "cairn/core/error.hpp"
#include "cairn/core/event.hpp"

namespace cairn::eventstore {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lowercase hex SHA-256 of a followed by b (OpenSSL EVP).
std::string Sha256Hex(std::string_view a, std::string_view b);
// Raw 32-byte SHA-256 of s.
std::string Sha256Raw(std::string_view s);

// The hash an event must carry after `prev_hash`.
std::string EventHash(std::string_view prev_hash, const Event& e);

// Checks that `in` is one JSON object of valid UTF-8 and writes it compact
// (whitespace outside strings removed) to *out. Empty input means "{}".
bool CanonicalObject(std::string_view in, std::string* out);

// An envelope as the store wrote it (DecodeEnvelopeInto's fast path).
Result<Event> DecodeStored(std::string_view json);

// 32 lowercase hex characters from a random 128-bit number.
std::string NewEpoch();

// Event ids: 26 characters of lowercase Crockford base32, 10 for the
// millisecond time and 16 for 80 bits that are random when the millisecond
// changes and incremented within it, so ids sort by creation (like ULIDs).
// Not thread-safe (the append leader owns it).
class IdGenerator {
 public:
  IdGenerator();
  std::string Next(int64_t millis);

 private:
  std::mt19937_64 rng_;
  int64_t last_ms_ = -1;
  uint64_t hi_ = 0;  // top 16 of the 80 bits
  uint64_t lo_ = 0;  // low 64 of the 80 bits
};

}  // namespace cairn::eventstore
