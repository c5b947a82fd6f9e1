#include "websocket_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "board_cache.hpp"
#include "cairn/core/apply.hpp"
#include "cairn/core/json_writer.hpp"
#include "http_errors.hpp"
#include "live_message.hpp"
#include "read_pool.hpp"
#include "reused_queue.hpp"
#include "send_ring.hpp"
#include "thread_name.hpp"

namespace cairn::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
// The HTTP request that asks for the upgrade (not the router's Request).
using UpgradeRequest = http::request<http::string_body>;

// A catch-up's message: `text`, or for a snapshot `text` + the board + "}",
// the board's bytes shared by every subscriber of that board at that
// position (BoardCache) rather than copied into each message.
struct Message {
  std::string text;
  BoardCache::Board board;
};

// The board a filter names, as a key: unit, cycle and depth.
std::string BoardKey(const LiveFilter& filter) {
  std::string key = filter.unit;
  key += '\0';
  key += filter.cycle;
  key += '\0';
  key += std::to_string(filter.depth);
  return key;
}

// A session's socket and timer name their shard's executor type, so that
// no handler goes through any_io_executor's type erasure.
using ShardExecutor = net::io_context::executor_type;
using ShardSocket = net::basic_stream_socket<tcp, ShardExecutor>;
using ShardTimer =
    net::basic_waitable_timer<std::chrono::steady_clock,
                              net::wait_traits<std::chrono::steady_clock>,
                              ShardExecutor>;

// Close code for a client whose unsent data passed the bound (API.md).
constexpr auto kCloseSlowConsumer = static_cast<websocket::close_code>(4008);
// Close code for a session whose token was revoked while it was open.
constexpr auto kCloseTokenRevoked = static_cast<websocket::close_code>(4001);

// A message longer than this fails the connection (RFC 6455: 1009) instead
// of being skipped and answered with an error.
constexpr size_t kHardMessageMax = 16 * 1024 * 1024;

// The value of query parameter `name` in `target`, percent-decoding not
// needed for tokens (URL-safe by construction); empty when absent.
std::string_view QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return {};
}

std::string_view TokenOf(const UpgradeRequest& req) {
  auto it = req.find(http::field::authorization);
  if (it != req.end()) {
    std::string_view v = it->value();
    constexpr std::string_view kBearer = "Bearer ";
    if (v.size() > kBearer.size() && v.substr(0, kBearer.size()) == kBearer) {
      return v.substr(kBearer.size());
    }
    return {};
  }
  return QueryParam(req.target(), "access_token");
}

// A browser's Origin must name the Host it connects to (scheme stripped).
bool OriginAllowed(const UpgradeRequest& req) {
  auto origin = req.find(http::field::origin);
  if (origin == req.end()) return true;  // not a browser
  std::string_view o = origin->value();
  const size_t scheme = o.find("://");
  if (scheme == std::string_view::npos) return false;
  o = o.substr(scheme + 3);
  auto host = req.find(http::field::host);
  return host != req.end() && host->value() == o;
}

// Writes the contract's error answer (ErrorResponse, with the headers of
// every answer) on a socket that will not be upgraded.
void RejectUpgrade(tcp::socket&& socket, const UpgradeRequest& req,
                   const Error& error) {
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  Response answer = ErrorResponse(error);
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(answer.status), req.version());
  SetAnswerHeaders(*res);
  res->set(http::field::content_type, answer.content_type);
  res->keep_alive(false);
  res->body() = std::move(answer.body);
  res->prepare_payload();
  stream->expires_after(std::chrono::seconds(10));
  http::async_write(*stream, *res, [stream, res](beast::error_code, size_t) {
    beast::error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_send, ec);
  });
}

class WebSocketSession;

// Memory for a shard's write operations. A drain starts one write per
// session before any of them completes, so Asio's per-thread cache (two
// blocks) misses on each and every write went to malloc and free; this
// keeps the freed blocks for the next event. One thread only (the shard's,
// or the one destroying it after it stopped).
class OpPool {
 public:
  OpPool() = default;
  OpPool(const OpPool&) = delete;
  OpPool& operator=(const OpPool&) = delete;
  ~OpPool() {
    for (auto& blocks : free_) {
      for (void* p : blocks) ::operator delete(p);
    }
  }

