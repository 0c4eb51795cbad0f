// Format version 1 still reads, exactly as before version 2 existed.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "hashdb/database.h"
#include "hashdb/diff.h"
#include "hashdb/format.h"
#include "hashdb/sha256.h"
#include "tests/fuzz/fuzz_keys.h"
#include "tests/hashdb/corpus_outcomes.h"
#include "tests/support/db_fixture.h"

using hashdb::Database;
using hashdb::DatabaseContents;
using hashdb::Kind;
using testsupport::BuildBytes;
using testsupport::EntryFor;
using testsupport::NewKey;
using testsupport::TrustOf;

namespace {

std::string SourceDir() {
  const char* env = std::getenv("LOCKD_SOURCE_DIR");
  return env != nullptr ? env : LOCKD_TEST_SOURCE_DIR;
}

hashdb::Digest DigestOf(const std::string& s) {
  return hashdb::Sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

DatabaseContents Contents() {
  DatabaseContents c;
  c.generation = 3;
  c.created_unix = 1700000000;
  c.entries = {EntryFor("/usr/bin/python3.11", "python"), EntryFor("/opt/app/py", "python"),
               EntryFor("/usr/bin/true", "true"),
               EntryFor("/usr/lib/libc.so.6", "libc", Kind::kElfSharedObject),
               EntryFor("/usr/local/bin/bashful", "bashful")};
  return c;
}

}  // namespace

TEST_CASE("the version-1 seed corpus, its byte flips and truncations read as they always did") {
  // tests/hashdb/data/v1_corpus_outcomes.txt was written by the reader of format version 1
  // alone (commit b4c3166), over tests/fuzz/corpus/db_reader/seed*.lockdb. The one change
  // since: a file with an unknown version number now says which versions are read.
  std::ifstream golden(SourceDir() + "/tests/hashdb/data/v1_corpus_outcomes.txt");
  REQUIRE(golden.good());
  std::stringstream expected_text;
  expected_text << golden.rdbuf();
  std::string expected = expected_text.str();
  for (std::size_t at = 0;
       (at = expected.find("(this lockd reads version 1)", at)) != std::string::npos;) {
    expected.replace(at, 28, "(this lockd reads versions 1 and 2)");
  }
  const auto trust = fuzzkeys::Trust();
  std::string actual;
  for (const auto& f :
       testsupport::CorpusFiles(SourceDir() + "/tests/fuzz/corpus/db_reader", ".lockdb")) {
    const auto bytes = testsupport::ReadAll(f);
    REQUIRE(bytes.size() > 10);
    if (hashdb::format::LoadU16(bytes.data() + 8) != 1) continue;  // the newer seeds
    actual += testsupport::FileOutcomes(f.filename().string(), bytes, trust);
  }
  // Line by line, so that a difference shows where it is.
  std::istringstream a(actual);
  std::istringstream e(expected);
  std::string la;
  std::string le;
  int line = 0;
  while (std::getline(e, le)) {
    ++line;
    REQUIRE_MESSAGE(std::getline(a, la), "reader output ends before golden line ", line);
    REQUIRE_MESSAGE(la == le, "line ", line);
  }
  CHECK_FALSE(std::getline(a, la));
}

TEST_CASE("a version-1 file built by the version-1 writer reads like its version-2 twin") {
  auto key = NewKey();
  auto c1 = Contents();
  c1.format_version = 1;
  auto c2 = Contents();
  auto v1 = Database::FromBytes(BuildBytes(c1, *key), "v1", TrustOf(*key));
  auto v2 = Database::FromBytes(BuildBytes(c2, *key), "v2", TrustOf(*key));
  REQUIRE_MESSAGE(v1.ok(), v1.error().message);
  REQUIRE_MESSAGE(v2.ok(), v2.error().message);
  CHECK((*v1)->format_version() == 1);
  CHECK((*v2)->format_version() == 2);
  CHECK((*v1)->file_size() > (*v2)->file_size());
  // Records, lookups and the policy agree.
  CHECK(hashdb::EntriesOf(**v1) == hashdb::EntriesOf(**v2));
  CHECK(hashdb::DiffDatabases(**v1, **v2).empty());
  CHECK((*v1)->policy() == (*v2)->policy());
  for (const char* content : {"python", "true", "libc", "bashful"}) {
    auto a = (*v1)->Lookup(DigestOf(content));
    auto b = (*v2)->Lookup(DigestOf(content));
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->kind == b->kind);
    CHECK(a->interpreter == b->interpreter);
  }
  // Version 1 carries no flag: it is derived from the names, as the version-2 writer sets it.
  CHECK((*v1)->Lookup(DigestOf("python"))->interpreter);  // python3.11, and /opt/app/py too
  CHECK((*v1)->RecordAt(0).interpreter);                  // /opt/app/py: same content
  CHECK_FALSE((*v1)->Lookup(DigestOf("bashful"))->interpreter);
  CHECK_FALSE((*v1)->Lookup(DigestOf("true"))->interpreter);
}

TEST_CASE("a version-1 policy section reads with the strong defaults of the newer settings") {
  auto key = NewKey();
  auto c = Contents();
  c.format_version = 1;
  c.policy.mode = hashdb::Mode::kAudit;
  c.policy.cover_scripts = false;
  auto db = Database::FromBytes(BuildBytes(c, *key), "v1", TrustOf(*key));
  REQUIRE(db.ok());
  const hashdb::Policy& p = (*db)->policy();
  CHECK(p.mode == hashdb::Mode::kAudit);
  CHECK_FALSE(p.cover_scripts);
  CHECK(p.watch.empty());  // every local filesystem
  CHECK(p.restrict_user_namespaces);
  CHECK(p.deny_user_writable);
  CHECK(p.trusted_owners.empty());
}

TEST_CASE("the version-1 writer refuses what version 1 cannot hold") {
  auto key = NewKey();
  auto c = Contents();
  c.format_version = 1;
  c.policy.deny_user_writable = false;
  auto r = hashdb::BuildDatabase(c, *key);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("format version 1 cannot hold") == 0);
  c = Contents();
  c.format_version = 1;
  c.entries[2].interpreter = true;  // /usr/bin/true flagged by hand: no name implies it
  r = hashdb::BuildDatabase(c, *key);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("cannot flag /usr/bin/true as an interpreter") != std::string::npos);
  c.entries[2].interpreter = false;
  c.entries[0].interpreter = true;  // python3.11: the name implies it, so it fits
  CHECK(hashdb::BuildDatabase(c, *key).ok());
}
