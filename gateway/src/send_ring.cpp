#include "send_ring.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::gateway {

namespace net = boost::asio;

std::unique_ptr<SendRing> SendRing::Open(net::io_context& ioc, std::string* why,
                                         unsigned entries,
                                         unsigned completions) {
  std::unique_ptr<SendRing> ring(new SendRing(ioc, completions));
  ::io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = completions;
  int r = ::io_uring_queue_init_params(entries, &ring->ring_, &params);
  if (r == -EINVAL) {  // a kernel before 5.18: no SUBMIT_ALL
    params = {};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = completions;
    r = ::io_uring_queue_init_params(entries, &ring->ring_, &params);
  }
  if (r < 0) {
    if (why != nullptr) *why = std::strerror(-r);
    return nullptr;
  }
  ring->initialized_ = true;
  // io_uring came in 5.1, its sendmsg in 5.3: a ring that cannot send is
  // no ring.
  ::io_uring_probe* probe = ::io_uring_get_probe_ring(&ring->ring_);
  const bool sends =
      probe != nullptr && ::io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
  if (probe != nullptr) ::io_uring_free_probe(probe);
  if (!sends) {
    if (why != nullptr) *why = "this kernel's io_uring has no sendmsg";
    return nullptr;
  }
  ring->open_ = true;
  ring->wake_.emplace(ioc, ring->ring_.ring_fd);
  return ring;
}

SendRing::~SendRing() {
  Shutdown();  // also lets go of wake_: the descriptor is the ring's
  if (initialized_) ::io_uring_queue_exit(&ring_);
}

bool SendRing::Prepare(int fd, Op& op) {
  if (!open_ || in_flight_ >= completions_) return false;
  ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    Submit();
    sqe = ::io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return false;
  }
  ::io_uring_prep_sendmsg(sqe, fd, &op.msg, MSG_NOSIGNAL);
  ::io_uring_sqe_set_data(sqe, &op);
  ++in_flight_;
  ++unsubmitted_;
  ++sends_;
  SchedulePosted();
  return true;
}

void SendRing::Submit() {
  while (open_ && unsubmitted_ > 0) {
    const int r = ::io_uring_submit(&ring_);
    ++submits_;
    if (r >= 0) {
      unsubmitted_ -= std::min(unsubmitted_, static_cast<size_t>(r));
      if (r == 0) break;  // nothing taken: try again from the next post
      continue;
    }
    if (r == -EINTR) continue;
    // EAGAIN/EBUSY: the kernel is short of memory for now; the sends stay
    // prepared and go with the next submit.
    SchedulePosted();
    break;
  }
}

void SendRing::SchedulePosted() {
  if (posted_) return;
  posted_ = true;
  net::post(ioc_, [this] { OnPosted(); });
}

void SendRing::OnPosted() {
  posted_ = false;
  Submit();
  Reap();
  ArmWait();
}

void SendRing::Reap() {
  // Copied out before any OnSent runs: a handler may prepare and submit
  // the next send, whose completion may then land in the queue.
  struct Done {
    Op* op;
    int result;
  };
  std::array<::io_uring_cqe*, 256> cqes;
  std::array<Done, 256> done;
  for (;;) {
    const unsigned n =
        ::io_uring_peek_batch_cqe(&ring_, cqes.data(), cqes.size());
    if (n == 0) return;
    size_t ops = 0;
    for (unsigned i = 0; i < n; ++i) {
      auto* op = static_cast<Op*>(::io_uring_cqe_get_data(cqes[i]));
      if (op != nullptr) done[ops++] = {op, cqes[i]->res};
    }
    ::io_uring_cq_advance(&ring_, n);
    in_flight_ -= ops;
    for (size_t i = 0; i < ops; ++i) done[i].op->OnSent(done[i].result);
  }
}

void SendRing::ArmWait() {
  if (waiting_ || !wake_ || in_flight_ == 0) return;
  waiting_ = true;
  wake_->async_wait(net::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      waiting_ = false;
                      if (ec) return;
                      Reap();
                      ArmWait();
                    });
  // Asio's reactor reports a descriptor's readiness edge by edge: one that
  // came before the wait was armed is only seen here.
  if (::io_uring_cq_ready(&ring_) > 0) SchedulePosted();
}

void SendRing::Shutdown() {
  if (!open_) return;
  Submit();
  open_ = false;
  if (wake_) {
    wake_->release();
    wake_.reset();
  }
  if (in_flight_ > 0) {
    if (::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_)) {
      ::io_uring_prep_cancel(sqe, nullptr, IORING_ASYNC_CANCEL_ANY);
      ::io_uring_sqe_set_data(sqe, nullptr);
      ::io_uring_submit(&ring_);
    }
  }
  while (in_flight_ > 0) {
    ::io_uring_cqe* cqe = nullptr;
    __kernel_timespec timeout{1, 0};
    if (::io_uring_wait_cqe_timeout(&ring_, &cqe, &timeout) < 0) break;
    auto* op = static_cast<Op*>(::io_uring_cqe_get_data(cqe));
    ::io_uring_cqe_seen(&ring_, cqe);
    if (op == nullptr) continue;
    --in_flight_;
    op->OnDropped();
  }
}

void RingSocket::OnSent(int result) {
  prepared_ = false;
  WriteHandler handler;
  handler.swap(handler_);
  if (result == -EAGAIN) {
    // The socket's buffer is full: wait for it the plain way.
    std::array<net::const_buffer, kMaxBuffers> buffers{};
    for (size_t i = 0; i < msg.msg_iovlen; ++i) {
      buffers[i] = net::const_buffer(iov[i].iov_base, iov[i].iov_len);
    }
    socket_.async_write_some(buffers, std::move(handler));
    return;
  }
  if (result < 0) {
    std::move(handler)(
        boost::system::error_code(-result, boost::system::system_category()),
        0);
    return;
  }
  std::move(handler)(boost::system::error_code{}, static_cast<size_t>(result));
}

void RingSocket::OnDropped() {
  prepared_ = false;
  // Destroyed, not called; it may own this socket.
  WriteHandler handler;
  handler.swap(handler_);
}

}  // namespace cairn::gateway
