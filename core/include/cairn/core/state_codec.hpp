// A compact, versioned binary encoding of the whole State (model.hpp), used
// for snapshots of the model (the event store's `snapshots` column family).
//
//   std::string bytes = EncodeState(state);
//   Result<State> back = DecodeState(bytes);   // *back == state
//
//   // Check-ins by reference: a small snapshot that decodes in time
//   // proportional to the entities, taking each goal's check-ins from a
//   // later State of the same log (the live one).
//   std::string light = EncodeState(past, SnapshotHistory::kByReference);
//   Result<State> again = DecodeState(light, &live);   // *again == past
//
// Format: the 4 bytes "CST" + format version (kStateCodecVersion), then every
// field of State in declaration order: unsigned integers as LEB128 varints,
// signed ones zigzag-encoded, doubles as their 8 IEEE bytes (little endian),
// strings and vectors length-prefixed, optionals and bools as one byte.
// Decode(Encode(s)) == s for every State (operator==), NaN payloads included.
// Since format 3 each goal and metric is preceded by its length in bytes,
// so that a partial decode (DecodePartialState) steps over the ones it
// leaves out; format 2 (without) still decodes. Since format 4 a check-in
// ends with the position it corrects; a format 2 or 3 snapshot that holds
// check-ins is refused (kCorruption, so the log is replayed instead), one
// by reference (its check-ins come from the history source) still decodes.
//
// kByReference (magic "CSR", the State's position first) writes, per goal,
// the number of check-ins and the position of the last one, and per
// metric the number of points, instead of the check-ins and points.
// Decoding takes the first n check-ins of the same goal in
// `history_source`, sharing its chunks, after checking that the n-th one
// has that position (check-ins only append and positions are unique), and
// the source metric's points recorded at or before the snapshot's position
// (points are kept in time order, late ones merged in, so filtering a later
// series by position gives the earlier one), checking their number. A
// State of the same log at or after the snapshot always holds them; a
// source that does not is refused (kCorruption), never silently used.
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
#include "cairn/core/partial_state.hpp"

namespace cairn {

// Bumped whenever State or the encoding changes.
inline constexpr unsigned char kStateCodecVersion = 4;
// The oldest format DecodeState still reads.
inline constexpr unsigned char kOldestStateCodecVersion = 2;

// How a snapshot holds the goals' check-ins.
enum class SnapshotHistory {
  kIncluded,     // all of them: decodes on its own (start-up)
  kByReference,  // count and last position: needs a history source
};

std::string EncodeState(const State& state,
                        SnapshotHistory history = SnapshotHistory::kIncluded);
// `history_source` is used only by kByReference snapshots, which fail
// with kCorruption without one.
[[nodiscard]] Result<State> DecodeState(std::string_view bytes,
                                        const State* history_source = nullptr);
// The part of the State in `bytes` that `units_of` picks (partial_state.hpp),
// in time proportional to what it keeps: the goals left out are stepped
// over, not decoded. Errors as DecodeState's, for the parts it reads.
[[nodiscard]] Result<State> DecodePartialState(std::string_view bytes,
                                               const State* history_source,
                                               const UnitsOf& units_of,
                                               PartialInfo& info);
// Whether `bytes` is a kByReference snapshot (looks at the magic only).
bool NeedsHistorySource(std::string_view bytes);

}  // namespace cairn
