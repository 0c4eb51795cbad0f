#include "hashdb/record_codec.h"

#include <doctest/doctest.h>

#include <string>

namespace v2 = hashdb::format::v2;

namespace {
// Decodes bytes as one record; the error text, or "ok".
std::string Decode(const std::vector<std::uint8_t>& bytes, v2::RecordFields* out = nullptr) {
  v2::RecordFields r;
  v2::RecordError error = v2::RecordError::kNone;
  const std::uint8_t* end = v2::DecodeRecord(bytes.data(), bytes.data() + bytes.size(), r, error);
  if (end == nullptr) return v2::RecordErrorText(error);
  if (out != nullptr) *out = r;
  return end == bytes.data() + bytes.size() ? "ok" : "bytes left";
}
}  // namespace

TEST_CASE("records encode and decode, with shortest-form numbers only") {
  v2::RecordFields in;
  in.has_directory = true;
  in.directory = 300;
  in.digest = 0xffffffffu;
  in.attributes = 0;
  in.size = ~0ull;
  in.suffix = "libc.so.6";
  std::vector<std::uint8_t> bytes;
  v2::EncodeRecord(bytes, in);
  v2::RecordFields out;
  REQUIRE(Decode(bytes, &out) == "ok");
  CHECK(out.has_directory);
  CHECK(out.directory == 300);
  CHECK(out.digest == 0xffffffffu);
  CHECK(out.size == ~0ull);
  CHECK(out.suffix == "libc.so.6");
  // The largest numbers take 5 (u32) and 10 (u64) bytes: 1 + 2 + 5 + 1 + 10 + 9.
  CHECK(bytes.size() == 28);

  CHECK(Decode({0x05, 0x00, 0x80, 0x00, 0x00, 0x00, 'a', 'b'}) ==
        std::string("bad digest index number"));  // 0 in two bytes
  CHECK(Decode({0x05, 0x00, 0x00, 0x00, 0x00, 'a', 'b'}) == "ok");
  CHECK(Decode({0x05, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 'a', 'b'}) ==
        std::string("bad directory index number"));                 // 2^32
  CHECK(Decode({0x04, 0x01, 0x00, 0x00, 0x00, 'a', 'b'}) == "ok");  // shared 1
  CHECK(Decode({0x04, 0x80}) == std::string("bad shared prefix number"));
  CHECK(Decode({0x05, 0x00, 0x00, 0x00, 0x00, 'a'}) ==
        std::string("name runs past the end of its record block"));
  CHECK(Decode({0x01, 0x00, 0x00, 0x00, 0x00}) ==
        std::string("bad name suffix length (must be 1 to 255)"));
  CHECK(Decode({}) ==
        std::string("bad head number (truncated, over 10 bytes or not in shortest form)"));
}

TEST_CASE("split paths compare like the whole paths") {
  const std::vector<std::string> paths = {"/a",  "/a-b", "/a/b",  "/a/b/c",  "/a/b0",
                                          "/a0", "/b",   "/\xff", "/a/\xff", "/ab"};
  for (const auto& x : paths) {
    for (const auto& y : paths) {
      const auto sx = v2::Split(x);
      const auto sy = v2::Split(y);
      const int whole = x.compare(y);
      const int split = v2::CompareSplitPaths(sx.directory, sx.name, sy.directory, sy.name);
      CHECK_MESSAGE((whole < 0) == (split < 0), x, " vs ", y);
      CHECK_MESSAGE((whole == 0) == (split == 0), x, " vs ", y);
      const int against = v2::CompareSplitPath(sx.directory, sx.name, y);
      CHECK_MESSAGE((whole < 0) == (against < 0), x, " vs ", y);
      CHECK_MESSAGE((whole == 0) == (against == 0), x, " vs ", y);
    }
  }
  CHECK(v2::Split("/bin").directory == "");
  CHECK(v2::Split("/bin").name == "bin");
  CHECK(v2::Split("/usr/bin/ls").directory == "/usr/bin");
}

TEST_CASE("the name check finds a slash or a NUL anywhere") {
  for (std::size_t len = 1; len < 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (char bad : {'/', '\0'}) {
        std::string s(len, 'a');
        s[at] = bad;
        CHECK(v2::HasSlashOrNul(s.data(), s.size()));
      }
    }
    std::string ok(len, '\x2e');
    CHECK_FALSE(v2::HasSlashOrNul(ok.data(), ok.size()));
    std::string high(len, '\xaf');  // '/' | 0x80
    CHECK_FALSE(v2::HasSlashOrNul(high.data(), high.size()));
  }
}
