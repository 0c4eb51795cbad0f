// Chain verification: every edit, deletion, reordering or truncation of a generated log, in
// every position, is named by the verifier (or, where no chain can show it — records cut off
// at the end — by an anchor).
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "audit/verify.h"
#include "lockd/audit/audit_file.h"
#include "tests/support/db_fixture.h"

using namespace lockd::audit;

namespace {

constexpr int kRecords = 10;

std::vector<std::string> Lines(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto nl = bytes.find('\n', pos);
    out.push_back(bytes.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// A log of kRecords records of a few types, as AuditFile writes it.
std::string GeneratedLog(const testsupport::TempDir& dir) {
  AuditFileOptions options;
  options.path = dir.Join("audit.jsonl");
  options.sync = false;
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  for (int i = 0; i < kRecords; ++i) {
    Record r(i % 3 == 0 ? "deny" : i % 3 == 1 ? "would_deny" : "db_load");
    r.AddUint("pid", 1000 + i).AddBytes("path", "/opt/app/bin " + std::to_string(i) + "\n\xff");
    REQUIRE((*file)->Append(r).ok());
  }
  auto bytes = ReadLogFile(options.path);
  REQUIRE(bytes.ok());
  return *bytes;
}

VerifyReport Verify(const std::string& bytes, VerifyOptions options = {}) {
  std::vector<LogInput> in{{"audit.jsonl", bytes}};
  return VerifyLogs(in, options);
}

}  // namespace

TEST_CASE("audit verify: an intact log verifies and reports its head") {
  testsupport::TempDir dir;
  const std::string log = GeneratedLog(dir);
  const auto lines = Lines(log);
  REQUIRE(lines.size() == kRecords);
  const auto report = Verify(log);
  CHECK(report.ok());
  CHECK(report.records == kRecords);
  CHECK(report.first_seq == 1);
  CHECK(report.last_seq == kRecords);
  CHECK(report.starts_at_genesis);
  CHECK(report.head_hash == LineHash(lines.back()));
  CHECK(report.head.line == kRecords);
  CHECK(report.torn.empty());
  CHECK(Verify(log, {true, {LineHash(lines[3]), report.head_hash}}).ok());
  CHECK(Verify("").ok());
}

TEST_CASE("audit verify: deleting any record is named") {
  testsupport::TempDir dir;
  const auto lines = Lines(GeneratedLog(dir));
  const std::string head = LineHash(lines.back());
  for (int i = 0; i < kRecords; ++i) {
    CAPTURE(i);
    auto cut = lines;
    cut.erase(cut.begin() + i);
    const auto report = Verify(Join(cut));
    if (i == 0) {
      // Looks like a log whose oldest records were rotated away: reported as such, and
      // refused when the chain must start at genesis.
      CHECK(report.ok());
      CHECK_FALSE(report.starts_at_genesis);
      CHECK(report.first_seq == 2);
      const auto strict = Verify(Join(cut), {true, {}});
      REQUIRE_FALSE(strict.ok());
      CHECK(strict.broken->place.line == 1);
    } else if (i == kRecords - 1) {
      // The last record: only an anchor taken earlier shows it.
      CHECK(report.ok());
      CHECK(report.last_seq == kRecords - 1);
      const auto anchored = Verify(Join(cut), {false, {head}});
      REQUIRE_FALSE(anchored.ok());
      CHECK(anchored.broken->reason.find("anchor") != std::string::npos);
    } else {
      REQUIRE_FALSE(report.ok());
      CHECK(report.broken->place.file == "audit.jsonl");
      CHECK(report.broken->place.line == static_cast<std::uint64_t>(i + 1));
      CHECK(report.broken->place.seq == static_cast<std::uint64_t>(i + 2));
      CHECK(report.broken->reason.find("seq") != std::string::npos);
    }
  }
}

TEST_CASE("audit verify: editing any byte of any record is named") {
  testsupport::TempDir dir;
  const auto lines = Lines(GeneratedLog(dir));
  const std::string head = LineHash(lines.back());
  int checked = 0;
  for (int i = 0; i < kRecords; ++i) {
    for (std::size_t b = 0; b < lines[i].size(); ++b) {
      for (char replacement : {'0', '"', '\n'}) {
        auto edited = lines;
        if (edited[i][b] == replacement) continue;
        edited[i][b] = replacement;
        CAPTURE(i);
        CAPTURE(b);
        CAPTURE(replacement);
        const auto report = Verify(Join(edited), {false, {head}});
        REQUIRE_FALSE(report.ok());
        ++checked;
        if (i < kRecords - 1) {
          // Either the edited line itself (bad shape, seq, or a split line) or the next
          // record, whose prev no longer matches.
          const auto line = report.broken->place.line;
          CHECK((line == static_cast<std::uint64_t>(i + 1) ||
                 line == static_cast<std::uint64_t>(i + 2) ||
                 (replacement == '\n' && line == static_cast<std::uint64_t>(i + 3))));
          if (line != static_cast<std::uint64_t>(i + 1)) {
            const auto plain = Verify(Join(edited));
            CHECK_FALSE(plain.ok());
          }
        }
      }
    }
  }
  CHECK(checked > 3 * kRecords * 100);
}

TEST_CASE("audit verify: reordering any two neighbours is named") {
  testsupport::TempDir dir;
  const auto lines = Lines(GeneratedLog(dir));
  for (int i = 0; i + 1 < kRecords; ++i) {
    CAPTURE(i);
    auto swapped = lines;
    std::swap(swapped[i], swapped[i + 1]);
    const auto report = Verify(Join(swapped));
    REQUIRE_FALSE(report.ok());
    if (i == 0) {
      // seq 2 first: a non-genesis start, then seq 1 does not follow it.
      CHECK(report.broken->place.line == 2);
    } else {
      CHECK(report.broken->place.line == static_cast<std::uint64_t>(i + 1));
      CHECK(report.broken->place.seq == static_cast<std::uint64_t>(i + 2));
    }
  }
  // A duplicated (replayed) record.
  for (int i = 0; i < kRecords; ++i) {
    auto dup = lines;
    dup.insert(dup.begin() + i, lines[i]);
    const auto report = Verify(Join(dup));
    REQUIRE_FALSE(report.ok());
    CHECK(report.broken->place.line == static_cast<std::uint64_t>(i + 2));
  }
}

TEST_CASE("audit verify: truncation at every byte") {
  testsupport::TempDir dir;
  const std::string log = GeneratedLog(dir);
  const auto lines = Lines(log);
  const std::string head = LineHash(lines.back());
  std::vector<std::size_t> line_end;  // offset just after each newline
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i] == '\n') line_end.push_back(i + 1);
  }
  for (std::size_t cut = 0; cut < log.size(); ++cut) {
    CAPTURE(cut);
    const std::string prefix = log.substr(0, cut);
    const auto report = Verify(prefix);
    std::size_t whole = 0;
    while (whole < line_end.size() && line_end[whole] <= cut) ++whole;
    CHECK(report.ok());  // a crash can do this; the chain up to it verifies
    if (whole < line_end.size() && cut == line_end[whole] - 1) {
      // Only the newline of the last line is gone: that line is whole and counts.
      CHECK(report.records == whole + 1);
      CHECK(report.torn.empty());
      if (cut != log.size() - 1) CHECK_FALSE(Verify(prefix, {false, {head}}).ok());
      continue;
    }
    CHECK(report.records == whole);
    if (cut > 0 && (whole == 0 || line_end[whole - 1] != cut)) {
      // Cut inside a line: reported as a torn tail at that line.
      REQUIRE(report.torn.size() == 1);
      CHECK_FALSE(report.torn[0].acknowledged);
      CHECK(report.torn[0].place.line == whole + 1);
    } else {
      CHECK(report.torn.empty());
    }
    // Against an anchor of the real head, every truncation is a break.
    CHECK_FALSE(Verify(prefix, {false, {head}}).ok());
  }
}

