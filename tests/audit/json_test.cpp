// Audit record encoding: hostile data can never split, extend or forge a record, and the
// exact bytes always come back.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "audit/json_escape.h"
#include "audit/json_parse.h"
#include "audit/record.h"

using namespace lockd::audit;

namespace {

// Builds a record line with `bytes` in field "path", checks the line is one safe JSON line and
// returns the parsed object.
JsonValue LineWithPath(const std::string& bytes) {
  Record r("deny");
  r.AddBytes("path", bytes).AddUint("pid", 42);
  const std::string line = FormatLine(7, kGenesisPrev, r);
  REQUIRE(line.find('\n') == std::string::npos);
  REQUIRE(line.find('\r') == std::string::npos);
  for (unsigned char c : line) REQUIRE(c >= 0x20);
  REQUIRE(IsValidUtf8(line));
  auto json = ParseJson(line);
  REQUIRE_MESSAGE(json.ok(), line);
  REQUIRE(json->type == JsonValue::Type::kObject);
  // The framing fields are ours, whatever the data says.
  REQUIRE(json->Find("seq")->uint_value == 7);
  REQUIRE(json->Find("type")->string == "deny");
  REQUIRE(json->Find("pid")->uint_value == 42);
  REQUIRE(json->Find("prev")->string == kGenesisPrev);
  return *json;
}

void RoundTrip(const std::string& bytes) {
  const JsonValue obj = LineWithPath(bytes);
  auto back = FieldBytes(obj, "path");
  REQUIRE(back.has_value());
  CHECK(*back == bytes);
  CHECK((obj.Find("path_hex") != nullptr) == !IsValidUtf8(bytes));
}

}  // namespace

TEST_CASE("audit json: every single byte round-trips") {
  for (int b = 0; b < 256; ++b) {
    CAPTURE(b);
    RoundTrip(std::string(1, static_cast<char>(b)));
    RoundTrip("/tmp/a" + std::string(1, static_cast<char>(b)) + "b");
  }
}

TEST_CASE("audit json: hostile names round-trip and cannot forge fields") {
  const std::string names[] = {
      "evil\nname",
      "evil\r\n{\"seq\":1,\"type\":\"deny\"}",
      "\",\"type\":\"allow\",\"x\":\"",
      "back\\slash\\\"quote",
      "\x1b[31mred\x1b[0m\x07",
      "\xff\xfe invalid",
      "\xc0\xaf overlong slash",
      "\xed\xa0\x80 surrogate",
      "\xf4\x90\x80\x80 beyond U+10FFFF",
      "truncated \xe2\x82",
      "bidi \xe2\x80\xae exe.txt",
      "line sep \xe2\x80\xa8 para sep \xe2\x80\xa9",
      "C1 \xc2\x85 NEL",
      "\xe5\x8f\x96\xe5\xbc\x95.exe",  // Japanese, kept readable
      "emoji \xf0\x9f\x98\x80",
      std::string("nul\0inside", 10),
      "",
  };
  for (const auto& n : names) {
    CAPTURE(n);
    RoundTrip(n);
  }
  // Readable scripts stay readable (not escaped).
  Record r("deny");
  r.AddBytes("path", "\xe5\x8f\x96\xe5\xbc\x95.exe");
  CHECK(FormatLine(1, kGenesisPrev, r).find("\xe5\x8f\x96\xe5\xbc\x95.exe") != std::string::npos);
  // Unsafe code points are escaped, never raw.
  Record b("deny");
  b.AddBytes("path",
             "a\xe2\x80\xae"
             "b\xe2\x80\xa8");
  const std::string line = FormatLine(1, kGenesisPrev, b);
  CHECK(line.find("\\u202e") != std::string::npos);
  CHECK(line.find("\\u2028") != std::string::npos);
  CHECK(line.find("\xe2\x80\xae") == std::string::npos);
}

TEST_CASE("audit json: random bytes round-trip") {
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) {
      // Bias towards the interesting bytes.
      const unsigned r = rng() % 8;
      c = static_cast<char>(r < 2 ? rng() % 0x20 : r < 4 ? 0x80 + rng() % 0x80 : rng() % 256);
    }
    CAPTURE(i);
    RoundTrip(s);
  }
}

TEST_CASE("audit json: very long values are capped with a marker") {
  std::string long_path = "/" + std::string(10000, 'a');
  JsonValue obj = LineWithPath(long_path);
  CHECK(obj.Find("path")->string.size() == kMaxFieldBytes);
  REQUIRE(obj.Find("path_truncated") != nullptr);
  CHECK(obj.Find("path_truncated")->uint_value == 10001);

  // The cut never splits a UTF-8 character, so the kept part stays valid.
  std::string multi = "/" + std::string(kMaxFieldBytes - 2, 'b') + "\xe5\x8f\x96\xe5\xbc\x95";
  obj = LineWithPath(multi);
  CHECK(obj.Find("path_hex") == nullptr);
  CHECK(obj.Find("path")->string.size() == kMaxFieldBytes - 1);
  CHECK(obj.Find("path_truncated")->uint_value == multi.size());
}

