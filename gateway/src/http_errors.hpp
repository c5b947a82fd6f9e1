// The one table from ErrorCode to the contract's HTTP status and code, the
// error body `{"error":{"code","message","field"?}}`, and the headers every
// HTTP answer carries.
//
//   Response r = ErrorResponse(Error::NotFound("no goal kr-x"));  // 404
#pragma once

#include <boost/beast/http/message.hpp>

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
// Sets what every answer carries, API and static files alike, refused
// WebSocket upgrades too: Server, `Cache-Control: no-store` (answers hold
// one company's goals and, once, a token's secret; static files replace
// it with their own) and `X-Content-Type-Options: nosniff`.
void SetAnswerHeaders(boost::beast::http::response_header<>& header);

}  // namespace cairn::gateway
