// A FIFO kept in one vector whose storage is reused: a live session's
// outbound queue is nearly always one message long, and std::deque
// allocated a block for every 21 messages sent.
//
//   ReusedQueue<int> q;
//   q.push_back(1); q.push_back(2);
//   q.front();      // 1
//   q.pop_front();  // the slot is reset (T{}) at once
//
// Popped slots are reclaimed when the queue empties, or (a long queue
// drained slowly) once they are at least 64 and half of the storage.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace cairn::gateway {

template <typename T>
class ReusedQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  // Requires !empty().
  T& front() { return items_[head_]; }
  void push_back(T item) { items_.push_back(std::move(item)); }
  // Requires !empty().
  void pop_front() {
    items_[head_++] = T{};
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(),
                   items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Requires !empty().
  void pop_back() {
    items_.pop_back();
    if (empty()) clear();
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  // Slots held, popped ones included (for tests).
  size_t storage_size() const { return items_.size(); }

 private:
  std::vector<T> items_;
  size_t head_ = 0;  // items_[0, head_) are popped
};

}  // namespace cairn::gateway
