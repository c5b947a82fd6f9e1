// Batched sends for the live shards: one io_uring per shard, through which a
// shard's WebSocket sessions write, so that an event's thousands of sends
// cost a few system calls instead of one each.
//
//   // On a shard (one thread, one io_context):
//   std::string why;
//   std::unique_ptr<SendRing> ring = SendRing::Open(ioc, &why);  // or null
//   websocket::stream<RingSocket> ws(std::move(socket), ring.get());
//   ...                       // Beast writes through the ring
//   ring->Shutdown();         // after the thread stopped, ioc still alive
//
// A send is prepared on the ring when Beast writes (RingSocket::
// async_write_some) and handed to the kernel once the handler that wrote
// returns (one posted Submit per batch), where a loopback or LAN send runs
// at once; the completions are collected right after, or when the ring's
// descriptor turns readable (Asio's reactor). Where the kernel refuses
// io_uring (seccomp, `kernel.io_uring_disabled`), Open returns null and a
// RingSocket without a ring writes as the plain socket does; the same
// happens per write when a send cannot be prepared (completion queue full,
// too many buffers) and when the kernel answers EAGAIN (the send then waits
// for the socket through Asio).
//
// Why: in bench/fanout at 10,000 clients two thirds of the server's CPU
// per delivered message went to `sendmsg` and its kernel entry; see
// docs/performance.md ("fanout").
//
// Single-threaded: a ring, and every RingSocket on it, are used from their
// shard's thread only (and from the thread that destroys them after it
// stopped). Every handler of a shard runs on that thread, so a completion
// is invoked directly.
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace cairn::gateway {

class SendRing {
 public:
  // One send in flight: the kernel reads `msg` (and the buffers it points
  // to) until the send completes; OnSent then gets the CQE's result.
  class Op {
   public:
    static constexpr size_t kMaxBuffers = 8;
    ::msghdr msg{};
    ::iovec iov[kMaxBuffers]{};
    // On the shard's thread; `result` is the send's: bytes or -errno.
    virtual void OnSent(int result) = 0;
    // From Shutdown, instead of OnSent: the send will not complete.
    virtual void OnDropped() = 0;

   protected:
    ~Op() = default;
  };

  // Sizes: `entries` sends prepared between two submits (more submit at
  // once), up to `completions` sends in flight (more go the plain way).
  static std::unique_ptr<SendRing> Open(boost::asio::io_context& ioc,
                                        std::string* why,
                                        unsigned entries = 1024,
                                        unsigned completions = 16384);
  ~SendRing();
  SendRing(const SendRing&) = delete;
  SendRing& operator=(const SendRing&) = delete;

  // Prepares op.msg as a send on `fd`. False when it cannot now (the ring
  // is shut down or as many sends as completions are in flight): the
  // caller sends another way. Requires op to stay alive until OnSent.
  bool Prepare(int fd, Op& op);
  // Hands the prepared sends to the kernel now. Call before closing a
  // descriptor that may have one: a prepared send names the descriptor by
  // number, which a new connection may reuse once it is closed.
  void Submit();
  // After the shard's thread stopped, with its io_context still alive:
  // cancels the sends in flight and waits for them (up to 1 s), calling
  // OnDropped for each. Then Prepare returns false and Submit does
  // nothing. Idempotent.
  void Shutdown();

  // Sends prepared and not yet completed; sends prepared and submit calls
  // since Open (for tests).
  size_t in_flight() const { return in_flight_; }
  size_t sends() const { return sends_; }
  size_t submits() const { return submits_; }

 private:
  SendRing(boost::asio::io_context& ioc, unsigned completions)
      : ioc_(ioc), completions_(completions) {}
  void SchedulePosted();
  // Submits, then completes what the kernel finished.
  void OnPosted();
  void Reap();
  void ArmWait();

  boost::asio::io_context& ioc_;
  ::io_uring ring_{};
  bool initialized_ = false;  // ring_ is set up
  bool open_ = false;         // and takes sends
  const unsigned completions_;
  size_t in_flight_ = 0;
  size_t unsubmitted_ = 0;
  size_t sends_ = 0;
  size_t submits_ = 0;
  bool posted_ = false;
  bool waiting_ = false;
  // The ring's descriptor as Asio sees it: readable when completions wait.
  std::optional<boost::asio::posix::stream_descriptor> wake_;
};

// A TCP socket whose writes go through a SendRing when it has one: the
// next layer of a websocket::stream on a shard. Reads, the teardown and
// everything else are the plain socket's.
class RingSocket final : private SendRing::Op {
 public:
  using executor_type = boost::asio::io_context::executor_type;
  using Socket =
      boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;
  using WriteHandler = boost::asio::any_completion_handler<void(
      boost::system::error_code, size_t)>;

  // `ring` may be null: every write is the socket's own.
  RingSocket(Socket&& socket, SendRing* ring)
      : socket_(std::move(socket)), ring_(ring) {}
  RingSocket(RingSocket&&) = delete;
  ~RingSocket() { SubmitPrepared(); }

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& socket() { return socket_; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  // One write at a time (Beast serializes a stream's writes).
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    // Sends not batched, or the stream torn down (its last writes, if any,
    // go with the socket it closes): the socket's own write.
    if (ring_ == nullptr || torn_down_) {
      return socket_.async_write_some(buffers, std::forward<Token>(token));
    }
    return boost::asio::async_initiate<Token,
                                       void(boost::system::error_code, size_t)>(
        [this](auto handler, const Buffers& b) {
          StartWrite(b, WriteHandler(std::move(handler)));
        },
        token, buffers);
  }

  // Submits this socket's prepared send, if any, then closes.
  void close(boost::system::error_code& ec) {
    SubmitPrepared();
    socket_.close(ec);
  }

  // beast::close_socket (a websocket timeout) on the lowest layer.
  friend void beast_close_socket(RingSocket& s) {
    boost::system::error_code ignored;
    s.close(ignored);
  }
  // The websocket close handshake's end: no write of the stream follows,
  // so the plain socket's teardown closes it once nothing is prepared.
  friend void teardown(boost::beast::role_type role, RingSocket& s,
                       boost::system::error_code& ec) {
    s.torn_down_ = true;
    s.SubmitPrepared();
    boost::beast::websocket::teardown(role, s.socket_, ec);
  }
  template <typename Handler>
  friend void async_teardown(boost::beast::role_type role, RingSocket& s,
                             Handler&& handler) {
    s.torn_down_ = true;
    s.SubmitPrepared();
    boost::beast::websocket::async_teardown(role, s.socket_,
                                            std::forward<Handler>(handler));
  }

 private:
  template <typename Buffers>
  void StartWrite(const Buffers& buffers, WriteHandler handler) {
    size_t count = 0;
    bool fits = true;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         fits && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      if (count == kMaxBuffers) {
        fits = false;
        break;
      }
      iov[count].iov_base = const_cast<void*>(b.data());
      iov[count].iov_len = b.size();
      ++count;
    }
    if (fits && count > 0) {
      msg = {};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      if (ring_->Prepare(socket_.native_handle(), *this)) {
        // Swapped, not assigned: Boost 1.81's move assignment of an
        // any_completion_handler wraps it in another, endlessly.
        handler_.swap(handler);
        prepared_ = true;
        return;
      }
    }
    socket_.async_write_some(buffers, std::move(handler));
  }

  void SubmitPrepared() {
    if (prepared_ && ring_ != nullptr) ring_->Submit();
  }

  void OnSent(int result) override;
  void OnDropped() override;

  Socket socket_;
  SendRing* ring_;
  WriteHandler handler_;   // of the send on the ring, until it completes
  bool prepared_ = false;  // a send of this socket is on the ring
  bool torn_down_ = false;
};

}  // namespace cairn::gateway
