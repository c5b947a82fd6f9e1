// A small streaming JSON writer (RFC 8259). Debian's simdjson has no writer;
// every JSON byte Cairn emits goes through this class.
//
//   JsonWriter w;
//   w.BeginObject();
//   w.Key("id").String("kr-cac");
//   w.Key("progress").Number(0.25);
//   w.EndObject();
//   std::string out = std::move(w).Take();
//
// Commas are inserted automatically. Strings are escaped: `"`, `\`, control
// characters (as \n, \t, ... or \u00XX); valid UTF-8 passes through; any
// invalid UTF-8 byte is replaced by U+FFFD so the output is always valid
// JSON. Numbers: integral doubles up to 2^53 print without a fraction,
// others in shortest round-trip form (exponent form from 2^63 on, so any
// reader takes them as doubles); NaN and infinities print as null.
// Not thread-safe; one writer per output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

class JsonWriter {
 public:
  JsonWriter() = default;
  explicit JsonWriter(std::string buffer) : out_(std::move(buffer)) {
    out_.clear();
  }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the member name. The next call writes its value.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view s);
  JsonWriter& Number(double d);
  JsonWriter& Int(int64_t i);
  JsonWriter& Uint(uint64_t u);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // Writes `json` verbatim as one value. The caller vouches it is valid JSON.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() && { return std::move(out_); }

  // Appends `s` escaped and quoted to `out`.
  static void AppendQuoted(std::string& out, std::string_view s);
  // Appends the number as the writer would.
  static void AppendNumber(std::string& out, double d);

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true once it holds a member/element.
  std::vector<bool> has_items_;
  bool after_key_ = false;
};

// Rounds a computed fraction to 4 decimals, as the contract requires.
double Round4(double v);

}  // namespace cairn
