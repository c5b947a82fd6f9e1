// The one table from ErrorCode to the contract's HTTP status and code, and
// the error body `{"error":{"code","message","field"?}}`.
//
//   Response r = ErrorResponse(Error::NotFound("no goal kr-x"));  // 404
#pragma once

#include "cairn/core/error.hpp"
#include "router.hpp"

namespace cairn::gateway {

// The HTTP status for `code` (kCorruption -> 500).
unsigned HttpStatusOf(ErrorCode code);
// The contract code string for `code` ("internal" for kCorruption).
std::string_view HttpCodeOf(ErrorCode code);
// A JSON error response for `error`.
Response ErrorResponse(const Error& error);
Response ErrorResponse(ErrorCode code, std::string message,
                       std::string field = {});

}  // namespace cairn::gateway
