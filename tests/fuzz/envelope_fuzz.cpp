// Fuzzes the event envelope decoder: any bytes either fail cleanly or
// decode to an event that re-encodes and decodes to the same event.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cairn/core/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto decoded = cairn::DecodeEnvelope(in);
  if (!decoded) return 0;
  std::string again = cairn::EncodeEnvelope(*decoded);
  auto redecoded = cairn::DecodeEnvelope(again);
  if (!redecoded) std::abort();
  // `at` passes through FormatTime, so compare after one normalising trip.
  if (cairn::EncodeEnvelope(*redecoded) != again) std::abort();
  return 0;
}
