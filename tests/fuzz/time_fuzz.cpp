// Fuzzes the RFC 3339 time and date parsers: no crash, and whatever parses
// formats back to a string that parses to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cairn/core/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto t = cairn::ParseTime(in)) {
    auto back = cairn::ParseTime(cairn::FormatTime(*t));
    if (!back || *back != *t) std::abort();
  }
  if (auto d = cairn::ParseDate(in)) {
    if (cairn::FormatDate(*d) != in) std::abort();
  }
  return 0;
}
