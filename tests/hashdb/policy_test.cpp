#include "hashdb/policy.h"

#include <doctest/doctest.h>

using hashdb::ParsePolicy;
using hashdb::Policy;
using hashdb::SerializePolicy;

TEST_CASE("policy round trips and defaults are fail-closed") {
  Policy p;
  CHECK(p.mode == hashdb::Mode::kEnforce);
  CHECK(p.cover_shared_objects);
  CHECK(p.cover_scripts);
  auto back = ParsePolicy(SerializePolicy(p));
  REQUIRE(back.ok());
  CHECK(*back == p);
}

TEST_CASE("policy parser rejects unknown, missing, duplicate and malformed tags") {
  auto bytes = SerializePolicy(Policy{});
  auto unknown = bytes;
  unknown.insert(unknown.end(), {7, 0, 1, 0, 1});
  auto r = ParsePolicy(unknown);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("unknown tag 7") != std::string::npos);

  auto missing = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 5);
  CHECK_FALSE(ParsePolicy(missing).ok());

  auto bad_value = bytes;
  bad_value[4] = 2;  // mode must be 0 or 1
  CHECK_FALSE(ParsePolicy(bad_value).ok());

  Policy slash;
  slash.interpreters = {"/bin/sh"};
  CHECK_FALSE(ParsePolicy(SerializePolicy(slash)).ok());
  Policy dup;
  dup.interpreters = {"sh", "sh"};
  CHECK_FALSE(ParsePolicy(SerializePolicy(dup)).ok());
}
