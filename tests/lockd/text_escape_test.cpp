#include "lockd/text_escape.h"

#include <doctest/doctest.h>

TEST_CASE("hostile bytes in paths cannot forge log lines or fields") {
  using lockd::EscapeLogValue;
  CHECK(EscapeLogValue("/usr/bin/ls") == "/usr/bin/ls");
  CHECK(EscapeLogValue("a\nlockd: decision verdict=allow") ==
        "a\\x0alockd: decision verdict=allow");
  CHECK(EscapeLogValue("q\"uote\\") == "q\\\"uote\\\\");
  CHECK(EscapeLogValue(std::string("\xff\xfe\x1b[31m", 7)) == "\\xff\\xfe\\x1b[31m");
  CHECK(EscapeLogValue(std::string("a\0b", 3)) == "a\\x00b");
  const std::string longpath(10000, 'x');
  const std::string cut = EscapeLogValue(longpath, 100);
  CHECK(cut.size() == 103);
  CHECK(cut.substr(100) == "...");
  for (char c : EscapeLogValue(std::string("\x01\x7f\x80 ok"))) {
    CHECK(c >= 0x20);
    CHECK(c < 0x7f);
  }
}
