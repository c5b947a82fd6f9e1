// Keys and values of the store's column families (ARCHITECTURE.md):
//   events    BE64(position)                  -> envelope JSON (with hash)
//   streams   stream 0x00 BE64(version)       -> BE64(position)
//   ids       'e' event id                    -> BE64(position)
//             'k' idempotency key             -> BE64(first) BE64(count) reply
//   meta      "schema" | "epoch" | "identity" -> text
//   snapshots BE64(position)                  -> SHA-256(bytes) (32) bytes
// Big-endian integers so that RocksDB's byte order is numeric order. Stream
// names never contain 0x00 or 0x01 (IsValidStreamName), so "stream 0x01" is
// the first key past a stream's versions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::eventstore::keys {

inline void PutBE64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}

inline uint64_t GetBE64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  }
  return v;
}

inline std::string Position(uint64_t p) {
  std::string k;
  PutBE64(&k, p);
  return k;
}

inline std::string Stream(std::string_view stream, uint64_t version) {
  std::string k;
  k.reserve(stream.size() + 9);
  k.append(stream);
  k.push_back('\0');
  PutBE64(&k, version);
  return k;
}

// The first key after every version of `stream`.
inline std::string StreamEnd(std::string_view stream) {
  std::string k(stream);
  k.push_back('\x01');
  return k;
}

inline std::string EventId(std::string_view id) {
  std::string k("e");
  k.append(id);
  return k;
}

inline std::string IdempotencyKey(std::string_view key) {
  std::string k("k");
  k.append(key);
  return k;
}

inline constexpr char kMetaSchema[] = "schema";
inline constexpr char kMetaEpoch[] = "epoch";
inline constexpr char kMetaIdentity[] = "identity";

}  // namespace cairn::eventstore::keys
