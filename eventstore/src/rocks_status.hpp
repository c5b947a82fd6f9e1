// The one place where rocksdb::Status becomes a Cairn Error.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "cairn/core/error.hpp"

namespace cairn::eventstore {

// Write failures (disk full, I/O errors, a stopped DB): kUnavailable, which
// the gateway reports as 503.
Error WriteError(const rocksdb::Status& s);
// Read failures: kCorruption for corrupt data, kUnavailable for I/O errors,
// kInternal otherwise. `what` names the operation.
Error ReadError(const rocksdb::Status& s, std::string_view what);

}  // namespace cairn::eventstore
