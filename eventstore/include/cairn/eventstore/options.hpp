// Options for opening an EventStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn::eventstore {

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
};

}  // namespace cairn::eventstore
