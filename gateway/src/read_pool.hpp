// The threads that answer heavy reads, so that the I/O threads stay free for
// everything else. A view as of a past moment, a diff, a retrospective, a
// board, a goal's history or a page of the log can take tens of milliseconds
// on a large store (the whole State as of a position: 45-67 ms at 300,000
// events); on an I/O thread it held every request that thread would have
// served next, /healthz and check-ins included (README, "Heavy reads"). A
// live resume's backlog is read here too, not on its shard's thread.
//
//   ReadPool pool(2, kMaxQueuedReads, kReadThreadNice);
//   bool queued = pool.Submit([call](bool run) {
//     if (run) Handle(*call); else AnswerShuttingDown(*call);
//   });
//   if (!queued) ...  // full or stopped: answer 503 at once
//   pool.Stop();      // queued tasks get run=false; running ones finish
//
// Tasks run in the order submitted, each on one of the pool's threads
// ("cairn-read-N", at a lower CPU priority than the I/O threads when
// `nice` > 0, so that a busy pool slows heavy reads, not the light ones).
// Thread-safety: Submit and Queued may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::gateway {

class ReadPool {
 public:
  // Called once: with true on a pool thread, or with false (on the thread
  // calling Stop) when the pool stops before the task started.
  using Task = std::function<void(bool run)>;

  // `threads` >= 1. `nice`: added to each pool thread's nice value (0:
  // none; Linux only).
  ReadPool(unsigned threads, size_t max_queued, int nice);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // Queues `task`. False (task not kept) when `max_queued` tasks wait
  // already or the pool has stopped.
  bool Submit(Task task);
  // Tasks waiting for a thread.
  size_t Queued() const;
  // Refuses new tasks, calls every queued one with false, waits for the
  // running ones and joins the threads. Later calls do nothing; not to be
  // called from two threads at once (the destructor calls it too).
  void Stop();

 private:
  void Run(int nice);

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cairn::gateway
