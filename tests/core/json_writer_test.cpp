#include "cairn/core/json_writer.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace cairn {
namespace {

std::string ParseBackString(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  std::string_view s;
  EXPECT_EQ(doc.get_string().get(s), simdjson::SUCCESS) << json;
  return std::string(s);
}

TEST(JsonWriterTest, EscapesEveryControlCharacterAndRoundTrips) {
  std::string all;
  for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
  all += "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // é € 😀
  JsonWriter w;
  w.String(all);
  EXPECT_EQ(ParseBackString(w.str()), all);
}

TEST(JsonWriterTest, EscapesBetweenPlainRunsExactly) {
  JsonWriter w;
  w.String("plain run a\"b\\c\nd\x7f\x01 \xC3\xA9nd");
  EXPECT_EQ(w.str(), "\"plain run a\\\"b\\\\c\\nd\\u007f\\u0001 \xC3\xA9nd\"");
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string cases[] = {"\xFF", "\xC0\xAF", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80", "abc\xE2\x82"};
  for (const auto& bad : cases) {
    JsonWriter w;
    w.String(bad);
    std::string back = ParseBackString(w.str());
    EXPECT_NE(back.find("\xEF\xBF\xBD"), std::string::npos) << w.str();
  }
}

TEST(JsonWriterTest, NestedContainersGetCommas) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a").Int(1);
  w.Key("b").BeginArray().Int(1).Number(2.5).Null().Bool(true).EndArray();
  w.Key("c").BeginObject().EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[1,2.5,null,true],"c":{}})");
}

struct NumberCase {
  double in;
  const char* out;
};

TEST(JsonWriterTest, Numbers) {
  const NumberCase cases[] = {{0, "0"},
                              {-0.0, "0"},
                              {3, "3"},
                              {-7000000, "-7000000"},
                              {0.25, "0.25"},
                              {0.1, "0.1"},
                              {1e300, "1e+300"},
                              {1.0 / 0.0, "null"},
                              {9007199254740993.0, "9007199254740992"}};
  for (const auto& c : cases) {
    std::string out;
    JsonWriter::AppendNumber(out, c.in);
    EXPECT_EQ(out, c.out) << c.in;
  }
}

// Found by tests/fuzz/command_json_fuzz: a funnel split wrote the integral
// double 49483434666666721280 as 20 plain digits, which simdjson (and so
// Apply) refuses as a number wider than 64 bits.
TEST(JsonWriterTest, IntegralNumbersPastInt64ParseBackAsDoubles) {
  const double cases[] = {4.948343466666672e19,  -4.948343466666672e19,
                          9223372036854775808.0, -9223372036854775808.0,
                          1.8446744073709552e19, 12345678901234567e10};
  simdjson::dom::parser parser;
  for (double d : cases) {
    std::string out;
    JsonWriter::AppendNumber(out, d);
    double back = 0;
    ASSERT_EQ(parser.parse(out).get_double().get(back), simdjson::SUCCESS)
        << out;
    EXPECT_EQ(back, d) << out;
  }
}

TEST(JsonWriterTest, Round4) {
  EXPECT_DOUBLE_EQ(Round4(0.123449), 0.1234);
  EXPECT_DOUBLE_EQ(Round4(0.69995), 0.7);
  EXPECT_DOUBLE_EQ(Round4(-0.00001), 0.0);
}

}  // namespace
}  // namespace cairn
