// Fault injection for tests: makes the store's file writes fail as if the
// disk were full, so that tests can check 503s, consistency and recovery.
//
//   auto faults = std::make_shared<WriteFaults>();
//   auto store = EventStore::Open({.path = dir, .faults = faults});
//   faults->SetNoSpace(true);    // appends now fail with kUnavailable
//   faults->SetNoSpace(false);   // later appends succeed again
//
// Thread-safe. Costs one atomic load per file write when attached; no cost
// when Options::faults is null (production).
#pragma once

#include <atomic>

namespace cairn::eventstore {

class WriteFaults {
 public:
  // While on, every append, flush and sync of a file the store writes fails
  // with "no space left on device" (RocksDB IOStatus::NoSpace).
  void SetNoSpace(bool on) { no_space_.store(on, std::memory_order_release); }
  bool no_space() const { return no_space_.load(std::memory_order_acquire); }
  // While on, only syncs fail ("no space", as ext4 with delayed allocation
  // may answer fsync): a batch is written to the WAL but not made durable,
  // so its append fails and yet recovery may find it on disk.
  void SetSyncFails(bool on) {
    sync_fails_.store(on, std::memory_order_release);
  }
  bool sync_fails() const {
    return sync_fails_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<bool> no_space_{false};
  std::atomic<bool> sync_fails_{false};
};

}  // namespace cairn::eventstore