  void* Allocate(size_t size) {
    const size_t c = Class(size);
    if (c < kClasses && !free_[c].empty()) {
      void* p = free_[c].back();
      free_[c].pop_back();
      return p;
    }
    return ::operator new(c < kClasses ? c * kGrain : size);
  }
  void Deallocate(void* p, size_t size) {
    const size_t c = Class(size);
    if (c < kClasses && free_[c].size() < kMaxFree) {
      free_[c].push_back(p);
      return;
    }
    ::operator delete(p);
  }

 private:
  static constexpr size_t kGrain = 64;
  static constexpr size_t kClasses = 17;      // blocks up to 1 KiB
  static constexpr size_t kMaxFree = 16'384;  // per class
  static size_t Class(size_t size) { return (size + kGrain - 1) / kGrain; }
  std::vector<void*> free_[kClasses];
};

// An OpPool as the allocator associated with a completion handler.
template <typename T>
struct OpPoolAllocator {
  using value_type = T;
  explicit OpPoolAllocator(OpPool* p) : pool(p) {}
  template <typename U>
  OpPoolAllocator(const OpPoolAllocator<U>& other)  // NOLINT: rebinding
      : pool(other.pool) {}
  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    return static_cast<T*>(pool->Allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) { pool->Deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const OpPoolAllocator<U>& other) const {
    return pool == other.pool;
  }
  template <typename U>
  bool operator!=(const OpPoolAllocator<U>& other) const {
    return pool != other.pool;
  }
  OpPool* pool;
};

}  // namespace

// One shard: an io_context run by one thread, and the live batches waiting
// for its sessions (filled by the publishing thread, drained on the shard's).
struct LiveShards::Shard {
  // The thread has stopped (LiveShards::Stop); ioc is still alive for the
  // sends the ring drops.
  ~Shard() {
    if (ring) ring->Shutdown();
  }

  using Delivery = std::pair<std::shared_ptr<WebSocketSession>,
                             std::shared_ptr<const LiveBatch>>;

  // Queues `batch` for `session` (a session of this shard); posts one drain
  // for however many arrive before it runs.
  void Enqueue(std::shared_ptr<WebSocketSession> session,
               std::shared_ptr<const LiveBatch> batch);
  // On the shard's thread: hands every queued batch to its session, in the
  // order they were queued.
  void Drain();
  // During Drain: the message `render()` makes for batch.events[index] and
  // `key` (see LiveBatch::Shared), kept for the rest of the drain so that
  // the shard's sessions share it without taking the batch's lock.
  template <typename Render>
  std::shared_ptr<const std::string> Rendered(const LiveBatch& batch,
                                              size_t index,
                                              const std::string& key,
                                              Render&& render) {
    for (const Memo& m : memo) {
      if (m.batch == &batch && m.index == index && m.key == key) return m.text;
    }
    memo.push_back({&batch, index, key,
                    batch.Shared(index, key, std::forward<Render>(render))});
    return memo.back().text;
  }

  // Declared first, destroyed last: write operations still queued when
  // ioc goes give their memory back to ops, and the sessions below close
  // their sockets while ioc is still there.
  OpPool ops;
  // Null when sends are not batched. Outlives ioc: sessions its queued
  // handlers release on the way out may still name it.
  std::unique_ptr<SendRing> ring;
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work =
      net::make_work_guard(ioc);
  std::thread thread;
  std::mutex mu;
  bool drain_posted = false;       // guarded by mu
  std::vector<Delivery> pending;   // guarded by mu
  std::vector<Delivery> draining;  // the shard's thread only
  // Rendered() of the current drain (its batches are alive till it ends).
  struct Memo {
    const LiveBatch* batch;
    size_t index;
    std::string key;
    std::shared_ptr<const std::string> text;
  };
  std::vector<Memo> memo;  // the shard's thread only
};

namespace {

class WebSocketSession : public LiveSink,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  // `shard`: the shard whose io_context `socket` is on.
  WebSocketSession(ShardSocket&& socket, const LiveContext& ctx,
                   LivePrincipal principal, LiveShards::Shard& shard)
      : ws_(std::move(socket), shard.ring.get()),
        ctx_(ctx),
        principal_(std::move(principal)),
        shard_(shard),
        close_timer_(ws_.get_executor()) {}

  ~WebSocketSession() override {
    if (sink_id_ != 0) ctx_.hub->Detach(sink_id_);
  }

