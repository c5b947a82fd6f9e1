// The event envelope of the contract (../shared/API.md, "Events"):
//
//   {"position":1042,"stream":"goal-kr-cac","version":3,
//    "type":"goal.checked_in","id":"01JD...","at":"2026-02-10T08:00:00.000Z",
//    "actor":"alice","hash":"9f2c...","data":{...},"meta":{...}}
//
// EncodeEnvelope writes exactly this member order in compact JSON; the
// event's hash is computed over EncodeEnvelope(e, /*with_hash=*/false), so
// the encoding is part of the on-disk format and must never change.
// `data` and `meta` hold raw compact JSON objects (validated by whoever made
// them). Generic: knows nothing of goals.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/core/error.hpp"
#include "cairn/core/time.hpp"

namespace cairn {

struct Event {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  std::string type;
  std::string id;
  Millis at = 0;
  std::string actor;
  std::string hash;         // 64 lowercase hex characters
  std::string data = "{}";  // raw JSON object
  std::string meta = "{}";  // raw JSON object

  bool operator==(const Event&) const = default;
};

std::string EncodeEnvelope(const Event& e, bool with_hash = true);
// The envelope for a reader who may know that the event happened but not
// what it says: position, stream, version, type, id and at, then
// "withheld": true and an empty `data` (no actor, hash or meta).
std::string EncodeWithheldEnvelope(const Event& e);
// Both forms from one encoding, for a writer that hashes what it stores:
// returns EncodeEnvelope(e, false) and sets *hash_at to the offset where
// EncodeEnvelope(e, true) has `,"hash":"…"` (WithHash puts it there).
std::string EncodeEnvelopeUnhashed(const Event& e, size_t* hash_at);
std::string WithHash(std::string_view unhashed, size_t hash_at,
                     std::string_view hash);
// Parses an envelope as EncodeEnvelope writes it (member order free; `meta`
// and `hash` optional; each member at most once). Errors are kCorruption
// with a message naming the member at fault.
Result<Event> DecodeEnvelope(std::string_view json);
// For text the store wrote: the same into *e, reusing its strings' storage
// (a scan that decodes into one Event allocates nothing per event), and
// EncodeEnvelope's own output without escapes takes a hand-written path
// several times faster. Whatever DecodeEnvelope decodes this decodes the
// same; of other text it may accept more, since it checks no more of `data`
// and `meta` than that they are brace-balanced objects without control
// characters in their strings. On an error *e is unspecified.
Status DecodeEnvelopeInto(std::string_view json, Event* e);

// Stream names: `<prefix>-<id>` with prefix one of unit, cycle, goal,
// metric, token, retro, and an id of 1..160 characters from [a-z0-9._-].
// Accepts any lowercase prefix made of [a-z]; the domain narrows it.
bool IsValidStreamName(std::string_view stream);

// A stream name's prefix and id, split at its first '-' ("goal-kr-cac":
// "goal", "kr-cac"); both empty when it has none. Views into `stream`.
struct StreamParts {
  std::string_view kind;
  std::string_view id;
};
StreamParts SplitStream(std::string_view stream);

// Ids: ^[a-z0-9][a-z0-9._-]{0,63}$
bool IsValidId(std::string_view id);

}  // namespace cairn
