// Fuzzes the JSON writer's string escaping: any bytes written as a string
// must parse back with simdjson, and valid UTF-8 must come back unchanged.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "cairn/core/json_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string out;
  cairn::JsonWriter::AppendQuoted(out, in);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(out).get(doc) != simdjson::SUCCESS) std::abort();
  std::string_view back;
  if (doc.get_string().get(back) != simdjson::SUCCESS) std::abort();
  if (simdjson::validate_utf8(in.data(), in.size()) && back != in) std::abort();
  return 0;
}
