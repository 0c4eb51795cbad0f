#include "hashdb/database.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "hashdb/format.h"
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

DatabaseContents SmallContents() {
  DatabaseContents c;
  c.generation = 7;
  c.created_unix = 1700000000;
  c.entries.push_back(EntryFor("/usr/bin/true", "true-binary"));
  c.entries.push_back(EntryFor("/usr/lib/libc.so.6", "libc", Kind::kElfSharedObject));
  c.entries.push_back(EntryFor("/opt/app/run.sh", "#!/bin/sh\necho hi\n", Kind::kScript));
  // A hard link / copy: same content under a second path.
  c.entries.push_back(EntryFor("/usr/bin/true-copy", "true-binary"));
  // A path that is not UTF-8 and contains a newline.
  c.entries.push_back(
      EntryFor(std::string("/opt/odd\n\xff\xfe name"), "odd", Kind::kOtherExecutable));
  return c;
}

hashdb::Digest DigestOf(const std::string& s) {
  return hashdb::Sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace

TEST_CASE("round trip: build, verify, look up, read records, in either version") {
  auto key = NewKey();
  auto contents = SmallContents();
  SUBCASE("version 1") { contents.format_version = 1; }
  SUBCASE("version 2") { contents.format_version = 2; }
  auto bytes = BuildBytes(contents, *key);
  auto db = Database::FromBytes(bytes, "small.lockdb", TrustOf(*key));
  REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
  const Database& d = **db;
  CHECK(d.signature_verified());
  CHECK(d.format_version() == contents.format_version);
  CHECK(d.generation() == 7);
  CHECK(d.created_unix() == 1700000000);
  CHECK(d.signer_key_id() == key->public_key().id());
  CHECK(d.record_count() == 5);
  CHECK(d.digest_count() == 4);  // two paths share one digest
  CHECK(d.policy() == hashdb::Policy{});

  auto hit = d.Lookup(DigestOf("true-binary"));
  REQUIRE(hit.has_value());
  CHECK(hit->kind == Kind::kElfExecutable);
  CHECK(d.FirstRecordOf(hit->digest_index).path == "/usr/bin/true");
  CHECK(d.Lookup(DigestOf("libc"))->kind == Kind::kElfSharedObject);
  CHECK(d.Lookup(DigestOf("#!/bin/sh\necho hi\n"))->kind == Kind::kScript);
  CHECK_FALSE(d.Lookup(DigestOf("not allowlisted")).has_value());

  // Records come back in byte order of their paths, with raw bytes intact.
  std::string previous;
  for (std::uint32_t i = 0; i < d.record_count(); ++i) {
    auto r = d.RecordAt(i);
    CHECK(std::string(r.path) > previous);
    previous = std::string(r.path);
  }
  auto odd = d.FindPath(std::string("/opt/odd\n\xff\xfe name"));
  REQUIRE(odd.has_value());
  CHECK(d.RecordAt(*odd).kind == Kind::kOtherExecutable);
  CHECK(d.RecordAt(*odd).size == 3);
  CHECK_FALSE(d.FindPath("/usr/bin/nothing").has_value());
  // The largest record: "#!/bin/sh\necho hi\n" (18 bytes). Anything longer cannot be allowed.
  CHECK(d.max_file_size() == 18);
}

TEST_CASE("Ed25519 signatures verify too") {
  auto key = NewKey(hashdb::SignatureAlgorithm::kEd25519);
  auto bytes = BuildBytes(SmallContents(), *key);
  auto db = Database::FromBytes(bytes, "ed.lockdb", TrustOf(*key));
  REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
  CHECK((*db)->signature_algorithm() == hashdb::SignatureAlgorithm::kEd25519);
}

TEST_CASE("an empty database is valid and allows nothing") {
  auto key = NewKey();
  DatabaseContents c;
  auto bytes = BuildBytes(c, *key);
  auto db = Database::FromBytes(bytes, "empty.lockdb", TrustOf(*key));
  REQUIRE(db.ok());
  CHECK_FALSE((*db)->Lookup(DigestOf("x")).has_value());
  CHECK((*db)->max_file_size() == 0);
}

TEST_CASE("policy settings round trip through the signed section") {
  auto key = NewKey();
  auto c = SmallContents();
  c.policy.mode = hashdb::Mode::kAudit;
  c.policy.cover_scripts = false;
  c.policy.interpreters = {"bash", "python3"};
  auto db = Database::FromBytes(BuildBytes(c, *key), "p.lockdb", TrustOf(*key));
  REQUIRE(db.ok());
  CHECK((*db)->policy() == c.policy);
}

TEST_CASE("flipping any single byte makes verification fail, in either version") {
  auto key = NewKey();
  auto contents = SmallContents();
  SUBCASE("version 1") { contents.format_version = 1; }
  SUBCASE("version 2") { contents.format_version = 2; }
  auto bytes = BuildBytes(contents, *key);
  auto trust = TrustOf(*key);
  REQUIRE(Database::FromBytes(bytes, "t", trust).ok());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xff}) {
      auto copy = bytes;
      copy[i] ^= mask;
      auto db = Database::FromBytes(copy, "t", trust);
      if (db.ok()) FAIL("byte " << i << " xor " << int(mask) << " still verified");
    }
  }
}

TEST_CASE("every truncation and any appended byte is rejected, in either version") {
  auto key = NewKey();
  auto contents = SmallContents();
  SUBCASE("version 1") { contents.format_version = 1; }
  SUBCASE("version 2") { contents.format_version = 2; }
  auto bytes = BuildBytes(contents, *key);
  auto trust = TrustOf(*key);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::span<const std::uint8_t> part(bytes.data(), len);
    auto db = Database::FromBytes(part, "t", trust);
    if (db.ok()) FAIL("truncated to " << len << " bytes still verified");
  }
  auto longer = bytes;
  longer.push_back(0);
  auto db = Database::FromBytes(longer, "t", trust);
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message.find("trailing bytes") != std::string::npos);
}

