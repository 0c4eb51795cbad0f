// Format version 2: every field the reader checks, each broken on its own in an otherwise valid
// and validly signed file, is rejected with its own reason; and what the writer writes is what
// docs/database-format.md describes (tests/hashdb/v2_assembler.h builds it from the document).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "hashdb/database.h"
#include "hashdb/format.h"
#include "hashdb/sha256.h"
#include "hashdb/writer.h"
#include "tests/fuzz/fuzz_keys.h"
#include "tests/hashdb/corpus_outcomes.h"
#include "tests/hashdb/v2_assembler.h"
#include "tests/support/db_fixture.h"

using hashdb::Database;
using hashdb::Kind;
using testsupport::AssembleV2;
using testsupport::RecordBytes;
using testsupport::SetLe;
using testsupport::V2Offsets;
using testsupport::V2Parts;

namespace {

hashdb::Digest DigestOf(const std::string& s) {
  return hashdb::Sha256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

hashdb::PrivateKey& Key() {
  static std::unique_ptr<hashdb::PrivateKey> key =
      std::move(*hashdb::PrivateKey::Generate(hashdb::SignatureAlgorithm::kEd25519));
  return *key;
}
const hashdb::TrustStore& Trust() {
  static hashdb::TrustStore trust = testsupport::TrustOf(Key());
  return trust;
}

// Four files: /init, /usr/bin/bash (an interpreter by name), /usr/bin/basic, /usr/lib/libc.so.6.
struct Sample {
  std::vector<std::string> contents = {"init", "bash", "basic", "libc"};
  std::vector<hashdb::Digest> sorted;
  std::uint64_t Index(const std::string& content) const {
    return static_cast<std::uint64_t>(std::find(sorted.begin(), sorted.end(), DigestOf(content)) -
                                      sorted.begin());
  }
  Sample() {
    for (const auto& c : contents) sorted.push_back(DigestOf(c));
    std::sort(sorted.begin(), sorted.end());
  }
  hashdb::DatabaseContents Contents() const {
    hashdb::DatabaseContents c;
    c.created_unix = 1700000000;
    auto e = [](std::string path, std::string content, Kind kind, std::uint32_t mode) {
      hashdb::FileEntry f = testsupport::EntryFor(path, content, kind);
      f.mode = mode;
      return f;
    };
    c.entries = {e("/usr/lib/libc.so.6", "libc", Kind::kElfSharedObject, 0100644),
                 e("/usr/bin/basic", "basic", Kind::kOtherExecutable, 0100755),
                 e("/init", "init", Kind::kElfExecutable, 0100755),
                 e("/usr/bin/bash", "bash", Kind::kElfExecutable, 0100755)};
    return c;
  }
  V2Parts Parts() const {
    V2Parts p;
    p.digests = sorted;
    p.classes.assign(4, 0);
    p.classes[Index("init")] = 1;
    p.classes[Index("bash")] = 1 | 0x80;
    p.classes[Index("basic")] = 4;
    p.classes[Index("libc")] = 2;
    p.directories = {"", "/usr/bin", "/usr/lib"};
    p.attributes = {{{0100644, 0, 0}}, {{0100755, 0, 0}}};
    p.records = {RecordBytes(true, 0, Index("init"), 1, 4, "init"),
                 RecordBytes(true, 1, Index("bash"), 1, 4, "bash"),
                 RecordBytes(false, 3, Index("basic"), 1, 5, "ic"),
                 RecordBytes(true, 2, Index("libc"), 0, 4, "libc.so.6")};
    return p;
  }
};

std::string Outcome(const std::vector<std::uint8_t>& bytes) {
  auto verified = Database::FromBytes(bytes, "m.lockdb", Trust());
  auto unverified = Database::FromBytesUnverified(bytes, "m.lockdb");
  const std::string a = verified.ok() ? "ok" : verified.error().message;
  const std::string b = unverified.ok() ? "ok" : unverified.error().message;
  return a == b ? a : a + " | unverified: " + b;
}

// The parts, changed by `change`, are rejected with a message containing `expected`, both with
// the signature checked (it is valid) and without.
void Rejects(const std::function<void(V2Parts&)>& change, const std::string& expected) {
  V2Parts parts = Sample().Parts();
  change(parts);
  const std::string outcome = Outcome(AssembleV2(parts, Key()));
  CHECK_MESSAGE(outcome.find("m.lockdb: " + expected) == 0, outcome, "\nexpected: ", expected);
}

void PatchU32(V2Parts& p, std::size_t at, std::uint32_t v) {
  p.patch = [at, v](std::vector<std::uint8_t>& b) { SetLe(b, at, v, 4); };
}

}  // namespace

TEST_CASE("the writer writes exactly the documented version-2 layout") {
  Sample s;
  auto written = hashdb::BuildDatabase(s.Contents(), Key());
  REQUIRE(written.ok());
  auto assembled = AssembleV2(s.Parts(), Key());  // Ed25519: deterministic signatures
  CHECK(*written == assembled);
  auto db = Database::FromBytes(assembled, "a.lockdb", Trust());
  REQUIRE_MESSAGE(db.ok(), db.error().message);
  CHECK((*db)->format_version() == 2);
  CHECK((*db)->record_count() == 4);
  CHECK((*db)->RecordAt(2).path == "/usr/bin/basic");
  CHECK((*db)->Lookup(DigestOf("bash"))->interpreter);
  CHECK_FALSE((*db)->Lookup(DigestOf("basic"))->interpreter);
}

TEST_CASE("version-2 header fields are checked") {
  Rejects([](V2Parts& p) { PatchU32(p, 12, 1); }, "unknown header flags");
  Rejects([](V2Parts& p) { p.patch = [](auto& b) { b[10] = 64; }; }, "bad header size");
  Rejects([](V2Parts& p) { p.patch = [](auto& b) { b[102] = 1; }; },
          "reserved header field is not zero");
  Rejects([](V2Parts& p) { p.patch = [](auto& b) { b[127] = 1; }; },
          "reserved header field is not zero");
  Rejects([](V2Parts& p) { p.patch = [](auto& b) { b[100] = 9; }; },
          "unknown signature algorithm 9");
  Rejects([](V2Parts& p) { PatchU32(p, 64, 5); }, "more digests than records");
  Rejects([](V2Parts& p) { PatchU32(p, 64, 0); }, "digest and record counts disagree");
  Rejects([](V2Parts& p) { PatchU32(p, 72, 0); }, "directory or attribute count does not fit");
  Rejects([](V2Parts& p) { PatchU32(p, 76, 5); }, "directory or attribute count does not fit");
  Rejects([](V2Parts& p) { PatchU32(p, 96, 70000); }, "policy section is larger than 64 KiB");
  Rejects([](V2Parts& p) { PatchU32(p, 104, 8); }, "signature offset 8 is not where the layout");
  // A count one higher moves every later section: the signature offset no longer matches.
  Rejects([](V2Parts& p) { PatchU32(p, 72, 4); }, "signature offset");
  Rejects([](V2Parts& p) { p.patch = [](auto& b) { SetLe(b, 80, 1ull << 50, 8); }; },
          "section sizes in the header are impossibly large");
}

TEST_CASE("version-2 truncation inside each section is named") {
  Sample s;
  V2Offsets o{};
  const auto bytes = AssembleV2(s.Parts(), Key(), &o);
  auto at = [&](std::size_t len) {
    return Outcome(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + len));
  };
  CHECK(at(o.digests + 5) == "m.lockdb: truncated inside the digest table");
  CHECK(at(o.classes + 1) == "m.lockdb: truncated inside the digest classes");
  CHECK(at(o.dir_offsets + 2) == "m.lockdb: truncated inside the directory offsets");
  CHECK(at(o.dir_names + 3) == "m.lockdb: truncated inside the directory names");
  CHECK(at(o.attributes + 13) == "m.lockdb: truncated inside the attribute table");
  CHECK(at(o.block_index + 1) == "m.lockdb: truncated inside the record block index");
  CHECK(at(o.records + 3) == "m.lockdb: truncated inside the record section");
  CHECK(at(o.policy + 3) == "m.lockdb: truncated inside the policy section");
  CHECK(at(o.signature + 2) == "m.lockdb: truncated before the signature");
  CHECK(at(bytes.size() - 1) == "m.lockdb: truncated inside the signature");
  auto longer = bytes;
  longer.push_back(0);
  CHECK(Outcome(longer) == "m.lockdb: trailing bytes after the signature (1 bytes)");
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    if (Outcome(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + len)) == "ok") {
      FAIL("truncated to " << len << " bytes still reads");
    }
  }
}

