// Options for opening an EventStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cairn::eventstore {

class WriteFaults;

struct Options {
  // Folder of the RocksDB store. Created when missing and create_if_missing.
  std::string path;
  // Default: true.
  bool create_if_missing = true;
  // Largest encoded event accepted by Append. Default: 1 MiB.
  size_t max_event_bytes = 1 << 20;
  // Sync every append batch to disk before acknowledging it. Only tests of
  // speed ceilings turn this off. Default: true.
  bool sync = true;
  // Most requests merged into one group-commit write. Default: 1024.
  size_t max_group = 1024;
  // Opens without taking RocksDB's lock and without writing anything (no
  // epoch minted, appends fail with kUnavailable). For `cairn verify` and
  // `cairn export` beside a running server. Default: false.
  bool read_only = false;
  // Test-only fault injection (see write_faults.hpp). Default: null (none).
  std::shared_ptr<WriteFaults> faults;
};

}  // namespace cairn::eventstore
