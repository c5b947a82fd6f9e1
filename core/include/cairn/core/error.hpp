// Error values shared by every Cairn library.
//
//   cairn::Result<Goal> r = FindGoal(id);
//   if (!r) return r.error();          // propagate
//   Use(*r);
//
// Expected failures are values, never exceptions. Each ErrorCode maps to one
// HTTP status and contract code in the gateway (http_errors.cpp).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

enum class ErrorCode {
  kBadJson,               // 400 bad_json
  kValidationFailed,      // 422 validation_failed
  kUnauthorized,          // 401 unauthorized
  kForbidden,             // 403 forbidden
  kNotFound,              // 404 not_found
  kVersionConflict,       // 409 version_conflict
  kAlreadyExists,         // 409 already_exists
  kCycleClosed,           // 409 cycle_closed
  kPayloadTooLarge,       // 413 payload_too_large
  kUnsupportedMediaType,  // 415 unsupported_media_type
  kIdempotencyKeyReused,  // 422 idempotency_key_reused
  kRateLimited,           // 429 rate_limited
  kInternal,              // 500 internal
  kUnavailable,           // 503 unavailable (disk full, shutting down)
  kCorruption,            // store damaged; 500 internal to HTTP callers
};

// The contract's code string for `code` ("validation_failed", ...).
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field;  // the one input to blame, empty when none

  static Error Validation(std::string field, std::string message) {
    return Error{ErrorCode::kValidationFailed, std::move(message),
                 std::move(field)};
  }
  static Error NotFound(std::string message) {
    return Error{ErrorCode::kNotFound, std::move(message), {}};
  }
  static Error Internal(std::string message) {
    return Error{ErrorCode::kInternal, std::move(message), {}};
  }
};

// Either a T or an Error. Cheap to move; [[nodiscard]] so that an error can
// only be dropped on purpose (IgnoreError()).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  void IgnoreError() const {}

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  void IgnoreError() const {}

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace cairn
