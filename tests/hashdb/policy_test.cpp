#include "hashdb/policy.h"

#include <doctest/doctest.h>

#include <string>

using namespace std::string_literals;

using hashdb::ParsePolicy;
using hashdb::Policy;
using hashdb::SerializePolicy;

namespace {
std::string Error(const std::vector<std::uint8_t>& bytes, std::uint16_t version = 2) {
  auto r = ParsePolicy(bytes, version);
  return r.ok() ? "ok" : r.error().message;
}
// The bytes of p with the value of `tag` replaced.
std::vector<std::uint8_t> WithValue(const Policy& p, std::uint16_t tag,
                                    std::vector<std::uint8_t> value) {
  const auto bytes = SerializePolicy(p);
  std::vector<std::uint8_t> out;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::uint16_t t = bytes[pos] | (bytes[pos + 1] << 8);
    const std::uint16_t len = bytes[pos + 2] | (bytes[pos + 3] << 8);
    out.insert(out.end(), bytes.begin() + pos, bytes.begin() + pos + 2);
    if (t == tag) {
      out.push_back(static_cast<std::uint8_t>(value.size()));
      out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
      out.insert(out.end(), value.begin(), value.end());
    } else {
      out.insert(out.end(), bytes.begin() + pos + 2, bytes.begin() + pos + 4 + len);
    }
    pos += 4 + len;
  }
  return out;
}
}  // namespace

TEST_CASE("policy round trips and defaults are fail-closed") {
  Policy p;
  CHECK(p.mode == hashdb::Mode::kEnforce);
  CHECK(p.cover_shared_objects);
  CHECK(p.cover_scripts);
  CHECK(p.watch.empty());
  CHECK(p.restrict_user_namespaces);
  CHECK(p.deny_user_writable);
  CHECK(p.trusted_owners.empty());
  auto back = ParsePolicy(SerializePolicy(p));
  REQUIRE(back.ok());
  CHECK(*back == p);
}

TEST_CASE("every version-2 setting round trips") {
  Policy p;
  p.mode = hashdb::Mode::kAudit;
  p.memfd_noexec = false;
  p.interpreters = {"bash", "myinterp"};
  p.watch = {"/", "/opt/app", "/srv/data"};
  p.restrict_user_namespaces = false;
  p.deny_user_writable = false;
  p.trusted_owners = {1, 999, 4294967294u};
  REQUIRE(hashdb::ValidatePolicy(p).ok());
  auto back = ParsePolicy(SerializePolicy(p));
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  CHECK(*back == p);
  CHECK_FALSE(hashdb::FitsVersion1(p));
  CHECK(hashdb::FitsVersion1(Policy{}));
}

TEST_CASE("a version-1 policy section has six tags and gives the new settings' defaults") {
  Policy p;
  p.cover_shared_objects = false;
  const auto v1 = SerializePolicy(p, 1);
  auto back = ParsePolicy(v1, 1);
  REQUIRE(back.ok());
  CHECK(*back == p);
  // In a version-1 file, tag 7 is unknown; in a version-2 file, tags 7 to 10 are required.
  CHECK(Error(SerializePolicy(Policy{}), 1).find("unknown tag 7") != std::string::npos);
  CHECK(Error(v1, 2) == "policy: missing tag 7");
}

TEST_CASE("policy parser rejects unknown, missing, duplicate and malformed tags") {
  auto bytes = SerializePolicy(Policy{});
  auto unknown = bytes;
  unknown.insert(unknown.end(), {11, 0, 1, 0, 1});
  CHECK(Error(unknown).find("unknown tag 11") != std::string::npos);

  auto missing = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 5);
  CHECK(Error(missing) == "policy: missing tag 2");

  auto bad_value = bytes;
  bad_value[4] = 2;  // mode must be 0 or 1
  CHECK(Error(bad_value) == "policy: tag 1 must be one byte 0 or 1");

  Policy slash;
  slash.interpreters = {"/bin/sh"};
  CHECK_FALSE(ParsePolicy(SerializePolicy(slash)).ok());
  Policy dup;
  dup.interpreters = {"sh", "sh"};
  CHECK_FALSE(ParsePolicy(SerializePolicy(dup)).ok());
}

