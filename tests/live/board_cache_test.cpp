// BoardCache (gateway/src/board_cache.hpp): one rendering per board and
// position, shared by concurrent and later askers; bounded; errors reach
// every waiter and are not kept.
#include "board_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cairn::gateway {
namespace {

using namespace std::chrono_literals;

TEST(BoardCacheTest, ConcurrentAskersOfOneBoardShareOneRendering) {
  BoardCache cache(1 << 20);
  std::atomic<int> renders{0};
  std::vector<BoardCache::Board> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      got[i] = cache.Get("sales", 7, [&] {
        ++renders;
        std::this_thread::sleep_for(50ms);  // the others arrive meanwhile
        return std::string("board of sales at 7");
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(renders.load(), 1);
  for (const auto& b : got) {
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b.get(), got[0].get());  // the same bytes, not copies
  }
  EXPECT_EQ(*got[0], "board of sales at 7");
  EXPECT_EQ(cache.rendered(), 1u);
  EXPECT_EQ(cache.shared(), 7u);
  EXPECT_EQ(cache.bytes(), got[0]->size());
}

TEST(BoardCacheTest, OtherKeysAndPositionsAreRenderedAndANewerOneDropsOlder) {
  BoardCache cache(1 << 20);
  int renders = 0;
  auto render = [&](std::string text) {
    return [&renders, text] {
      ++renders;
      return text;
    };
  };
  EXPECT_EQ(*cache.Get("sales", 1, render("s1")), "s1");
  EXPECT_EQ(*cache.Get("eng", 1, render("e1")), "e1");
  EXPECT_EQ(*cache.Get("sales", 2, render("s2")), "s2");
  EXPECT_EQ(renders, 3);
  EXPECT_EQ(cache.bytes(), 4u);  // "s1" went with the newer "s2"
  EXPECT_EQ(*cache.Get("sales", 2, render("again")), "s2");
  EXPECT_EQ(*cache.Get("eng", 1, render("again")), "e1");
  EXPECT_EQ(*cache.Get("sales", 1, render("s1 again")), "s1 again");
  EXPECT_EQ(renders, 4);
}

// The live head moved past position 2: every key's boards before it go,
// one being rendered still reaches its waiters, and is not kept after.
TEST(BoardCacheTest, DropBeforeLetsGoOfEveryBoardTheHeadMovedPast) {
  BoardCache cache(1 << 20);
  cache.Get("sales", 1, [] { return std::string("s1"); });
  cache.Get("eng", 2, [] { return std::string("e2"); });
  cache.Get("ops", 3, [] { return std::string("o3"); });
  EXPECT_EQ(cache.bytes(), 6u);
  cache.DropBefore(3);
  EXPECT_EQ(cache.bytes(), 2u);
  EXPECT_EQ(*cache.Get("ops", 3, [] { return std::string("again"); }), "o3");
  EXPECT_EQ(*cache.Get("eng", 2, [] { return std::string("e2 again"); }),
            "e2 again");

  std::promise<void> started;
  std::promise<void> release;
  std::thread renderer([&] {
    EXPECT_EQ(*cache.Get("hr", 4,
                         [&] {
                           started.set_value();
                           release.get_future().wait();
                           return std::string("h4");
                         }),
              "h4");
  });
  started.get_future().wait();
  std::thread waiter([&] {
    EXPECT_EQ(*cache.Get("hr", 4, [] { return std::string("own"); }), "h4");
  });
  // The waiter has found the rendering (shared counts it) before the drop.
  while (cache.shared() < 2) std::this_thread::yield();
  cache.DropBefore(5);
  release.set_value();
  renderer.join();
  waiter.join();
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(BoardCacheTest, KeepsAtMostItsBytesLeastRecentlyAskedForFirst) {
  BoardCache cache(100);
  const std::string forty(40, 'x');
  auto make = [&] { return forty; };
  cache.Get("a", 1, make);
  cache.Get("b", 1, make);
  cache.Get("a", 1, make);  // "a" is now the most recently asked for
  cache.Get("c", 1, make);  // 120 bytes: "b" goes
  EXPECT_EQ(cache.bytes(), 80u);
  EXPECT_EQ(cache.rendered(), 3u);
  cache.Get("a", 1, make);
  cache.Get("c", 1, make);
  EXPECT_EQ(cache.rendered(), 3u);
  cache.Get("b", 1, make);
  EXPECT_EQ(cache.rendered(), 4u);

  // Larger than the whole cache: handed out, not kept.
  auto big = cache.Get("huge", 1, [] { return std::string(101, 'y'); });
  EXPECT_EQ(big->size(), 101u);
  EXPECT_LE(cache.bytes(), 100u);
  cache.Get("huge", 1, [] { return std::string(101, 'y'); });
  EXPECT_EQ(cache.rendered(), 6u);
}

TEST(BoardCacheTest, KeepsAtMostItsNumberOfBoards) {
  BoardCache cache(1 << 20);
  for (size_t i = 0; i <= BoardCache::kMaxEntries; ++i) {
    cache.Get("unit-" + std::to_string(i), 1, [] { return std::string("b"); });
  }
  EXPECT_EQ(cache.bytes(), BoardCache::kMaxEntries);
  cache.Get("unit-0", 1, [] { return std::string("b"); });  // the first went
  EXPECT_EQ(cache.rendered(), BoardCache::kMaxEntries + 2);
}

TEST(BoardCacheTest, AFailedRenderingReachesItsWaitersAndIsNotKept) {
  BoardCache cache(1 << 20);
  std::atomic<bool> started{false};
  std::thread first([&] {
    EXPECT_THROW(cache.Get("sales", 3,
                           [&]() -> std::string {
                             started = true;
                             std::this_thread::sleep_for(50ms);
                             throw std::runtime_error("out of memory");
                           }),
                 std::runtime_error);
  });
  while (!started) std::this_thread::yield();
  EXPECT_THROW(cache.Get("sales", 3, [] { return std::string("never"); }),
               std::runtime_error);
  first.join();
  EXPECT_EQ(*cache.Get("sales", 3, [] { return std::string("now"); }), "now");
  EXPECT_EQ(cache.rendered(), 2u);
  EXPECT_EQ(cache.bytes(), 3u);
}

}  // namespace
}  // namespace cairn::gateway
