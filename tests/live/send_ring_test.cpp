// SendRing and RingSocket on real loopback TCP connections: what the live
// sessions' writes rely on (gateway/src/send_ring.hpp).
#include "send_ring.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cairn::gateway {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Loopback connections whose server side is on `ioc` (as a shard's) and
// whose peer side is a blocking socket of the test.
class Loopback {
 public:
  explicit Loopback(net::io_context& ioc) : ioc_(ioc) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
  }

  struct Pair {
    std::unique_ptr<RingSocket> ring_side;
    tcp::socket peer;
  };

  Pair Connect(SendRing* ring, int sndbuf = 0, int rcvbuf = 0) {
    tcp::socket peer = Dial(rcvbuf);
    return {Accept(ring, sndbuf), std::move(peer)};
  }
  // Connect in two steps: the peer's side, then the ring's.
  tcp::socket Dial(int rcvbuf = 0) {
    tcp::socket peer(peer_ioc_);
    peer.open(tcp::v4());
    if (rcvbuf > 0) {
      peer.set_option(net::socket_base::receive_buffer_size(rcvbuf));
    }
    peer.connect(acceptor_.local_endpoint());
    return peer;
  }
  std::unique_ptr<RingSocket> Accept(SendRing* ring, int sndbuf = 0) {
    tcp::socket accepted = acceptor_.accept();
    RingSocket::Socket on_ioc(ioc_.get_executor(), tcp::v4(),
                              accepted.release());
    if (sndbuf > 0) {
      on_ioc.set_option(net::socket_base::send_buffer_size(sndbuf));
    }
    return std::make_unique<RingSocket>(std::move(on_ioc), ring);
  }

 private:
  net::io_context& ioc_;
  net::io_context peer_ioc_;
  tcp::acceptor acceptor_{peer_ioc_};
};

// The ring, or a skip where the kernel refuses io_uring.
#define OPEN_RING_OR_SKIP(ring, ioc)                          \
  std::string why;                                            \
  std::unique_ptr<SendRing> ring = SendRing::Open(ioc, &why); \
  if (ring == nullptr) GTEST_SKIP() << "io_uring refused here: " << why

std::string Pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i + seed) % 26);
  return s;
}

TEST(SendRingTest, WritesOnManySocketsGoInFewSubmitsAndArriveWhole) {
  net::io_context ioc(1);
  OPEN_RING_OR_SKIP(ring, ioc);
  Loopback loop(ioc);
  constexpr size_t kSockets = 300;
  std::vector<Loopback::Pair> pairs;
  std::vector<std::string> sent;
  for (size_t i = 0; i < kSockets; ++i) {
    pairs.push_back(loop.Connect(ring.get()));
    sent.push_back(Pattern(100 + i * 7, i));
  }
  // As a shard's drain does: every write started in one handler.
  size_t done = 0;
  net::post(ioc, [&] {
    for (size_t i = 0; i < kSockets; ++i) {
      net::async_write(*pairs[i].ring_side, net::buffer(sent[i]),
                       [&, i](boost::system::error_code ec, size_t n) {
                         EXPECT_FALSE(ec) << ec.message();
                         EXPECT_EQ(n, sent[i].size());
                         ++done;
                       });
    }
  });
  ioc.run();
  EXPECT_EQ(done, kSockets);
  EXPECT_EQ(ring->in_flight(), 0u);
  EXPECT_GE(ring->sends(), kSockets);
  EXPECT_LE(ring->submits(), 3u) << "one submit per batch, not per send";
  for (size_t i = 0; i < kSockets; ++i) {
    std::string got(sent[i].size(), '\0');
    net::read(pairs[i].peer, net::buffer(got));
    EXPECT_EQ(got, sent[i]) << i;
  }
}

