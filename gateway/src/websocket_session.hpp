// `GET /api/v1/live`: one WebSocket connection speaking the live protocol
// (../shared/API.md, "Live updates"), in the style of Beast's chat-multi
// example: one strand per connection (here the thread of the shard it runs
// on, see LiveShards) and a bounded outbound queue.
//
//   // In the HTTP session, when the router sees an upgrade to /api/v1/live:
//   if (boost::beast::websocket::is_upgrade(req)) {
//     RunWebSocketSession(stream.release_socket(), std::move(req), live_ctx);
//     return;  // the WebSocket session owns the socket now
//   }
//
// Authentication: `Authorization: Bearer <token>` or `?access_token=`; a
// browser's `Origin` must name the request's `Host`. A failed check answers
// with the contract's HTTP error (401/403) and closes.
//
// Per subscription: registers live at the hub's last published position H,
// then sends a snapshot of the board at H (`snapshot: true`, an epoch
// mismatch, `from` past H or older than `max_replay_events`) or replays
// (from, H] from the store, then `synced`; live events > H follow. Positions
// strictly increase per subscription; nothing is sent twice or skipped. The
// snapshot or the backlog is made on LiveContext::reads when set (the live
// events > H that arrive meanwhile wait for it), so a big board or a long
// resume does not hold the other sessions of its shard.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/core/error.hpp"
#include "cairn/core/model.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "hub.hpp"

namespace cairn::gateway {

struct LiveOptions {
  // Largest client message read. A longer one is dropped as it arrives
  // (never buffered whole) and answered with an `op: error`
  // (payload_too_large); the connection stays open. Only a message past
  // 16 MiB fails the connection (close 1009). Default: 64 KiB.
  size_t max_message_bytes = 64 * 1024;
  // Subscriptions one connection may hold. Default: 32.
  size_t max_subscriptions = 32;
  // Live bytes waiting to be sent to one client; past it the client is
  // closed with 4008 `slow consumer`. Default: 4 MiB.
  size_t max_queue_bytes = 4 * 1024 * 1024;
  // The server pings a quiet client this often; a client silent for twice
  // this long is dropped. Default: 15 s.
  std::chrono::milliseconds ping_interval{15'000};
  // After the server starts a close, the socket is shut this long later
  // whether or not the client answered. Default: 5 s.
  std::chrono::milliseconds close_timeout{5'000};
  // Most events one `from` replays; an older `from` gets a snapshot.
  // Default: 100000.
  uint64_t max_replay_events = 100'000;
};

class BoardCache;
class LiveShards;
class ReadPool;

// Who holds the connection's token.
struct LivePrincipal {
  std::string name;
  std::string unit;  // scope: empty for the whole organisation
};

// What every live session shares; must outlive every session (stop the
// io_context first). The members are set once at start-up.
struct LiveContext {
  Hub* hub = nullptr;
  eventstore::EventStore* store = nullptr;
  LiveOptions options;
  // Token (without "Bearer ") to principal; kUnauthorized when unknown or
  // revoked. Required.
  std::function<Result<LivePrincipal>(std::string_view token)> authenticate;
  // The newest State the server answers from, which holds every write
  // already acknowledged; may be ahead of the hub (an HTTP reply goes out
  // before the hub hears of its batch). A subscribe checks its unit, cycle
  // and scope against it, so that a unit created just before is found.
  // Default: those checks read the State at H.
  std::function<std::shared_ptr<const State>()> latest;
  // The State as of `position` (<= the hub's last published position).
  // Called on the live shards' and the read pool's threads. Default:
  // replays the store from 0.
  std::function<std::shared_ptr<const State>(uint64_t position)> state_at;
  // The board response (API.md, "Views") of the filter's unit, cycle and
  // depth for `state`. Default: a flat list of the goals in scope.
  std::function<std::string(const State& state, const LiveFilter& filter)>
      write_board;
  // Where sessions run: each on one of the shards' single-threaded
  // io_contexts. Required.
  LiveShards* shards = nullptr;
  // Where a subscription's snapshot or backlog (from, H] is made, so that a
  // big board or a long resume does not hold the other sessions of its
  // shard; their live events keep flowing meanwhile. Null (or the pool
  // refusing): on the session's shard thread.
  ReadPool* reads = nullptr;
  // Where a snapshot's board is shared with the other subscribers of that
  // board at the same position. Null: each snapshot renders its board.
  BoardCache* boards = nullptr;
};

// The live sessions' own I/O threads: `count` io_contexts, one thread each;
// a new session joins the next shard round robin and stays there. A shard's
// thread is every one of its sessions' strand, so the hub hands a shard all
// of an event's messages at once (one queue, one wake-up) instead of one
// strand post per session, and a session's handlers never wait on a lock
// another thread holds. At 10,000 clients this cut the server's CPU per
// delivered message from about 14 to about 10 us (bench/fanout).
//
//   LiveShards shards(4);
//   context.shards = &shards;   // before the first session
//   ...
//   hub.Shutdown();             // sessions close with 1001
//   shards.Stop();              // joins; then destroy shards, then the hub
class LiveShards {
 public:
  // `send_ring`: sessions write through a SendRing per shard where the
  // kernel allows (see send_ring.hpp); else, or with false, one send call
  // per write.
  explicit LiveShards(unsigned count, bool send_ring = true);
  ~LiveShards();
  LiveShards(const LiveShards&) = delete;
  LiveShards& operator=(const LiveShards&) = delete;

  // Stops every shard's io_context and joins its thread; sessions still
  // open are dropped without a close frame. Idempotent.
  void Stop();

  struct Shard;
  // The shard a new session joins.
  Shard& Next();
  // Whether the shards write through io_uring (false when the kernel
  // refused it or the constructor was told not to).
  bool batched_sends() const { return batched_sends_; }

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<size_t> next_{0};
  bool stopped_ = false;
  bool batched_sends_ = false;
};

// Takes over `socket` (any executor; the session moves to the next shard of
// `context.shards`) and the upgrade request already read from it,
// authenticates, and runs the session until either side closes. Returns at
// once.
void RunWebSocketSession(
    boost::asio::ip::tcp::socket&& socket,
    boost::beast::http::request<boost::beast::http::string_body>&& request,
    const LiveContext& context);

// The State as of `position`, replayed from the store from 0 (the default
// LiveContext::state_at).
std::shared_ptr<const State> ReplayStateAt(const eventstore::EventStore& store,
                                           uint64_t position);
// The default LiveContext::write_board.
std::string WriteFlatBoard(const State& state, const LiveFilter& filter);

}  // namespace cairn::gateway
