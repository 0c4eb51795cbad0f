#include "hashdb/diff.h"

#include <algorithm>

#include "doctest/doctest.h"
#include "tests/support/db_fixture.h"

namespace {

using hashdb::FileEntry;
using testsupport::EntryFor;

std::vector<FileEntry> Sorted(std::vector<FileEntry> v) {
  std::sort(v.begin(), v.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return v;
}

std::shared_ptr<const hashdb::Database> Open(const std::vector<FileEntry>& entries,
                                             hashdb::PrivateKey& key) {
  hashdb::DatabaseContents contents;
  contents.entries = entries;
  auto bytes = testsupport::BuildBytes(contents, key);
  auto db = hashdb::Database::FromBytes(bytes, "test.lockdb", testsupport::TrustOf(key));
  REQUIRE(db.ok());
  return *db;
}

}  // namespace

TEST_CASE("diff of entry lists: added, removed, changed, unchanged") {
  auto before = Sorted({EntryFor("/usr/bin/a", "a1"), EntryFor("/usr/bin/b", "b1"),
                        EntryFor("/usr/bin/c", "c1"), EntryFor("/usr/lib/gone.so", "g")});
  auto after = Sorted({EntryFor("/usr/bin/a", "a1"), EntryFor("/usr/bin/b", "b2"),
                       EntryFor("/usr/bin/c", "c1"), EntryFor("/usr/bin/new", "n"),
                       EntryFor("/zzz/last", "z")});
  auto d = hashdb::DiffEntries(before, after);
  REQUIRE(d.added.size() == 2);
  CHECK(d.added[0].path == "/usr/bin/new");
  CHECK(d.added[1].path == "/zzz/last");
  REQUIRE(d.removed.size() == 1);
  CHECK(d.removed[0].path == "/usr/lib/gone.so");
  REQUIRE(d.changed.size() == 1);
  CHECK(d.changed[0].before.path == "/usr/bin/b");
  CHECK(d.changed[0].before.digest == EntryFor("x", "b1").digest);
  CHECK(d.changed[0].after.digest == EntryFor("x", "b2").digest);
  CHECK(d.unchanged == 2);
  CHECK_FALSE(d.empty());

  CHECK(hashdb::DiffEntries(before, before).empty());
  CHECK(hashdb::DiffEntries(before, before).unchanged == before.size());
  CHECK(hashdb::DiffEntries({}, after).added.size() == after.size());
  CHECK(hashdb::DiffEntries(before, {}).removed.size() == before.size());
}

TEST_CASE("diff orders raw-byte paths bytewise") {
  // 0xff sorts after every ASCII byte when compared as unsigned bytes.
  auto before = Sorted({EntryFor("/a", "1"), EntryFor(std::string("/\xff"), "2")});
  auto after = Sorted(
      {EntryFor("/a", "1"), EntryFor("/b\nnewline", "3"), EntryFor(std::string("/\xff"), "2")});
  REQUIRE(before.back().path == "/\xff");
  auto d = hashdb::DiffEntries(before, after);
  REQUIRE(d.added.size() == 1);
  CHECK(d.added[0].path == "/b\nnewline");
  CHECK(d.removed.empty());
  CHECK(d.unchanged == 2);
}

TEST_CASE("diff of two signed databases matches the diff of their entries") {
  auto key = testsupport::NewKey();
  std::vector<FileEntry> before, after;
  for (int i = 0; i < 300; ++i) {
    std::string path = "/usr/bin/p" + std::to_string(i);
    if (i % 3 != 0) before.push_back(EntryFor(path, "v1-" + std::to_string(i)));
    if (i % 5 != 0) {
      after.push_back(
          EntryFor(path, (i % 7 == 0 ? "v2-" : "v1-") + std::to_string(i), hashdb::Kind::kScript));
    }
  }
  before = Sorted(before);
  after = Sorted(after);
  auto db_before = Open(before, *key);
  auto db_after = Open(after, *key);
  auto from_db = hashdb::DiffDatabases(*db_before, *db_after);
  auto from_entries = hashdb::DiffEntries(before, after);
  CHECK(from_db.added.size() == from_entries.added.size());
  CHECK(from_db.removed.size() == from_entries.removed.size());
  CHECK(from_db.changed.size() == from_entries.changed.size());
  CHECK(from_db.unchanged == from_entries.unchanged);
  for (std::size_t i = 0; i < from_db.added.size(); ++i) {
    CHECK(from_db.added[i].path == from_entries.added[i].path);
    CHECK(from_db.added[i].kind == hashdb::Kind::kScript);
  }
  for (std::size_t i = 0; i < from_db.changed.size(); ++i) {
    CHECK(from_db.changed[i].after.digest == from_entries.changed[i].after.digest);
  }
  CHECK(!from_db.added.empty());
  CHECK(!from_db.removed.empty());
  CHECK(!from_db.changed.empty());
  auto round = hashdb::EntriesOf(*db_before);
  REQUIRE(round.size() == before.size());
  CHECK(round.front().path == before.front().path);
  CHECK(hashdb::DiffDatabases(*db_before, *db_before).empty());
}

TEST_CASE("interpreter flags carry over to the next generation by content and by path") {
  auto key = testsupport::NewKey();
  std::vector<FileEntry> entries = {EntryFor("/opt/run", "run-v1"), EntryFor("/usr/bin/x", "x"),
                                    EntryFor("/usr/bin/bash", "bash")};
  entries[0].interpreter = true;  // flagged by hand (db build --interpreter)
  auto current = Open(entries, *key);
  // A rescan: /opt/run updated (new content at a flagged path), a copy of it elsewhere, x as is.
  std::vector<FileEntry> next = {EntryFor("/opt/run", "run-v2"), EntryFor("/home/copy", "run-v1"),
                                 EntryFor("/usr/bin/x", "x"), EntryFor("/usr/bin/bash", "bash")};
  hashdb::CarryInterpreterFlags(*current, next);
  CHECK(next[0].interpreter);  // the path was an interpreter's
  CHECK(next[1].interpreter);  // the content was
  CHECK_FALSE(next[2].interpreter);
  CHECK(next[3].interpreter);  // bash: flagged by name in `current`
  // Both versions of the database carry the flag through a diff and EntriesOf.
  auto after = Open(next, *key);
  for (const auto& e : hashdb::EntriesOf(*after)) {
    CHECK_MESSAGE(e.interpreter == (e.path != "/usr/bin/x"), e.path);
  }
}
