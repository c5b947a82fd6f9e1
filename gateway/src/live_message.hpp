// The live protocol's messages (../shared/API.md, "Live updates"): parsing
// what a client sends and writing what the server sends.
//
//   Result<ClientMessage> m = ParseClientMessage(R"({"op":"ping"})");
//   if (!m) send(WriteError(m.error(), /*sub=*/""));
//   std::string frame = WriteSynced("s1", 1042, epoch);
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/core/error.hpp"
#include "live_event.hpp"

namespace cairn::gateway {

// Longest subscription id accepted. Default: 64.
inline constexpr size_t kMaxSubIdBytes = 64;
// Deepest `depth` accepted (-1 means all levels). Default: 64.
inline constexpr int kMaxDepth = 64;

struct ClientMessage {
  enum class Op { kSubscribe, kUnsubscribe, kPing };
  Op op = Op::kPing;
  std::string sub;
  LiveFilter filter;             // subscribe
  std::optional<uint64_t> from;  // subscribe
  bool snapshot = false;         // subscribe
  std::string epoch;             // subscribe; empty when absent
};

// Parses one text frame. Errors: kBadJson (not one JSON object) or
// kValidationFailed with `field` naming the member at fault. The error's
// `field` is "sub" only when the sub id is bad; when the message carried a
// usable sub id it is returned in `sub_out` so the answer can name it.
Result<ClientMessage> ParseClientMessage(std::string_view text,
                                         std::string* sub_out = nullptr);

std::string WriteError(const Error& error, std::string_view sub);
std::string WritePong();
std::string WriteSynced(std::string_view sub, uint64_t position,
                        std::string_view epoch);
// The snapshot message up to its board: the message is this, then a board
// response (API.md, "Views") verbatim, then "}". Sent in those three
// pieces, a board shared by many subscribers is never copied.
std::string WriteSnapshotHead(std::string_view sub, uint64_t position);
// The event message with only the goals inside the filter's scope.
std::string WriteEventMessage(std::string_view sub, const LiveFilter& filter,
                              const LiveEvent& event);

}  // namespace cairn::gateway