  void Run(UpgradeRequest req) {
    ws_.set_option(websocket::stream_base::timeout{
        std::chrono::seconds(30), ctx_.options.ping_interval * 2, true});
    ws_.set_option(
        websocket::stream_base::decorator([](websocket::response_type& res) {
          res.set(http::field::server, "cairn");
        }));
    // Messages are read piecewise (DoRead) so that one over
    // max_message_bytes is dropped as it arrives and answered with an error;
    // only past kHardMessageMax does Beast fail the connection (1009).
    ws_.read_message_max(
        std::max(kHardMessageMax, ctx_.options.max_message_bytes));
    ws_.auto_fragment(false);
    auto req_ptr = std::make_shared<UpgradeRequest>(std::move(req));
    ws_.async_accept(
        *req_ptr, [self = shared_from_this(), req_ptr](beast::error_code ec) {
          self->OnAccept(ec);
        });
  }

  void Deliver(std::shared_ptr<const LiveBatch> cs) override {
    shard_.Enqueue(shared_from_this(), std::move(cs));
  }

  // In the shard's Drain: sends what of `cs` matches the subscriptions.
  void OnLiveBatch(const LiveBatch& cs) {
    if (closing_) return;
    for (size_t i = 0; i < cs.events.size(); ++i) {
      const LiveEvent& e = cs.events[i];
      if (!e.revoked_token.empty() && e.revoked_token == principal_.name) {
        StartClose({kCloseTokenRevoked, "token revoked"});
        return;
      }
      for (auto& [id, sub] : subs_) {
        if (e.position <= sub.cursor) continue;
        sub.cursor = e.position;
        if (Matches(sub.filter, e)) {
          auto text =
              shard_.Rendered(cs, i, sub.key, [&, &id = id, &sub = sub] {
                return WriteEventMessage(id, sub.filter, e);
              });
          if (sub.catching_up) {
            held_bytes_ += text->size();
            sub.held.push_back(std::move(text));
          } else {
            Send(std::move(text), true);
          }
        }
      }
    }
    if (counted_bytes_ + held_bytes_ > ctx_.options.max_queue_bytes) {
      StartClose({kCloseSlowConsumer, "slow consumer"});
    }
  }

