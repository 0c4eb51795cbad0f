#include "tools/output.h"

#include "audit/json_parse.h"
#include "doctest/doctest.h"

TEST_CASE("EscapeText keeps hostile names on one printable line, unambiguously") {
  CHECK(lockctl::EscapeText("/usr/bin/ls") == "/usr/bin/ls");
  CHECK(lockctl::EscapeText("a\nb") == "a\\x0ab");
  CHECK(lockctl::EscapeText("\x1b[31mred") == "\\x1b[31mred");
  CHECK(lockctl::EscapeText("back\\slash") == "back\\\\slash");
  CHECK(lockctl::EscapeText("\\x0a") == "\\\\x0a");  // differs from the escaped newline above
  CHECK(lockctl::EscapeText(std::string("\xff\x00\x7f", 3)) == "\\xff\\x00\\x7f");
  CHECK(lockctl::EscapeText("caf\xc3\xa9") == "caf\\xc3\\xa9");
}

TEST_CASE("JsonBytesMember round-trips any bytes through path/path_hex") {
  for (std::string raw : {std::string("/usr/bin/ls"), std::string("caf\xc3\xa9"),
                          std::string("new\nline\"quote\\"), std::string("bad\xff\xfe"),
                          std::string("\xed\xa0\x80surrogate"), std::string("nul\0byte", 8)}) {
    CAPTURE(raw);
    const std::string json = "{" + lockctl::JsonBytesMember("path", raw) + "}";
    CHECK(json.find('\n') == std::string::npos);
    auto parsed = lockd::audit::ParseJson(json);
    REQUIRE(parsed.ok());
    auto bytes = lockd::audit::FieldBytes(*parsed, "path");
    REQUIRE(bytes.has_value());
    CHECK(*bytes == raw);
  }
}

TEST_CASE("HumanBytes and IsoTimeUtc") {
  CHECK(lockctl::HumanBytes(12) == "12 B");
  CHECK(lockctl::HumanBytes(1234567) == "1.23 MB");
  CHECK(lockctl::HumanBytes(8.6e9) == "8.60 GB");
  CHECK(lockctl::IsoTimeUtc(0) == "1970-01-01T00:00:00Z");
  CHECK(lockctl::IsoTimeUtc(1795798663) == "2026-11-27T16:57:43Z");
}