TEST_CASE("version-2 truncation in the padding before the signature reads nothing beyond") {
  // A policy whose end is not a multiple of 8, so that zero padding precedes the signature:
  // every truncation inside that padding (the signature offset then lies beyond the end of the
  // file) is "truncated before the signature", and no byte past the end is read.
  Sample s;
  V2Parts parts = s.Parts();
  hashdb::Policy policy;
  for (std::string name = "x"; (hashdb::SerializePolicy(policy).size() % 8) == 0; name += "x") {
    policy.interpreters = {name};
  }
  parts.policy = hashdb::SerializePolicy(policy);
  V2Offsets o{};
  const auto bytes = AssembleV2(parts, Key(), &o);
  const std::size_t policy_end = o.policy + parts.policy.size();
  REQUIRE(policy_end < o.signature);
  for (std::size_t len = policy_end; len < o.signature + 4; ++len) {
    CAPTURE(len);
    CHECK(Outcome(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + len)) ==
          "m.lockdb: truncated before the signature");
  }
}

TEST_CASE("version-2 padding and signature length are checked") {
  Sample s;
  V2Offsets o{};
  AssembleV2(s.Parts(), Key(), &o);
  Rejects([&](V2Parts& p) { p.patch = [&](auto& b) { b[o.classes + 4] = 1; }; },
          "padding before the directory table is not zero");
  Rejects([&](V2Parts& p) { p.patch = [&](auto& b) { b[o.signature - 1] = 1; }; },
          "padding before the signature is not zero");
  auto bytes = AssembleV2(s.Parts(), Key());
  auto zero = bytes;
  SetLe(zero, o.signature, 0, 4);
  CHECK(Outcome(zero) == "m.lockdb: bad signature length");
  auto big = bytes;
  SetLe(big, o.signature, 257, 4);
  CHECK(Outcome(big) == "m.lockdb: bad signature length");
}

