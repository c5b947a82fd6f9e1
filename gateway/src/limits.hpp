// The server's limits, each a named constant with its default. Options in
// server.hpp may override some per server; these are the defaults.
#pragma once

#include <chrono>
#include <cstddef>

namespace cairn::gateway {

// Largest request body read; larger ones get 413 before being read whole.
inline constexpr size_t kMaxBodyBytes = 1 << 20;  // Default: 1 MiB.
// Largest request head (request line + headers).
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;  // Default: 16 KiB.
// Longest request target (path + query).
inline constexpr size_t kMaxTargetBytes = 4096;  // Default: 4 KiB.
// After refusing a request unread (413, 431, ...): how long and how much of
// the rest of it is read and discarded before closing, so the client gets
// the reply instead of a reset.
inline constexpr auto kLingerTimeout =
    std::chrono::seconds(2);                        // Default: 2 s.
inline constexpr size_t kLingerMaxBytes = 8 << 20;  // Default: 8 MiB.
// Time a client has to send a whole request (head and body), counted from
// the connection's start or the last reply, and to take a response; a slow
// (slowloris) client is closed after it, and so is a keep-alive connection
// idle that long (browsers open a new one).
inline constexpr std::chrono::seconds kReadTimeout{15};  // Default: 15 s.
// Connections served at once; past it new ones get 503 and are closed.
inline constexpr size_t kMaxConnections = 4096;  // Default: 4096.
// Commands queued for the Sequencer; past it writes get 503.
inline constexpr size_t kMaxQueuedCommands = 65536;  // Default: 65536.
// Heavy reads (read_pool.hpp) waiting for a read thread; past it they get
// 503 with Retry-After.
inline constexpr size_t kMaxQueuedReads = 1024;  // Default: 1024.
// Live snapshots' boards kept for the next subscriber of the same board at
// the same position (board_cache.hpp).
inline constexpr size_t kBoardCacheBytes = size_t{64} << 20;  // 64 MiB
// Added to the read threads' nice value: on a busy machine the I/O threads
// (light requests, writes, replies) come first.
inline constexpr int kReadThreadNice = 5;  // Default: 5.
// Commands decided and written in one batch (one fsync).
inline constexpr size_t kMaxBatch = 1024;  // Default: 1024.
// Per-token rate limit: sustained requests per second and burst.
inline constexpr double kRateLimitPerSecond = 200;  // Default: 200/s.
inline constexpr double kRateLimitBurst = 400;      // Default: 400.
// Events listed by GET /api/v1/events.
inline constexpr size_t kDefaultEventsLimit = 1000;  // Default: 1000.
inline constexpr size_t kMaxEventsLimit = 10000;     // Default: 10000.
// Idempotency-Key length bounds (printable ASCII).
inline constexpr size_t kMaxIdempotencyKeyBytes = 128;

}  // namespace cairn::gateway
