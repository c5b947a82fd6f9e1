// A RocksDB FileSystem that fails writes while WriteFaults says so.
#pragma once

#include <rocksdb/file_system.h>

#include <memory>

#include "cairn/eventstore/write_faults.hpp"

namespace cairn::eventstore {

// Wraps the default file system: files opened for writing fail Append,
// Flush, Sync, Fsync (and new files fail to open) with IOStatus::NoSpace
// while faults->no_space().
std::shared_ptr<rocksdb::FileSystem> NewFaultFileSystem(
    std::shared_ptr<WriteFaults> faults);

}  // namespace cairn::eventstore
