#include "lockd/database_manager.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "hashdb/writer.h"
#include "tests/support/db_fixture.h"

using testsupport::BuildBytes;
using testsupport::EntryFor;
using testsupport::NewKey;
using testsupport::TempDir;

namespace {

void WriteBytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

struct Fixture {
  TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = NewKey();
  std::string db_path = dir.Join("allowlist.lockdb");
  Fixture() {
    REQUIRE(::mkdir(dir.Join("trust").c_str(), 0700) == 0);
    testsupport::WriteFile(dir.Join("trust/anchor.pem"), key->public_key().ToPem());
  }
  void Install(std::uint64_t generation, hashdb::Signer& signer,
               hashdb::Mode mode = hashdb::Mode::kEnforce) {
    hashdb::DatabaseContents c;
    c.generation = generation;
    c.policy.mode = mode;
    c.entries.push_back(EntryFor("/bin/x", "gen" + std::to_string(generation)));
    WriteBytes(db_path, BuildBytes(c, signer));
  }
  lockd::DatabaseManager Manager() {
    return lockd::DatabaseManager(db_path, dir.Join("trust"), lockd::StateStore(dir.Join("state")));
  }
};

}  // namespace

TEST_CASE("loads a verified database, persists the floor and calls the swap hook") {
  Fixture f;
  f.Install(5, *f.key);
  auto m = f.Manager();
  int swaps = 0;
  m.SetOnSwap([&](const hashdb::Database& db) {
    ++swaps;
    CHECK(db.generation() == 5);
  });
  CHECK(m.Current() == nullptr);
  auto db = m.Load();
  REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
  CHECK(m.Current()->generation() == 5);
  CHECK(swaps == 1);
  CHECK(*lockd::StateStore(f.dir.Join("state")).HighestGeneration() == 5);
}

TEST_CASE("refusals keep the database in force") {
  Fixture f;
  f.Install(5, *f.key);
  auto m = f.Manager();
  REQUIRE(m.Load().ok());
  auto in_force = m.Current();

  SUBCASE("lower generation") {
    f.Install(4, *f.key);
    auto r = m.Load();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("generation 4 is lower than the highest accepted (5)") !=
          std::string::npos);
  }
  SUBCASE("signed by a key that is not a trust anchor") {
    auto other = NewKey();
    f.Install(6, *other);
    auto r = m.Load();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == hashdb::ErrorCode::kSignature);
  }
  SUBCASE("truncated file") {
    f.Install(6, *f.key);
    REQUIRE(::truncate(f.db_path.c_str(), 100) == 0);
    CHECK_FALSE(m.Load().ok());
  }
  SUBCASE("missing file") {
    REQUIRE(::unlink(f.db_path.c_str()) == 0);
    CHECK_FALSE(m.Load().ok());
  }
  SUBCASE("empty trust directory") {
    REQUIRE(::unlink(f.dir.Join("trust/anchor.pem").c_str()) == 0);
    auto r = m.Load();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("trust directory " + f.dir.Join("trust")) == 0);
  }
  CHECK(m.Current() == in_force);
  CHECK(*lockd::StateStore(f.dir.Join("state")).HighestGeneration() == 5);
}

TEST_CASE("same generation is accepted, higher raises the floor, restart keeps the floor") {
  Fixture f;
  f.Install(5, *f.key);
  {
    auto m = f.Manager();
    REQUIRE(m.Load().ok());
    f.Install(5, *f.key, hashdb::Mode::kAudit);
    REQUIRE(m.Load().ok());
    CHECK(m.Current()->policy().mode == hashdb::Mode::kAudit);
    f.Install(9, *f.key);
    REQUIRE(m.Load().ok());
  }
  // A fresh daemon (same state dir) refuses the older file.
  f.Install(8, *f.key);
  auto m2 = f.Manager();
  CHECK_FALSE(m2.Load().ok());
  CHECK(m2.Current() == nullptr);
}

TEST_CASE(
    "overwriting or truncating the installed file in place does not touch the database in force") {
  Fixture f;
  f.Install(5, *f.key);
  auto m = f.Manager();
  REQUIRE(m.Load().ok());
  auto db = m.Current();
  const auto digest = testsupport::EntryFor("/bin/x", "gen5").digest;
  REQUIRE(db->Lookup(digest).has_value());
  // Same inode rewritten (what `cp new old` does), then truncated to nothing.
  f.Install(6, *f.key);
  CHECK(db->Lookup(digest).has_value());
  CHECK(db->generation() == 5);
  REQUIRE(::truncate(f.db_path.c_str(), 0) == 0);
  CHECK(db->Lookup(digest).has_value());
  CHECK(m.Current()->generation() == 5);
}