TEST_CASE("version-2 digest table: order, class bytes, use") {
  Rejects([](V2Parts& p) { std::swap(p.digests[0], p.digests[1]); },
          "digest table is not in strictly increasing order at entry 1");
  Rejects([](V2Parts& p) { p.digests[1] = p.digests[0]; },
          "digest table is not in strictly increasing order at entry 1");
  Rejects([](V2Parts& p) { p.classes[0] = 5; }, "digest entry 0 has an unknown class byte 5");
  Rejects([](V2Parts& p) { p.classes[0] = 0x80; }, "digest entry 0 has an unknown class byte 128");
  Rejects([](V2Parts& p) { p.classes[3] |= 0x40; }, "digest entry 3 has an unknown class byte");
  Sample s;
  Rejects(
      [&](V2Parts& p) {
        // /usr/bin/basic names bash's digest: basic's digest entry is used by nothing.
        p.records[2] = RecordBytes(false, 3, s.Index("bash"), 1, 5, "ic");
      },
      "digest entry " + std::to_string(s.Index("basic")) + " has no record");
}

TEST_CASE("version-2 directory table: offsets, canonical names, order, use") {
  Rejects([](V2Parts& p) { PatchU32(p, 0, 0); }, "not a lockd database");
  Sample s;
  V2Offsets o{};
  AssembleV2(s.Parts(), Key(), &o);
  Rejects([&](V2Parts& p) { PatchU32(p, o.dir_offsets, 1); },
          "directory 0 does not start at offset 0");
  Rejects([&](V2Parts& p) { PatchU32(p, o.dir_offsets + 12, 5); },
          "directory 2 has a bad end offset 5");
  Rejects([&](V2Parts& p) { PatchU32(p, o.dir_offsets + 12, 17); },
          "directory 2 has a bad end offset 17");
  Rejects([&](V2Parts& p) { PatchU32(p, o.dir_offsets + 12, 15); },
          "directory names do not end where the directory table says");
  for (const std::string& bad :
       std::vector<std::string>{"/usr//bin", "usr/bin", "/usr/bin/", "/", "/usr/./bin",
                                "/usr/../bin", std::string("/usr/b\0n", 8)}) {
    Rejects([&](V2Parts& p) { p.directories[1] = bad; },
            "directory 1 is not a canonical absolute path");
  }
  Rejects([](V2Parts& p) { std::swap(p.directories[1], p.directories[2]); },
          "directories are not in strictly increasing order at directory 2");
  // Records name directories by index: a directory nobody names is refused.
  Rejects([](V2Parts& p) { p.directories.push_back("/var"); }, "directory 3 has no record");
}

