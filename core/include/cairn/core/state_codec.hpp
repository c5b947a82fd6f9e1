// A compact, versioned binary encoding of the whole State (model.hpp), used
// for snapshots of the model (the event store's `snapshots` column family).
//
//   std::string bytes = EncodeState(state);
//   Result<State> back = DecodeState(bytes);   // *back == state
//
// Format: the 4 bytes "CST" + format version (kStateCodecVersion), then every
// field of State in declaration order: unsigned integers as LEB128 varints,
// signed ones zigzag-encoded, doubles as their 8 IEEE bytes (little endian),
// strings and vectors length-prefixed, optionals and bools as one byte.
// Decode(Encode(s)) == s for every State (operator==), NaN payloads included.
//
// DecodeState accepts any bytes: a wrong magic, an unknown version, a length
// past the end, an enum out of range or trailing bytes give kCorruption and
// never a crash or an allocation larger than the input allows. The format
// is not a stable interchange format: a snapshot in another version is
// simply not used (the log is the truth and is replayed instead).
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"

namespace cairn {

// Bumped whenever State or the encoding changes.
inline constexpr unsigned char kStateCodecVersion = 1;

std::string EncodeState(const State& state);
[[nodiscard]] Result<State> DecodeState(std::string_view bytes);

}  // namespace cairn
