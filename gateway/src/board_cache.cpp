#include "board_cache.hpp"

#include <utility>

namespace cairn::gateway {

BoardCache::BoardCache(size_t max_bytes) : max_bytes_(max_bytes) {}

BoardCache::Board BoardCache::Get(const std::string& key, uint64_t position,
                                  const std::function<std::string()>& render) {
  std::promise<Board> promise;
  {
    std::unique_lock lock(mu_);
    if (auto it = Find(key, position); it != entries_.end()) {
      entries_.splice(entries_.begin(), entries_, it);
      std::shared_future<Board> board = it->board;
      ++shared_;
      lock.unlock();
      return board.get();  // waits while it is rendered; rethrows its error
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);
      if (it->key == key && it->position < position) Erase(it);
      it = next;
    }
    entries_.push_front(Entry{key, position, promise.get_future().share(), 0});
    ++rendered_;
  }
  Board board;
  try {
    board = std::make_shared<const std::string>(render());
  } catch (...) {
    promise.set_exception(std::current_exception());
    std::lock_guard lock(mu_);
    if (auto it = Find(key, position); it != entries_.end() && it->bytes == 0) {
      Erase(it);
    }
    throw;
  }
  promise.set_value(board);
  std::lock_guard lock(mu_);
  Kept(key, position, board->size());
  return board;
}

BoardCache::Entries::iterator BoardCache::Find(const std::string& key,
                                               uint64_t position) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->position == position && it->key == key) return it;
  }
  return entries_.end();
}

void BoardCache::Erase(Entries::iterator it) {
  bytes_ -= it->bytes;
  entries_.erase(it);
}

void BoardCache::Kept(const std::string& key, uint64_t position, size_t bytes) {
  auto it = Find(key, position);
  if (it == entries_.end()) return;  // dropped meanwhile for a newer one
  if (bytes > max_bytes_) return Erase(it);
  it->bytes = bytes;
  bytes_ += bytes;
  // The least recently asked for go first, never the one just kept (past
  // either bound there is another).
  while (bytes_ > max_bytes_ || entries_.size() > kMaxEntries) {
    auto victim = std::prev(entries_.end());
    if (victim == it) victim = std::prev(victim);
    Erase(victim);
  }
}

void BoardCache::DropBefore(uint64_t position) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->position < position) Erase(it);
    it = next;
  }
}

uint64_t BoardCache::rendered() const {
  std::lock_guard lock(mu_);
  return rendered_;
}

uint64_t BoardCache::shared() const {
  std::lock_guard lock(mu_);
  return shared_;
}

size_t BoardCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace cairn::gateway