  void Shutdown() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->StartClose({websocket::close_code::going_away, "shutting down"});
    });
  }

 private:
  struct Sub {
    LiveFilter filter;
    uint64_t cursor = 0;  // last position sent or covered
    // Identifies the rendered event message (sub id and filter): sessions
    // with equal keys share one rendering per event (LiveBatch::Shared).
    std::string key;
    // While its snapshot or backlog is made on the read pool: live
    // messages (past H) wait here, and go out after it and `synced`.
    bool catching_up = false;
    std::vector<std::shared_ptr<const std::string>> held;
    // Tells this subscription from an earlier one of the same id (a
    // catch-up finishing after an unsubscribe and a new subscribe).
    uint64_t generation = 0;
  };
  struct Outgoing {
    // Shared: a live event's bytes are rendered once for every session
    // with the same subscription; Beast writes from them as a const buffer.
    std::shared_ptr<const std::string> text;
    // A snapshot's board, sent after `text` and before a closing brace.
    BoardCache::Board board;
    bool counted;  // live traffic, bounded by max_queue_bytes
  };

  void OnAccept(beast::error_code ec) {
    if (ec) return;
    sink_id_ = ctx_.hub->Attach(weak_from_this());
    DoRead();
  }

  void DoRead() {
    ws_.async_read_some(
        buffer_, 0, [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnRead(ec);
        });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      // Closed by the peer, timed out, or a protocol violation (Beast has
      // already failed the connection with the RFC's code).
      Finish();
      return;
    }
    if (oversize_ || buffer_.size() > ctx_.options.max_message_bytes) {
      // Too long: drop what came and the rest as it comes, never holding
      // more than the limit.
      oversize_ = true;
      buffer_.consume(buffer_.size());
    }
    if (!ws_.is_message_done()) {
      DoRead();
      return;
    }
    if (oversize_) {
      oversize_ = false;
      Send(WriteError(Error{ErrorCode::kPayloadTooLarge,
                            "message longer than " +
                                std::to_string(ctx_.options.max_message_bytes) +
                                " bytes",
                            {}},
                      ""),
           false);
    } else if (!ws_.got_text()) {
      Send(WriteError(Error{ErrorCode::kBadJson,
                            "binary frames are not part of the protocol",
                            {}},
                      ""),
           false);
    } else {
      std::string text = beast::buffers_to_string(buffer_.data());
      HandleMessage(text);
    }
    buffer_.consume(buffer_.size());
    // Keep reading while closing: the peer's close frame ends the session.
    DoRead();
  }

  void HandleMessage(std::string_view text) {
    std::string sub;
    Result<ClientMessage> m = ParseClientMessage(text, &sub);
    if (!m) {
      Send(WriteError(m.error(), sub), false);
      return;
    }
    switch (m->op) {
      case ClientMessage::Op::kPing:
        Send(WritePong(), false);
        return;
      case ClientMessage::Op::kUnsubscribe: {
        auto it = subs_.find(m->sub);
        if (it == subs_.end()) {
          Send(WriteError(Error::NotFound("no such subscription"), m->sub),
               false);
          return;
        }
        for (const auto& text : it->second.held) held_bytes_ -= text->size();
        subs_.erase(it);
        ctx_.hub->RemoveSubscription(sink_id_, m->sub);
        return;
      }
      case ClientMessage::Op::kSubscribe:
        Subscribe(*m);
        return;
    }
  }

  void Subscribe(const ClientMessage& m) {
    if (subs_.count(m.sub) != 0) {
      Send(WriteError(Error{ErrorCode::kAlreadyExists,
                            "subscription id already in use", "sub"},
                      m.sub),
           false);
      return;
    }
    if (subs_.size() >= ctx_.options.max_subscriptions) {
      Send(WriteError(Error{ErrorCode::kRateLimited,
                            "too many subscriptions on this connection", "sub"},
                      m.sub),
           false);
      return;
    }
    // Live from H first, so nothing published after H is missed; events up
    // to H come from the store below. Deliveries queue behind this handler
    // on the shard's thread and skip what the cursor covers.
    std::shared_ptr<const State> at_head;
    const uint64_t head =
        ctx_.hub->AddSubscription(sink_id_, m.sub, m.filter, &at_head);
    if (!at_head) at_head = StateAt(ctx_, head);
    // Units and cycles are never removed: the newer State knows all of H's.
    std::shared_ptr<const State> now = ctx_.latest ? ctx_.latest() : nullptr;
    const State& checks =
        now && now->position > at_head->position ? *now : *at_head;
    // Revoked since the connection opened (and before H, or its batch
    // found no subscription here to close).
    if (auto t = checks.tokens.find(principal_.name);
        t != checks.tokens.end() && t->second.revoked) {
      ctx_.hub->RemoveSubscription(sink_id_, m.sub);
      StartClose({kCloseTokenRevoked, "token revoked"});
      return;
    }
    const std::vector<std::string> chain = UnitChain(checks, m.filter.unit);
    const bool in_scope =
        principal_.unit.empty() ||
        std::find(chain.begin(), chain.end(), principal_.unit) != chain.end();
    if (checks.FindUnit(m.filter.unit) == nullptr || !in_scope) {
      ctx_.hub->RemoveSubscription(sink_id_, m.sub);
      Send(WriteError(Error{ErrorCode::kNotFound, "no such unit", "unit"},
                      m.sub),
           false);
      return;
    }
    if (!m.filter.cycle.empty() &&
        checks.FindCycle(m.filter.cycle) == nullptr) {
      ctx_.hub->RemoveSubscription(sink_id_, m.sub);
      Send(WriteError(Error{ErrorCode::kNotFound, "no such cycle", "cycle"},
                      m.sub),
           false);
      return;
    }

    const std::string epoch = ctx_.store->Epoch();
    Sub& sub = subs_[m.sub];
    sub.filter = m.filter;
    sub.cursor = head;
    sub.generation = ++generations_;
    sub.key = m.sub;
    sub.key += '\0';
    sub.key += BoardKey(m.filter);
    // A `from` between H and the store's head is already durable but not yet
    // published (HTTP replies go out before the hub hears of a batch): no
    // replay, live traffic up to `from` is skipped by the cursor.
    const bool want_snapshot =
        m.snapshot ||
        (m.from &&
         ((!m.epoch.empty() && m.epoch != epoch) ||
          (*m.from > head && *m.from > ctx_.store->Head()) ||
          (*m.from < head && head - *m.from > ctx_.options.max_replay_events)));
    if (want_snapshot) {
      auto snapshot = [&ctx = ctx_, sub_id = m.sub, filter = m.filter, head,
                       at_head] {
        return std::vector<Message>{
            {WriteSnapshotHead(sub_id, head), BoardAt(ctx, *at_head, filter)}};
      };
      if (StartCatchUp(m.sub, sub, head, epoch, snapshot)) return;
      for (Message& message : snapshot()) Send(std::move(message));
    } else if (m.from && *m.from < head) {
      auto backlog = [&ctx = ctx_, sub_id = m.sub, filter = m.filter,
                      from = *m.from, head] {
        return ReadBacklog(ctx, sub_id, filter, from, head);
      };
      if (StartCatchUp(m.sub, sub, head, epoch, backlog)) return;
      for (Message& message : backlog()) Send(std::move(message));
    } else if (m.from) {
      sub.cursor = *m.from;
    }
    Send(WriteSynced(m.sub, sub.cursor, epoch), false);
  }

  // The filter's board in `state`, shared through the context's cache with
  // every subscriber of that board at the same position.
  static BoardCache::Board BoardAt(const LiveContext& ctx, const State& state,
                                   const LiveFilter& filter) {
    auto render = [&] {
      return ctx.write_board ? ctx.write_board(state, filter)
                             : WriteFlatBoard(state, filter);
    };
    if (ctx.boards == nullptr) {
      return std::make_shared<const std::string>(render());
    }
    return ctx.boards->Get(BoardKey(filter), state.position, render);
  }

  // Every event in (from, head] that matches, with goal views as of each
  // event, computed by applying the backlog to the State as of `from`, in
  // order (an error message last when the store could not be read).
  // Touches nothing of the session: runs on any thread.
  static std::vector<Message> ReadBacklog(const LiveContext& ctx,
                                          const std::string& sub_id,
                                          const LiveFilter& filter,
                                          uint64_t from, uint64_t head) {
    std::vector<Message> out;
    State state = *StateAt(ctx, from);
    Status st = ctx.store->ReadAll(from, [&](const Event& e) {
      if (e.position > head) return false;
      Apply(state, e);
      LiveEvent live = ctx.hub->Describe(state, e);
      if (Matches(filter, live)) {
        out.push_back({WriteEventMessage(sub_id, filter, live), nullptr});
      }
      return true;
    });
    if (!st) {
      out.push_back(
          {WriteError(Error{ErrorCode::kUnavailable,
                            "could not read the backlog: " + st.error().message,
                            {}},
                      sub_id),
           nullptr});
    }
    return out;
  }

  // A subscription's catch-up (its snapshot, or its backlog) made by
  // `make` on the read pool: live messages for the subscription are held
  // meanwhile (OnLiveBatch), then the catch-up, `synced` at `head` and the
  // held ones go out in order. False when there is no pool or it refused
  // the task (the caller makes it here).
  template <typename Make>
  bool StartCatchUp(const std::string& sub_id, Sub& sub, uint64_t head,
                    const std::string& epoch, Make make) {
    if (ctx_.reads == nullptr) return false;
    sub.catching_up = true;
    // The task hands its reference to the session over to the shard: the
    // session is never released (and destroyed) on a read thread.
    const bool queued = ctx_.reads->Submit(
        [self = shared_from_this(), executor = ws_.get_executor(), sub_id,
         generation = sub.generation, head, epoch,
         make = std::move(make)](bool run) mutable {
          std::vector<Message> messages;
          if (run) messages = make();
          net::post(executor,
                    [self = std::move(self), sub_id, generation, head, epoch,
                     run, messages = std::move(messages)]() mutable {
                      self->FinishCatchUp(sub_id, generation, head, epoch, run,
                                          std::move(messages));
                    });
        });
    if (!queued) sub.catching_up = false;
    return queued;
  }

  // On the shard again: the catch-up, `synced`, then the live messages held
  // meanwhile. When the pool stopped before making it (`made` false), the
  // subscription ends with an error instead.
  void FinishCatchUp(const std::string& sub_id, uint64_t generation,
                     uint64_t head, const std::string& epoch, bool made,
                     std::vector<Message> messages) {
    auto it = subs_.find(sub_id);
    if (it == subs_.end() || it->second.generation != generation) {
      return;  // unsubscribed meanwhile
    }
    Sub& sub = it->second;
    sub.catching_up = false;
    std::vector<std::shared_ptr<const std::string>> held;
    held.swap(sub.held);
    for (const auto& text : held) held_bytes_ -= text->size();
    if (!made) {
      subs_.erase(it);
      if (sink_id_ != 0) ctx_.hub->RemoveSubscription(sink_id_, sub_id);
      Send(WriteError(Error{ErrorCode::kUnavailable, "shutting down", {}},
                      sub_id),
           false);
      return;
    }
    for (Message& message : messages) Send(std::move(message));
    Send(WriteSynced(sub_id, head, epoch), false);
    for (auto& text : held) Send(std::move(text), true);
  }

  static std::shared_ptr<const State> StateAt(const LiveContext& ctx,
                                              uint64_t position) {
    return ctx.state_at ? ctx.state_at(position)
                        : ReplayStateAt(*ctx.store, position);
  }

  void Send(std::string text, bool counted) {
    if (closing_) return;
    Send(std::make_shared<const std::string>(std::move(text)), counted);
  }

  void Send(std::shared_ptr<const std::string> text, bool counted) {
    if (closing_) return;
    if (counted) counted_bytes_ += text->size();
    queue_.push_back({std::move(text), nullptr, counted});
    if (!writing_) DoWrite();
  }

  // A catch-up's message (not counted toward the slow-consumer bound).
  void Send(Message message) {
    if (closing_) return;
    queue_.push_back(
        {std::make_shared<const std::string>(std::move(message.text)),
         std::move(message.board), false});
    if (!writing_) DoWrite();
  }

  void DoWrite() {
    writing_ = true;
    ws_.text(true);
    auto done = net::bind_allocator(
        OpPoolAllocator<void>(&shard_.ops),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnWrite(ec);
        });
    const Outgoing& next = queue_.front();
    if (next.board == nullptr) {
      ws_.async_write(net::buffer(*next.text), std::move(done));
      return;
    }
    static constexpr char kClose[] = "}";
    ws_.async_write(std::array<net::const_buffer, 3>{net::buffer(*next.text),
                                                     net::buffer(*next.board),
                                                     net::buffer(kClose, 1)},
                    std::move(done));
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (!queue_.empty()) {
      if (queue_.front().counted) {
        counted_bytes_ -= queue_.front().text->size();
      }
      queue_.pop_front();
    }
    if (ec) {
      Finish();
      return;
    }
    if (close_reason_) {
      DoClose();
      return;
    }
    if (!queue_.empty()) DoWrite();
  }

  // Drops what is queued and closes once the write in flight (if any) ends;
  // the socket is shut after close_timeout whatever the peer does.
  void StartClose(websocket::close_reason reason) {
    if (closing_) return;
    closing_ = true;
    close_reason_ = std::move(reason);
    if (writing_) {
      while (queue_.size() > 1) queue_.pop_back();
    } else {
      queue_.clear();
      DoClose();
    }
    close_timer_.expires_after(ctx_.options.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).close(ignored);
    });
  }

  void DoClose() {
    ws_.async_close(*close_reason_,
                    [self = shared_from_this()](beast::error_code) {
                      self->close_timer_.cancel();
                    });
  }

  void Finish() {
    closing_ = true;
    // The frame in flight (if any) stays until its handler runs.
    while (queue_.size() > (writing_ ? 1 : 0)) queue_.pop_back();
    close_timer_.cancel();
    if (sink_id_ != 0) {
      ctx_.hub->Detach(sink_id_);
      sink_id_ = 0;
    }
  }

  websocket::stream<RingSocket> ws_;
  const LiveContext& ctx_;
  const LivePrincipal principal_;
  LiveShards::Shard& shard_;
  ShardTimer close_timer_;
  beast::flat_buffer buffer_;
  uint64_t sink_id_ = 0;
  std::map<std::string, Sub> subs_;
  uint64_t generations_ = 0;
  ReusedQueue<Outgoing> queue_;
  size_t counted_bytes_ = 0;
  size_t held_bytes_ = 0;  // Sub::held of every subscription
  bool writing_ = false;
  bool closing_ = false;
  bool oversize_ = false;  // the message being read passed the limit
  std::optional<websocket::close_reason> close_reason_;
};

}  // namespace