TEST_CASE("a database signed by an unknown key is rejected, naming the key") {
  auto key = NewKey();
  auto other = NewKey();
  auto bytes = BuildBytes(SmallContents(), *key);
  auto db = Database::FromBytes(bytes, "allowlist.lockdb", TrustOf(*other));
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().code == hashdb::ErrorCode::kSignature);
  CHECK(db.error().message.find("allowlist.lockdb") == 0);
  CHECK(db.error().message.find(hashdb::ToHex(key->public_key().id())) != std::string::npos);
  CHECK(db.error().message.find("not a trust anchor") != std::string::npos);
}

TEST_CASE("a signature by a trusted key over different bytes is rejected") {
  // Re-sign a database, then splice the first signature into a different body with the same
  // layout: the header names a trusted key, but the signature does not match.
  auto key = NewKey();
  auto a = SmallContents();
  auto b = SmallContents();
  b.generation = 8;
  auto bytes_a = BuildBytes(a, *key);
  auto bytes_b = BuildBytes(b, *key);
  std::uint64_t sig_off =
      hashdb::format::LoadU64(bytes_a.data() + hashdb::format::v2::off::kSignatureOffset);
  std::vector<std::uint8_t> spliced(bytes_b.begin(), bytes_b.begin() + sig_off);
  spliced.insert(spliced.end(), bytes_a.begin() + sig_off, bytes_a.end());
  auto db = Database::FromBytes(spliced, "s", TrustOf(*key));
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message.find("does not verify") != std::string::npos);
}

TEST_CASE("a newer format version is refused with a clear reason") {
  auto key = NewKey();
  auto bytes = BuildBytes(SmallContents(), *key);
  bytes[8] = 3;
  auto db = Database::FromBytes(bytes, "new.lockdb", TrustOf(*key));
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message ==
        "new.lockdb: format version 3 is not supported (this lockd reads versions 1 and 2)");
}

TEST_CASE("Open maps a file and names it in errors") {
  testsupport::TempDir dir;
  auto key = NewKey();
  auto bytes = BuildBytes(SmallContents(), *key);
  std::string path = dir.Join("allowlist.lockdb");
  testsupport::WriteFile(path, std::string(bytes.begin(), bytes.end()));
  auto db = Database::Open(path, TrustOf(*key));
  REQUIRE(db.ok());
  CHECK((*db)->file_size() == bytes.size());
  testsupport::WriteFile(path, "LOCKDB\r\nshort");
  auto bad = Database::Open(path, TrustOf(*key));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find(path + ": truncated") == 0);
  auto missing = Database::Open(dir.Join("missing"), TrustOf(*key));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("No such file") != std::string::npos);
}

TEST_CASE("writer refuses bad entries") {
  SUBCASE("version 2 refuses paths that are not canonical") {
    auto key = NewKey();
    for (const char* path : {"/a//b", "/a/./b", "/a/../b", "/a/", "/"}) {
      DatabaseContents c;
      c.entries.push_back(EntryFor(path, "x"));
      auto r = hashdb::BuildDatabase(c, *key);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message.find("not canonical") != std::string::npos);
    }
    DatabaseContents c;
    c.entries.push_back(EntryFor("/a/" + std::string(256, 'n'), "x"));
    auto r = hashdb::BuildDatabase(c, *key);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("longer than 255 bytes") != std::string::npos);
    c.format_version = 1;  // version 1 stored whole paths: it never had that limit
    CHECK(hashdb::BuildDatabase(c, *key).ok());
    c.format_version = 3;
    CHECK(hashdb::BuildDatabase(c, *key).error().message.find("cannot write format version 3") ==
          0);
  }
  auto key = NewKey();
  DatabaseContents c;
  c.entries.push_back(EntryFor("relative/path", "x"));
  CHECK_FALSE(hashdb::BuildDatabase(c, *key).ok());
  c.entries = {EntryFor("/a", "x"), EntryFor("/a", "y")};
  auto dup = hashdb::BuildDatabase(c, *key);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message.find("duplicate path") != std::string::npos);
  c.entries = {EntryFor(std::string("/a\0b", 4), "x")};
  CHECK_FALSE(hashdb::BuildDatabase(c, *key).ok());
}

TEST_CASE("lookups agree with a linear scan on a larger database, in either version") {
  auto key = NewKey();
  DatabaseContents c;
  SUBCASE("version 1") { c.format_version = 1; }
  SUBCASE("version 2") { c.format_version = 2; }
  for (int i = 0; i < 3000; ++i) {
    c.entries.push_back(EntryFor("/bin/f" + std::to_string(i), "content " + std::to_string(i)));
  }
  auto db = Database::FromBytes(BuildBytes(c, *key), "big", TrustOf(*key));
  REQUIRE(db.ok());
  for (int i = 0; i < 3000; ++i) {
    auto hit = (*db)->Lookup(DigestOf("content " + std::to_string(i)));
    REQUIRE(hit.has_value());
    CHECK((*db)->DigestAt(hit->digest_index) == DigestOf("content " + std::to_string(i)));
    CHECK((*db)->FirstRecordOf(hit->digest_index).path == "/bin/f" + std::to_string(i));
    CHECK((*db)->FindPath("/bin/f" + std::to_string(i)).has_value());
  }
  for (int i = 3000; i < 4000; ++i) {
    CHECK_FALSE((*db)->Lookup(DigestOf("content " + std::to_string(i))).has_value());
  }
}