TEST_CASE("audit json: keys are sanitized and never duplicated") {
  Record r("deny");
  r.AddUint("seq", 99).AddUint("pid", 1).AddUint("pid", 2).AddBytes("Bad Key!", "x");
  r.AddBytes("x", "\xff").AddBytes("x_hex", "y");
  const std::string line = FormatLine(3, kGenesisPrev, r);
  auto obj = ParseJson(line);
  REQUIRE_MESSAGE(obj.ok(), line);
  CHECK(obj->Find("seq")->uint_value == 3);
  CHECK(obj->Find("seq_2")->uint_value == 99);
  CHECK(obj->Find("pid")->uint_value == 1);
  CHECK(obj->Find("pid_2")->uint_value == 2);
  CHECK(obj->Find("_ad__ey_")->string == "x");  // invalid key characters become '_'
  CHECK(*FieldBytes(*obj, "x") == "\xff");
  CHECK(obj->Find("x_hex_2")->string == "y");
}

TEST_CASE("audit json: the parser refuses ambiguous or malformed input") {
  const char* bad[] = {
      R"({"a":1,"a":2})",               // duplicate key
      R"({"a":1} x)",                   // trailing bytes
      R"({"a":"\ud800"})",              // lone high surrogate
      R"({"a":"\udc00"})",              // lone low surrogate
      "{\"a\":\"x\ny\"}",               // raw newline
      "{\"a\":\"\xff\"}",               // invalid UTF-8
      R"({"a":01})",                    // leading zero
      R"({"a":1.5})",                   // not an integer
      R"({"a":18446744073709551616})",  // too big
      R"({"a":-9223372036854775809})",  // too small
      R"({"a":tru})",
      R"({"a" 1})",
      R"({"a":1,})",
      R"([[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]])",  // too deep
      "",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_FALSE(ParseJson(text).ok());
  }
  auto ok =
      ParseJson(R"( {"a":[1,-2,"x\u00e9\ud83d\ude00",true,null,{}],"b":18446744073709551615} )");
  REQUIRE(ok.ok());
  CHECK(ok->Find("a")->array[1].int_value == -2);
  CHECK(ok->Find("a")->array[2].string == "x\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(ok->Find("b")->uint_value == UINT64_MAX);
  CHECK(ParseJson(R"({"a":"x"} x)").error().message.find("byte 10") != std::string::npos);
}

TEST_CASE("audit json: the reader's limits and the forms nlohmann alone would accept") {
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') + "1" +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  CHECK(ParseJson(nested(kMaxJsonDepth)).ok());
  CHECK_FALSE(ParseJson(nested(kMaxJsonDepth + 1)).ok());
  auto members = [](std::size_t n) {
    std::string s = "{";
    for (std::size_t i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
    return s + "}";
  };
  CHECK(ParseJson(members(kMaxJsonMembers)).ok());
  CHECK_FALSE(ParseJson(members(kMaxJsonMembers + 1)).ok());
  std::string long_array = "[0";
  for (int i = 1; i < 1000; ++i) long_array += "," + std::to_string(i);
  auto array = ParseJson(long_array + "]");
  REQUIRE(array.ok());
  CHECK(array->array.size() == 1000);
  CHECK_FALSE(ParseJson("\xef\xbb\xbf{}").ok());  // a byte order mark
  for (const char* bad_utf8 :
       {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"}) {
    CAPTURE(bad_utf8);
    CHECK_FALSE(ParseJson(std::string("\"") + bad_utf8 + "\"").ok());
  }
  auto minus_zero = ParseJson("-0");
  REQUIRE(minus_zero.ok());
  CHECK(minus_zero->type == JsonValue::Type::kInt);
  CHECK(ParseJson("-9223372036854775808")->int_value == INT64_MIN);
  // Error messages quote input, escaped: no terminal control reaches a screen through them.
  auto dup = ParseJson("{\"\\u001b[2J\":1,\"\\u001b[2J\":2}");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message == "duplicate key \"\\x1b[2J\"");
  auto junk = ParseJson("{\"a\":\x1b}");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.error().message.find('\x1b') == std::string::npos);
  CHECK(junk.error().message.rfind("byte 5: ", 0) == 0);
}

TEST_CASE("audit time: RFC 3339 UTC with milliseconds") {
  const auto t = Clock::from_time_t(1795795454) + std::chrono::milliseconds(123);
  CHECK(FormatTime(t) == "2026-11-27T16:04:14.123Z");
  CHECK(ParseTime("2026-11-27T16:04:14.123Z") == t);
  CHECK(ParseTime("2026-11-27T16:04:14Z") == t - std::chrono::milliseconds(123));
  CHECK(ParseTime("2026-11-27") == Clock::from_time_t(1795795454 - (16 * 3600 + 4 * 60 + 14)));
  CHECK_FALSE(ParseTime("2026-11-27T16:04:14.123+01:00"));
  CHECK_FALSE(ParseTime("2026-13-27"));
  CHECK_FALSE(ParseTime("yesterday"));
  CHECK_FALSE(ParseTime("0026-11-27T16:04:14.123Z"));  // would overflow the clock
  CHECK_FALSE(ParseTime("9999-11-27"));
}
