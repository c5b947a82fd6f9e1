// Fuzzes the event envelope decoder: any bytes either fail cleanly or
// decode to an event that re-encodes and decodes to the same event; and
// whatever DecodeEnvelope decodes with JSON objects as `data` and `meta` (as
// the store writes them), the store's fast path (DecodeEnvelopeInto, into a
// used Event) decodes the same. (Of text with broken `data`, neither checks
// more than where the object ends, and they may disagree on that.)
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cairn/core/event.hpp"

namespace {

bool IsJsonObject(const std::string& s) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element el;
  return !parser.parse(s).get(el) &&
         el.type() == simdjson::dom::element_type::OBJECT;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = cairn::DecodeEnvelope(in);
  cairn::Event reused;
  reused.stream = "goal-left-over-from-an-earlier-event";
  reused.data = R"({"value":1})";
  const bool fast_ok = cairn::DecodeEnvelopeInto(in, &reused).ok();
  if (decoded && IsJsonObject(decoded->data) && IsJsonObject(decoded->meta) &&
      (!fast_ok || !(reused == *decoded))) {
    std::abort();
  }
  if (!decoded) return 0;
  std::string again = cairn::EncodeEnvelope(*decoded);
  auto redecoded = cairn::DecodeEnvelope(again);
  if (!redecoded) std::abort();
  // `at` passes through FormatTime, so compare after one normalising trip.
  if (cairn::EncodeEnvelope(*redecoded) != again) std::abort();
  return 0;
}
