// Boards rendered for live snapshots, shared by the subscribers that ask for
// the same board (unit, cycle, depth) at the same position. A board of
// thousands of goals takes tens of milliseconds to render (8,000 goals:
// ~33 ms) and megabytes to hold; when a team opens its board at the start of
// a meeting, every browser's subscribe rendered it again. A subscriber that
// asks while the board is being rendered waits for that rendering instead of
// making its own.
//
//   BoardCache boards(kBoardCacheBytes);
//   std::shared_ptr<const std::string> board =
//       boards.Get(key, position, [&] { return RenderBoard(state, filter); });
//
// Keeps the boards most recently asked for, at most `max_bytes` and
// kMaxEntries of them (a board larger than that is rendered and handed out,
// not kept); a board of a key at a newer position drops that key's older
// ones, and DropBefore every key's (snapshots are taken at the live head:
// nobody asks for a board of the past). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace cairn::gateway {

class BoardCache {
 public:
  using Board = std::shared_ptr<const std::string>;
  static constexpr size_t kMaxEntries = 64;

  explicit BoardCache(size_t max_bytes);

  // The board of `key` at `position`: the kept one, the one another thread
  // is rendering (waits for it), or render()'s (kept). An exception from
  // render() reaches every caller waiting for that rendering; the next Get
  // renders again.
  Board Get(const std::string& key, uint64_t position,
            const std::function<std::string()>& render);

  // Drops the boards of positions before `position`: the live head moved
  // past them (the server calls it for each published batch, so that an
  // idle server keeps no boards). One being rendered still reaches those
  // waiting for it.
  void DropBefore(uint64_t position);

  // Boards rendered, and answers that took a board rendered for another.
  uint64_t rendered() const;
  uint64_t shared() const;
  // Bytes of the boards kept.
  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    uint64_t position = 0;
    std::shared_future<Board> board;
    size_t bytes = 0;  // 0 while it is being rendered
  };
  using Entries = std::list<Entry>;

  // Under mu_.
  Entries::iterator Find(const std::string& key, uint64_t position);
  void Erase(Entries::iterator it);
  void Kept(const std::string& key, uint64_t position, size_t bytes);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  Entries entries_;  // most recently asked for first
  size_t bytes_ = 0;
  uint64_t rendered_ = 0;
  uint64_t shared_ = 0;
};

}  // namespace cairn::gateway
