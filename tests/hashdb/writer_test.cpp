// The writer's choices that the reader cannot see from one record: which digests are flagged
// as interpreters, and the kind of a digest shared by several paths.
#include "hashdb/writer.h"

#include <doctest/doctest.h>

#include "hashdb/database.h"
#include "hashdb/sha256.h"
#include "tests/support/db_fixture.h"

using hashdb::Database;
using hashdb::DatabaseContents;
using hashdb::Kind;
using testsupport::BuildBytes;
using testsupport::EntryFor;
using testsupport::NewKey;
using testsupport::TrustOf;

namespace {
hashdb::Digest DigestOf(const std::string& s) {
  return hashdb::Sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
}  // namespace

TEST_CASE("interpreters are flagged by name, by hand, and for every copy of their content") {
  auto key = NewKey();
  DatabaseContents c;
  c.entries = {
      EntryFor("/usr/bin/bash", "bash"),          // a policy name
      EntryFor("/usr/bin/python3.11", "python"),  // a name with a version
      EntryFor("/home/app/renamed", "bash"),      // a copy of bash under another name
      EntryFor("/opt/tool/runner", "runner"),     // flagged by hand (db build --interpreter)
      EntryFor("/usr/bin/bashful", "bashful"),    // not an interpreter's name
      EntryFor("/usr/bin/true", "true"),
      EntryFor("/usr/lib/sh", "lib", Kind::kElfSharedObject),  // any kind: a static-pie "sh"
  };
  c.entries[3].interpreter = true;
  auto db = Database::FromBytes(BuildBytes(c, *key), "i", TrustOf(*key));
  REQUIRE_MESSAGE(db.ok(), db.error().message);
  auto interpreter = [&](const char* content) {
    auto hit = (*db)->Lookup(DigestOf(content));
    REQUIRE(hit.has_value());
    return hit->interpreter;
  };
  CHECK(interpreter("bash"));
  CHECK(interpreter("python"));
  CHECK(interpreter("runner"));
  CHECK(interpreter("lib"));
  CHECK_FALSE(interpreter("bashful"));
  CHECK_FALSE(interpreter("true"));
  // The copy is an interpreter because its content is.
  auto copy = (*db)->FindPath("/home/app/renamed");
  REQUIRE(copy.has_value());
  CHECK((*db)->RecordAt(*copy).interpreter);

  // The names come from the policy that is signed with them.
  c.policy.interpreters = {"python3"};
  c.entries[3].interpreter = false;
  db = Database::FromBytes(BuildBytes(c, *key), "i", TrustOf(*key));
  REQUIRE(db.ok());
  CHECK_FALSE(interpreter("bash"));
  CHECK(interpreter("python"));
  CHECK_FALSE(interpreter("runner"));
}

TEST_CASE("a digest shared by several paths has the lowest kind among them") {
  auto key = NewKey();
  DatabaseContents c;
  c.entries = {EntryFor("/a", "same", Kind::kScript),
               EntryFor("/b", "same", Kind::kElfSharedObject),
               EntryFor("/c", "same", Kind::kOtherExecutable)};
  auto db = Database::FromBytes(BuildBytes(c, *key), "k", TrustOf(*key));
  REQUIRE(db.ok());
  CHECK((*db)->digest_count() == 1);
  CHECK((*db)->Lookup(DigestOf("same"))->kind == Kind::kElfSharedObject);
}

TEST_CASE("metadata survives: size, mode, owner; many directories and attributes") {
  auto key = NewKey();
  DatabaseContents c;
  for (int i = 0; i < 300; ++i) {
    auto e = EntryFor(
        "/d" + std::to_string(i % 7) + "/sub" + std::to_string(i % 3) + "/f" + std::to_string(i),
        "c" + std::to_string(i % 50));
    e.size = static_cast<std::uint64_t>(i) << 33;
    e.mode = 0100000 | static_cast<std::uint32_t>(i % 8);
    e.uid = static_cast<std::uint32_t>(i % 5) * 1000;
    e.gid = 4294967295u - static_cast<std::uint32_t>(i % 2);
    c.entries.push_back(e);
  }
  auto db = Database::FromBytes(BuildBytes(c, *key), "m", TrustOf(*key));
  REQUIRE_MESSAGE(db.ok(), db.error().message);
  for (const auto& e : c.entries) {
    auto at = (*db)->FindPath(e.path);
    REQUIRE_MESSAGE(at.has_value(), e.path);
    const auto r = (*db)->RecordAt(*at);
    CHECK(r.size == e.size);
    CHECK(r.mode == e.mode);
    CHECK(r.uid == e.uid);
    CHECK(r.gid == e.gid);
    CHECK(*r.digest == e.digest);
  }
}
