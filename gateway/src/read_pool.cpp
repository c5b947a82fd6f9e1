#include "read_pool.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "thread_name.hpp"

namespace cairn::gateway {

ReadPool::ReadPool(unsigned threads, size_t max_queued, int nice)
    : max_queued_(max_queued) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, nice] { Run(nice); });
    NameThread(threads_.back(), "cairn-read-" + std::to_string(i));
  }
}

ReadPool::~ReadPool() { Stop(); }

bool ReadPool::Submit(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

size_t ReadPool::Queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void ReadPool::Stop() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    dropped.swap(queue_);
  }
  ready_.notify_all();
  for (Task& task : dropped) task(false);
  for (std::thread& t : threads_) t.join();
}

void ReadPool::Run(int nice) {
  if (nice > 0) {
    // Per thread on Linux: the nice value belongs to the thread (task) id.
    // Raising it needs no privilege; failing leaves the default priority.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    (void)setpriority(PRIO_PROCESS, tid, nice);
  }
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(true);
  }
}

}  // namespace cairn::gateway