TEST_CASE("version-2 attribute table: order and use") {
  Rejects([](V2Parts& p) { std::swap(p.attributes[0], p.attributes[1]); },
          "attribute table is not in strictly increasing order at entry 1");
  Rejects([](V2Parts& p) { p.attributes[1] = p.attributes[0]; },
          "attribute table is not in strictly increasing order at entry 1");
  Rejects(
      [](V2Parts& p) {
        p.attributes.push_back({{0100755, 1000, 1000}});
      },
      "attribute entry 2 has no record");
}

TEST_CASE("version-2 records: every field") {
  Sample s;
  const auto init = s.Index("init");
  Rejects([](V2Parts& p) { p.records[0] = {0x89, 0x00}; }, "record 0: bad head number");
  Rejects([](V2Parts& p) { p.records[3] = {0x81}; }, "record 3: bad head number");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 1, 4, ""); },
          "record 0: bad name suffix length");
  Rejects(
      [&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 1, 4, std::string(256, 'x')); },
      "record 0: bad name suffix length");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 9, init, 1, 4, "init"); },
          "record 0: directory index 9 out of range");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 1ull << 32, init, 1, 4, "init"); },
          "record 0: bad directory index number");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, 4, 1, 4, "init"); },
          "record 0: digest index 4 out of range");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 2, 4, "init"); },
          "record 0: attribute index 2 out of range");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, 1ull << 33, 1, 4, "init"); },
          "record 0: bad digest index number");
  Rejects(
      [&](V2Parts& p) {
        p.records[0] = {0x09, 0x00, static_cast<std::uint8_t>(init), 0x01};
        for (int i = 0; i < 10; ++i) p.records[0].push_back(0xff);  // an 11-byte size
        p.records[0].push_back(0x01);
        for (char c : std::string("init")) p.records[0].push_back(static_cast<std::uint8_t>(c));
      },
      "record 0: bad size number");
  Rejects(
      [&](V2Parts& p) {
        p.records[0] = {0x09, 0x00, static_cast<std::uint8_t>(init), 0x01, 0x84, 0x00};  // 4, long
        for (char c : std::string("init")) p.records[0].push_back(static_cast<std::uint8_t>(c));
      },
      "record 0: bad size number");
  // The last record's name runs past the record section.
  Rejects([](V2Parts& p) { p.records[3].pop_back(); },
          "record 3: name runs past the end of its record block");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 1, 4, "in/it"); },
          "record 0: name contains '/' or NUL");
  Rejects(
      [&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 1, 4, std::string("i\0t", 3)); },
      "record 0: name contains '/' or NUL");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(true, 0, init, 1, 4, ".."); },
          "record 0: name is '.' or '..'");
  Rejects([&](V2Parts& p) { p.records[0] = RecordBytes(false, 0, init, 1, 4, "init"); },
          "record 0: the first record of a block does not name its directory");
  Rejects([&](V2Parts& p) { p.records[2] = RecordBytes(true, 1, s.Index("basic"), 1, 5, "basic"); },
          "record 2: repeats the directory of the record before it");
  Rejects([&](V2Parts& p) { p.records[2] = RecordBytes(false, 5, s.Index("basic"), 1, 5, "ic"); },
          "record 2: shares 5 bytes with the previous name, which has 4");
  // "bas" + "ic" written as "ba" + "sic": not the whole common prefix.
  Rejects([&](V2Parts& p) { p.records[2] = RecordBytes(false, 2, s.Index("basic"), 1, 5, "sic"); },
          "records are not in strictly increasing path order at record 2");
  Rejects([&](V2Parts& p) { p.records[2] = RecordBytes(false, 3, s.Index("basic"), 1, 5, "a"); },
          "records are not in strictly increasing path order at record 2");
  Rejects(
      [&](V2Parts& p) {
        p.records[2] = RecordBytes(false, 3, s.Index("basic"), 1, 5, std::string(253, 'x'));
      },
      "record 2: name longer than 255 bytes");
  Rejects([](V2Parts& p) { std::swap(p.records[0], p.records[3]); },
          "records are not in strictly increasing path order at record 1");
  Rejects(
      [](V2Parts& p) {
        p.directories[1] = "/" + std::string(4086, 'x');  // "/xxx.../bash" is 4092 bytes
        p.directories[2] = "/" + std::string(4087, 'y');
      },
      "record 3: path longer than 4096 bytes");
}