TEST(SendRingTest, AFullSocketWaitsForItsReaderAndLosesNothing) {
  net::io_context ioc(1);
  OPEN_RING_OR_SKIP(ring, ioc);
  Loopback loop(ioc);
  auto pair = loop.Connect(ring.get(), 4096, 4096);
  auto other = loop.Connect(ring.get());
  const std::string big = Pattern(4 << 20, 3);
  const std::string small = Pattern(1000, 5);
  size_t big_sent = 0;
  bool small_done = false;
  net::post(ioc, [&] {
    net::async_write(*pair.ring_side, net::buffer(big),
                     [&](boost::system::error_code ec, size_t n) {
                       EXPECT_FALSE(ec) << ec.message();
                       big_sent = n;
                     });
    net::async_write(*other.ring_side, net::buffer(small),
                     [&](boost::system::error_code ec, size_t) {
                       EXPECT_FALSE(ec) << ec.message();
                       small_done = true;
                     });
  });
  // The other socket's write completes while the big one is stuck.
  for (auto until = std::chrono::steady_clock::now() + 5s;
       !small_done && std::chrono::steady_clock::now() < until;) {
    ioc.run_one_for(10ms);
  }
  EXPECT_TRUE(small_done);
  EXPECT_EQ(big_sent, 0u);
  std::string got(big.size(), '\0');
  std::thread reader([&] { net::read(pair.peer, net::buffer(got)); });
  for (auto until = std::chrono::steady_clock::now() + 20s;
       big_sent == 0 && std::chrono::steady_clock::now() < until;) {
    ioc.run_one_for(10ms);
  }
  reader.join();
  EXPECT_EQ(big_sent, big.size());
  EXPECT_TRUE(got == big);
}

// A prepared send names its socket by number. Closed before the ring's
// submit, the number could go to the next connection, which would then get
// the bytes: close() submits first.
TEST(SendRingTest, ClosingASocketSubmitsItsSendBeforeTheNumberIsReused) {
  net::io_context ioc(1);
  OPEN_RING_OR_SKIP(ring, ioc);
  Loopback loop(ioc);
  auto first = loop.Connect(ring.get());
  const int number = first.ring_side->socket().native_handle();
  const std::string secret = "for the first connection only";
  bool done = false;
  boost::system::error_code write_ec;
  net::post(ioc, [&] {
    net::async_write(*first.ring_side, net::buffer(secret),
                     [&](boost::system::error_code ec, size_t) {
                       write_ec = ec;
                       done = true;
                     });
    boost::system::error_code ignored;
    first.ring_side->close(ignored);
  });
  tcp::socket second_peer = loop.Dial();
  ioc.run_one();  // the handler above; the ring's submit is still queued
  Loopback::Pair second{loop.Accept(ring.get()), std::move(second_peer)};
  ASSERT_EQ(second.ring_side->socket().native_handle(), number)
      << "the test needs the number reused";
  ioc.run();
  EXPECT_TRUE(done);
  EXPECT_FALSE(write_ec) << write_ec.message();
  std::string got(secret.size(), '\0');
  net::read(first.peer, net::buffer(got));
  EXPECT_EQ(got, secret);
  second.peer.non_blocking(true);
  char byte = 0;
  boost::system::error_code read_ec;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(second.peer.read_some(net::buffer(&byte, 1), read_ec), 0u);
  EXPECT_EQ(read_ec, net::error::would_block);
}

TEST(SendRingTest, ShutdownDropsSendsInFlightWithoutCallingThem) {
  net::io_context ioc(1);
  OPEN_RING_OR_SKIP(ring, ioc);
  Loopback loop(ioc);
  auto pair = loop.Connect(ring.get(), 4096, 4096);
  const std::string big = Pattern(4 << 20, 1);
  auto owner = std::make_shared<int>(0);
  std::weak_ptr<int> watch = owner;
  bool called = false;
  net::post(ioc, [&, owner = std::move(owner)]() mutable {
    net::async_write(*pair.ring_side, net::buffer(big),
                     [&called, owner](boost::system::error_code ec, size_t) {
                       // Only a plain-way write ends, when its socket closes.
                       EXPECT_TRUE(ec);
                       called = true;
                     });
  });
  for (int i = 0; i < 20; ++i) ioc.run_one_for(5ms);
  ASSERT_FALSE(called);
  ring->Shutdown();  // the shard's thread has stopped
  EXPECT_EQ(ring->in_flight(), 0u);
  // A write that went the plain way ends with its socket.
  pair.ring_side.reset();
  ioc.poll();
  EXPECT_TRUE(watch.expired()) << "the handler was kept";
}

}  // namespace
}  // namespace cairn::gateway