TEST_CASE("audit verify: rotated files keep one chain") {
  testsupport::TempDir dir;
  AuditFileOptions options;
  options.path = dir.Join("audit.jsonl");
  options.sync = false;
  options.max_bytes = 1500;
  options.keep = 50;
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    for (int i = 0; i < 60; ++i) {
      Record r("deny");
      r.AddBytes("path", "/usr/local/bin/tool-" + std::to_string(i));
      REQUIRE((*file)->Append(r).ok());
    }
  }
  auto files = DiscoverLogFiles(options.path);
  REQUIRE(files.ok());
  REQUIRE(files->size() > 5);
  CHECK(files->back() == options.path);
  CHECK(files->front() == options.path + "." + std::to_string(files->size() - 1));
  auto report = VerifyLogFiles(*files);
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->records == 60);
  CHECK(report->starts_at_genesis);
  for (const auto& f : *files) {
    auto bytes = ReadLogFile(f);
    REQUIRE(bytes.ok());
    CHECK(bytes->size() <= options.max_bytes);
  }

  // A missing middle file breaks the chain at the first record of the file after it.
  auto gap = *files;
  const std::string removed = gap[2];
  gap.erase(gap.begin() + 2);
  report = VerifyLogFiles(gap);
  REQUIRE(report.ok());
  REQUIRE_FALSE(report->ok());
  CHECK(report->broken->place.file == gap[2]);
  CHECK(report->broken->place.line == 1);

  // Files out of order.
  auto swapped = *files;
  std::swap(swapped[1], swapped[2]);
  report = VerifyLogFiles(swapped);
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok());

  // The oldest files gone (retention): verifies, but not from genesis.
  auto newest = std::vector<std::string>(files->begin() + 3, files->end());
  report = VerifyLogFiles(newest);
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK_FALSE(report->starts_at_genesis);
  CHECK(report->first_seq > 1);

  // An unreadable file is an error naming it, not a verdict.
  auto missing = VerifyLogFiles({dir.Join("nope.jsonl")});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("nope.jsonl") != std::string::npos);
}

TEST_CASE("audit verify: random damage never crashes and is never taken for the whole log") {
  testsupport::TempDir dir;
  const std::string log = GeneratedLog(dir);
  const std::string head = LineHash(Lines(log).back());
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string damaged = log;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !damaged.empty(); ++e) {
      const std::size_t pos = rng() % damaged.size();
      switch (rng() % 3) {
        case 0:
          damaged[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          damaged.erase(pos, 1 + rng() % 40);
          break;
        default:
          damaged.insert(pos, 1, static_cast<char>(rng() % 256));
          break;
      }
    }
    if (damaged == log) continue;
    CAPTURE(i);
    const auto report = Verify(damaged, {true, {head}});
    // With genesis and the real head required, only a change that leaves every record's
    // bytes intact could pass: a removed final newline.
    if (report.ok()) CHECK(damaged + "\n" == log);
  }
}