void LiveShards::Shard::Enqueue(std::shared_ptr<WebSocketSession> session,
                                std::shared_ptr<const LiveBatch> batch) {
  bool post = false;
  {
    std::lock_guard lock(mu);
    pending.emplace_back(std::move(session), std::move(batch));
    post = !drain_posted;
    drain_posted = true;
  }
  if (post) net::post(ioc, [this] { Drain(); });
}

void LiveShards::Shard::Drain() {
  {
    std::lock_guard lock(mu);
    draining.swap(pending);
    drain_posted = false;
  }
  for (const auto& [session, batch] : draining) session->OnLiveBatch(*batch);
  memo.clear();
  draining.clear();
}

LiveShards::LiveShards(unsigned count, bool send_ring) {
  std::string refused;
  for (unsigned i = 0; i < std::max(1u, count); ++i) {
    auto shard = std::make_unique<Shard>();
    if (send_ring && refused.empty()) {
      shard->ring = SendRing::Open(shard->ioc, &refused);
    }
    shards_.push_back(std::move(shard));
  }
  if (!refused.empty()) {
    for (auto& shard : shards_) shard->ring.reset();
    spdlog::warn(
        "live updates: io_uring refused ({}); one send call per message",
        refused);
  }
  batched_sends_ = shards_.front()->ring != nullptr;
  for (size_t i = 0; i < shards_.size(); ++i) {
    shards_[i]->thread = std::thread([ioc = &shards_[i]->ioc] { ioc->run(); });
    NameThread(shards_[i]->thread, "cairn-live-" + std::to_string(i));
  }
}