TEST_CASE("version-2 record blocks: index, boundaries, order across blocks") {
  // 70 records in one directory: two blocks.
  auto parts = [] {
    V2Parts p;
    p.digests = {DigestOf("x")};
    p.classes = {4};
    p.directories = {"/d"};
    p.attributes = {{{0100755, 0, 0}}};
    std::string previous;
    for (int i = 0; i < 70; ++i) {
      const std::string name = "f" + std::to_string(100 + i);
      if (i % 64 == 0) {
        p.records.push_back(RecordBytes(true, 0, 0, 0, 1, name));
      } else {
        std::size_t shared = 0;
        while (shared < previous.size() && previous[shared] == name[shared]) ++shared;
        p.records.push_back(RecordBytes(false, shared, 0, 0, 1, name.substr(shared)));
      }
      previous = name;
    }
    return p;
  };
  auto good = AssembleV2(parts(), Key());
  auto db = Database::FromBytes(good, "b.lockdb", Trust());
  REQUIRE_MESSAGE(db.ok(), db.error().message);
  CHECK((*db)->RecordAt(64).path == "/d/f164");
  CHECK((*db)->RecordAt(63).path == "/d/f163");
  CHECK((*db)->FindPath("/d/f165") == 65u);
  CHECK((*db)->FindPath("/d/f120") == 20u);
  CHECK_FALSE((*db)->FindPath("/d/f1").has_value());
  CHECK_FALSE((*db)->FindPath("/d/f170").has_value());
  CHECK_FALSE((*db)->FindPath("/a").has_value());
  CHECK_FALSE((*db)->FindPath("/e").has_value());

  auto check = [](V2Parts p, const std::string& expected) {
    const std::string outcome = Outcome(AssembleV2(p, Key()));
    CHECK_MESSAGE(outcome.find("m.lockdb: " + expected) == 0, outcome);
  };
  V2Parts p = parts();
  p.block_index = std::vector<std::uint32_t>{1, 0};
  check(p, "record block 0 starts at a bad offset 1");
  p = parts();
  std::uint32_t second = 0;
  for (int i = 0; i < 64; ++i) second += static_cast<std::uint32_t>(p.records[i].size());
  p.block_index = std::vector<std::uint32_t>{0, second - 1};
  check(p, "record 63: name runs past the end of its record block");
  p.block_index = std::vector<std::uint32_t>{0, second + 1};
  check(p, "record block 0 does not end where the next one starts (1 bytes left over)");
  p.block_index = std::vector<std::uint32_t>{0, 0};
  check(p, "record block 1 starts at a bad offset 0");
  // Record 64 sorts before record 63: caught across the block boundary.
  p = parts();
  p.records[64] = RecordBytes(true, 0, 0, 0, 1, "f000");
  p.records[65] = RecordBytes(false, 1, 0, 0, 1, "165");
  check(p, "records are not in strictly increasing path order at record 64");
  // A block's first record must name the directory even when it is the same.
  p = parts();
  p.records[64] = RecordBytes(false, 3, 0, 0, 1, "4");
  check(p, "record 64: the first record of a block does not name its directory");
  // Records where there are none.
  V2Parts empty;
  empty.patch = [](auto& b) { SetLe(b, 88, 8, 8); };
  check(empty, "record section is not empty but there are no records");
}