TEST_CASE("each new policy tag rejects malformed values with its reason") {
  const Policy p;
  auto bytes = [](std::string s) { return std::vector<std::uint8_t>(s.begin(), s.end()); };
  // watch (7)
  CHECK(Error(WithValue(p, 7, bytes("srv\0"s))) ==
        "policy: watch path 'srv' is not a canonical absolute path (no empty, '.' or '..' "
        "component, no trailing '/', at most 4096 bytes)");
  for (std::string bad : {"/srv/"s, "/srv//x"s, "/srv/./x"s, "/srv/../x"s, ""s}) {
    CHECK(Error(WithValue(p, 7, bytes(bad + '\0'))).find("is not a canonical absolute path") !=
          std::string::npos);
  }
  CHECK(Error(WithValue(p, 7, bytes("/srv"))) == "policy: watch list not NUL-terminated");
  CHECK(Error(WithValue(p, 7, bytes("/srv\0/srv\0"s))) == "policy: duplicate watch path '/srv'");
  std::string many;
  for (int i = 0; i < 65; ++i) many += "/w" + std::to_string(i) + '\0';
  CHECK(Error(WithValue(p, 7, bytes(many))) == "policy: too many watch paths");
  // restrict_user_namespaces (8), deny_user_writable (9)
  CHECK(Error(WithValue(p, 8, {2})) == "policy: tag 8 must be one byte 0 or 1");
  CHECK(Error(WithValue(p, 9, {1, 1})) == "policy: tag 9 must be one byte 0 or 1");
  CHECK(Error(WithValue(p, 9, {})) == "policy: tag 9 must be one byte 0 or 1");
  // trusted_owners (10)
  CHECK(Error(WithValue(p, 10, {1, 0, 0})) ==
        "policy: tag 10 (trusted owners) length 3 is not a multiple of 4");
  CHECK(Error(WithValue(p, 10, {0, 0, 0, 0})) ==
        "policy: trusted owner 0: root is always trusted, do not list it");
  CHECK(Error(WithValue(p, 10, {0xff, 0xff, 0xff, 0xff})) ==
        "policy: trusted owner 4294967295 is not a valid uid");
  CHECK(Error(WithValue(p, 10, {5, 0, 0, 0, 4, 0, 0, 0})) ==
        "policy: trusted owners are not in strictly increasing order at 4");
  CHECK(Error(WithValue(p, 10, {5, 0, 0, 0, 5, 0, 0, 0})) ==
        "policy: trusted owners are not in strictly increasing order at 5");
  // Tags out of order.
  CHECK(Error({1, 0, 1, 0, 0, 3, 0, 1, 0, 1}) ==
        "policy: tag 3 out of order at byte 5 (expected tag 2)");
}

TEST_CASE("ValidatePolicy refuses before writing what a reader would refuse") {
  Policy p;
  p.watch = {"relative"};
  CHECK(hashdb::ValidatePolicy(p).error().message.find("watch path 'relative'") !=
        std::string::npos);
  p.watch = {"/a", "/a"};
  CHECK(hashdb::ValidatePolicy(p).error().message == "policy: duplicate watch path '/a'");
  p = Policy{};
  p.trusted_owners = {3, 2};
  CHECK_FALSE(hashdb::ValidatePolicy(p).ok());
  p.trusted_owners = {0};
  CHECK_FALSE(hashdb::ValidatePolicy(p).ok());
  p = Policy{};
  p.interpreters = {""};
  CHECK_FALSE(hashdb::ValidatePolicy(p).ok());
  p = Policy{};
  for (int i = 0; i < 20; ++i) p.watch.push_back("/" + std::string(4000, 'a' + i));
  CHECK(hashdb::ValidatePolicy(p).error().message.find("65535") != std::string::npos);
}

TEST_CASE("interpreter names match exactly or with a version suffix") {
  const std::vector<std::string> names = Policy::DefaultInterpreters();
  for (const char* yes : {"bash", "python3", "python3.11", "perl5.36.0", "python3-11", "sh"}) {
    CHECK_MESSAGE(hashdb::IsInterpreterName(yes, names), yes);
  }
  for (const char* no : {"bashful", "python3.13-dbg", "shx", "", "xbash", "ls"}) {
    CHECK_FALSE_MESSAGE(hashdb::IsInterpreterName(no, names), no);
  }
}

TEST_CASE("canonical absolute paths") {
  for (const char* yes : {"/", "/a", "/a/b", "/a.b/c..d", "/.x"}) {
    CHECK_MESSAGE(hashdb::IsCanonicalAbsolutePath(yes), yes);
  }
  for (const char* no : {"", "a", "//", "/a/", "/a//b", "/./a", "/a/..", "/a/."}) {
    CHECK_FALSE_MESSAGE(hashdb::IsCanonicalAbsolutePath(no), no);
  }
  CHECK_FALSE(hashdb::IsCanonicalAbsolutePath(std::string("/a\0b", 4)));
  CHECK_FALSE(hashdb::IsCanonicalAbsolutePath("/" + std::string(4096, 'a')));
  CHECK(hashdb::IsCanonicalAbsolutePath("/" + std::string(4095, 'a')));
}
