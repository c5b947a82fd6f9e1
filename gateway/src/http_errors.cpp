#include "http_errors.hpp"

#include "cairn/core/json_writer.hpp"

namespace cairn::gateway {

namespace {

struct ErrorRow {
  ErrorCode code;
  unsigned status;
  std::string_view name;
};

constexpr ErrorRow kErrorTable[] = {
    {ErrorCode::kBadJson, 400, "bad_json"},
    {ErrorCode::kValidationFailed, 422, "validation_failed"},
    {ErrorCode::kUnauthorized, 401, "unauthorized"},
    {ErrorCode::kForbidden, 403, "forbidden"},
    {ErrorCode::kNotFound, 404, "not_found"},
    {ErrorCode::kVersionConflict, 409, "version_conflict"},
    {ErrorCode::kAlreadyExists, 409, "already_exists"},
    {ErrorCode::kCycleClosed, 409, "cycle_closed"},
    {ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
    {ErrorCode::kUnsupportedMediaType, 415, "unsupported_media_type"},
    {ErrorCode::kIdempotencyKeyReused, 422, "idempotency_key_reused"},
    {ErrorCode::kRateLimited, 429, "rate_limited"},
    {ErrorCode::kInternal, 500, "internal"},
    {ErrorCode::kUnavailable, 503, "unavailable"},
    {ErrorCode::kCorruption, 500, "internal"},
};

const ErrorRow& RowOf(ErrorCode code) {
  for (const ErrorRow& row : kErrorTable) {
    if (row.code == code) return row;
  }
  return kErrorTable[12];  // internal
}

}  // namespace

unsigned HttpStatusOf(ErrorCode code) { return RowOf(code).status; }
std::string_view HttpCodeOf(ErrorCode code) { return RowOf(code).name; }

Response ErrorResponse(const Error& error) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").String(HttpCodeOf(error.code));
  w.Key("message").String(error.message);
  if (!error.field.empty()) w.Key("field").String(error.field);
  w.EndObject().EndObject();
  Response r;
  r.status = HttpStatusOf(error.code);
  r.body = std::move(w).Take();
  return r;
}

Response ErrorResponse(ErrorCode code, std::string message, std::string field) {
  return ErrorResponse(Error{code, std::move(message), std::move(field)});
}

void SetAnswerHeaders(boost::beast::http::response_header<>& header) {
  namespace http = boost::beast::http;
  header.set(http::field::server, "cairn");
  header.set(http::field::cache_control, "no-store");
  header.set("X-Content-Type-Options", "nosniff");
}

}  // namespace cairn::gateway