TEST_CASE("version-2 policy section: new tags are checked") {
  auto with_policy = [](std::vector<std::uint8_t> policy) {
    return [policy](V2Parts& p) { p.policy = policy; };
  };
  const auto good = hashdb::SerializePolicy(hashdb::Policy{});
  auto unknown = good;
  unknown.insert(unknown.end(), {11, 0, 1, 0, 1});
  Rejects(with_policy(unknown), "policy: unknown tag 11");
  // Drop the last tag (trusted owners, empty: 4 bytes).
  Rejects(with_policy(std::vector<std::uint8_t>(good.begin(), good.end() - 4)),
          "policy: missing tag 10");
  hashdb::Policy p;
  p.watch = {"/srv"};
  auto watch = hashdb::SerializePolicy(p);
  auto at = std::search(watch.begin(), watch.end(), std::begin("/srv"), std::end("/srv") - 1);
  *at = 'x';
  Rejects(with_policy(watch), "policy: watch path 'xsrv' is not a canonical absolute path");
}

TEST_CASE("a large version-2 database is verified in parallel and still rejects any damage") {
  // Over 2 MiB: the checks and the hashing run as tasks on every core (and over several chunks).
  hashdb::DatabaseContents c;
  for (int i = 0; i < 120000; ++i) {
    c.entries.push_back(testsupport::EntryFor(
        "/usr/lib/pkg" + std::to_string(i / 97) + "/f" + std::to_string(i), std::to_string(i)));
  }
  auto bytes = hashdb::BuildDatabase(c, Key());
  REQUIRE(bytes.ok());
  REQUIRE(bytes->size() > (4u << 20));
  auto db = Database::FromBytes(*bytes, "big", Trust());
  REQUIRE_MESSAGE(db.ok(), db.error().message);
  // Every path reads back through the cursor, RecordAt and FindPath alike.
  std::map<std::string, std::string> expected;
  for (const auto& e : c.entries) expected[e.path] = hashdb::ToHex(e.digest);
  hashdb::RecordCursor cursor(**db);
  auto it = expected.begin();
  while (cursor.Next()) {
    REQUIRE(it != expected.end());
    REQUIRE(cursor.record().path == it->first);
    REQUIRE(hashdb::ToHex(*cursor.record().digest) == it->second);
    ++it;
  }
  CHECK(it == expected.end());
  for (std::uint32_t i : {0u, 1u, 63u, 64u, 65u, 70000u, 119999u}) {
    const auto r = (*db)->RecordAt(i);
    CHECK((*db)->FindPath(r.path) == i);
  }
  // A byte flip at spread-out places (and every byte of the first and last 256) is rejected,
  // and the reason does not depend on which thread found it.
  std::vector<std::size_t> places;
  for (std::size_t i = 0; i < 256; ++i) places.push_back(i);
  for (std::size_t i = 256; i < bytes->size() - 256; i += 65521) places.push_back(i);
  for (std::size_t i = bytes->size() - 256; i < bytes->size(); ++i) places.push_back(i);
  for (std::size_t i : places) {
    auto copy = *bytes;
    copy[i] ^= 0x01;
    auto r = Database::FromBytes(copy, "big", Trust());
    if (r.ok()) FAIL("byte " << i << " flipped still verified");
  }
  auto damaged = *bytes;
  damaged[bytes->size() / 2] ^= 0xff;
  const std::string first = Outcome(damaged);
  for (int i = 0; i < 5; ++i) CHECK(Outcome(damaged) == first);
}

TEST_CASE("the version-2 seeds of the fuzz corpus are valid and signed by the fuzz key") {
  const char* env = std::getenv("LOCKD_SOURCE_DIR");
  const std::string dir =
      std::string(env != nullptr ? env : LOCKD_TEST_SOURCE_DIR) + "/tests/fuzz/corpus/db_reader";
  const auto trust = fuzzkeys::Trust();
  const auto files = testsupport::CorpusFiles(dir, ".lockdb");
  int v2 = 0;
  for (const auto& f : files) {
    if (f.filename().string().rfind("v2-", 0) != 0) continue;
    auto db = Database::FromBytes(testsupport::ReadAll(f), f.string(), trust);
    REQUIRE_MESSAGE(db.ok(), db.error().message);
    CHECK((*db)->format_version() == 2);
    ++v2;
  }
  CHECK(v2 >= 4);
}