LiveShards::~LiveShards() {
  Stop();
  // Sessions still queued or held by handlers go now, while the hub and the
  // context they point to are alive (the owner destroys this first).
  shards_.clear();
}

void LiveShards::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& shard : shards_) {
    shard->work.reset();
    shard->ioc.stop();
  }
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

LiveShards::Shard& LiveShards::Next() {
  return *shards_[next_.fetch_add(1, std::memory_order_relaxed) %
                  shards_.size()];
}

void RunWebSocketSession(tcp::socket&& socket, UpgradeRequest&& request,
                         const LiveContext& context) {
  beast::error_code ec;
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) return;
  // The session moves to a shard: its thread is the session's strand.
  LiveShards::Shard& shard = context.shards->Next();
  const tcp::socket::native_handle_type fd = socket.release(ec);
  if (ec) return;
  ShardSocket on_shard(shard.ioc.get_executor(), local.protocol(), fd);

  if (!OriginAllowed(request)) {
    RejectUpgrade(
        tcp::socket(std::move(on_shard)), request,
        Error{ErrorCode::kForbidden, "Origin does not match the Host", {}});
    return;
  }
  std::string_view token = TokenOf(request);
  Result<LivePrincipal> principal =
      token.empty() ? Result<LivePrincipal>(Error{
                          ErrorCode::kUnauthorized, "a token is required", {}})
                    : context.authenticate(token);
  if (!principal) {
    RejectUpgrade(tcp::socket(std::move(on_shard)), request,
                  Error{ErrorCode::kUnauthorized, "invalid token", {}});
    return;
  }
  // Started on the shard's thread, like every later handler: the send ring
  // takes writes from that thread only.
  net::post(shard.ioc,
            [session = std::make_shared<WebSocketSession>(
                 std::move(on_shard), context, std::move(*principal), shard),
             request = std::move(request)]() mutable {
              session->Run(std::move(request));
            });
}

std::shared_ptr<const State> ReplayStateAt(const eventstore::EventStore& store,
                                           uint64_t position) {
  auto state = std::make_shared<State>();
  if (position == 0) return state;
  store
      .ReadAll(0,
               [&](const Event& e) {
                 if (e.position > position) return false;
                 Apply(*state, e);
                 return true;
               })
      .IgnoreError();
  return state;
}

std::string WriteFlatBoard(const State& state, const LiveFilter& filter) {
  JsonWriter w;
  w.BeginObject();
  w.Key("unit").String(filter.unit);
  w.Key("cycle").String(filter.cycle);
  w.Key("goals").BeginArray();
  for (const auto& [id, g] : state.goals) {
    LiveTouch where{UnitChain(state, g.unit), g.cycle};
    if (where.units.empty()) where.units.push_back(g.unit);
    if (InScope(filter, where)) {
      w.Raw(DefaultWriteGoal(state, g, state.at));
    }
  }
  w.EndArray();
  w.Key("position").Uint(state.position);
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace cairn::gateway
