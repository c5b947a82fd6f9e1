#include "rocks_status.hpp"

#include <string>

namespace cairn::eventstore {

Error WriteError(const rocksdb::Status& s) {
  return Error{
      ErrorCode::kUnavailable, "event store write failed: " + s.ToString(), {}};
}

Error ReadError(const rocksdb::Status& s, std::string_view what) {
  std::string msg = "event store " + std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Error{ErrorCode::kCorruption, msg, {}};
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain()) {
    return Error{ErrorCode::kUnavailable, msg, {}};
  }
  return Error::Internal(msg);
}

}  // namespace cairn::eventstore
