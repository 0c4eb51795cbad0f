// Repeated denials folded into counted `repeat` records (lockd/audit/repeat_aggregator.h), the
// loss of records as a record with its kinds and times, and a rotation that says in the chain
// what it deletes (lockd/audit/rotation_drop.h).
#include <doctest/doctest.h>
#include <sys/file.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "audit/json_parse.h"
#include "audit/verify.h"
#include "lockd/audit/audit_file.h"
#include "lockd/audit/audit_log.h"
#include "lockd/audit/repeat_aggregator.h"
#include "lockd/audit/rotation_drop.h"
#include "lockd/audit/syslog_sink.h"
#include "tests/support/db_fixture.h"

using namespace lockd::audit;
using std::chrono::seconds;

namespace {

Clock::time_point T(int s) { return Clock::time_point(seconds(1800000000 + s)); }

RepeatOccurrence Deny(const std::string& path, int s, std::int64_t pid = 100) {
  RepeatOccurrence o;
  o.type = "deny";
  o.reason = "not-in-allowlist";
  o.mode = "enforce";
  o.uid = 1000;
  o.path = path;
  o.time = T(s);
  o.pid = pid;
  o.exe = "/bin/sh";
  return o;
}

JsonValue Parse(std::string_view line) {
  auto v = ParseJson(line);
  REQUIRE(v.ok());
  return std::move(*v);
}

std::vector<JsonValue> Lines(const std::string& bytes) {
  std::vector<JsonValue> out;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto nl = bytes.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    out.push_back(Parse(std::string_view(bytes).substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

std::string Str(const JsonValue& v, const char* key) {
  const JsonValue* m = v.Find(key);
  REQUIRE(m != nullptr);
  return m->string;
}
std::uint64_t Num(const JsonValue& v, const char* key) {
  const JsonValue* m = v.Find(key);
  REQUIRE(m != nullptr);
  return m->uint_value;
}

AuditFileOptions FileOptions(const testsupport::TempDir& dir) {
  AuditFileOptions o;
  o.path = dir.Join("log/audit.jsonl");
  o.sync = false;
  return o;
}

std::string AllFiles(const std::string& base) {
  auto files = DiscoverLogFiles(base);
  REQUIRE(files.ok());
  std::string all;
  for (const auto& f : *files) {
    auto bytes = ReadLogFile(f);
    REQUIRE(bytes.ok());
    all += *bytes;
  }
  return all;
}

}  // namespace

TEST_CASE("repeats: the first denial is written, repeats are counted once per window") {
  RepeatAggregator agg({.window = seconds(10), .max_keys = 16});
  const auto first = Deny("/tmp/x", 0);
  CHECK(agg.Note(first) == RepeatAggregator::Action::kWrite);
  agg.Started(first);
  for (int i = 1; i <= 5; ++i)
    CHECK(agg.Note(Deny("/tmp/x", i, 100 + i)) == RepeatAggregator::Action::kCounted);
  CHECK(agg.TakeDue(T(9)).empty());  // the window (from the first repeat, at 1) has not passed
  auto due = agg.TakeDue(T(11));
  REQUIRE(due.size() == 1);
  CHECK(due[0].count == 5);
  CHECK(due[0].of == "deny");
  const std::string line = FormatLine(7, kGenesisPrev, due[0].record);
  const JsonValue v = Parse(line);
  CHECK(Str(v, "type") == "repeat");
  CHECK(Str(v, "of") == "deny");
  CHECK(Num(v, "count") == 5);
  CHECK(Str(v, "first_time") == FormatTime(T(1)));
  CHECK(Str(v, "last_time") == FormatTime(T(5)));
  CHECK(Str(v, "time") == FormatTime(T(5)));
  CHECK(Str(v, "path") == "/tmp/x");
  CHECK(Num(v, "last_pid") == 105);
  // Counting goes on for the key; a whole idle window forgets it, and the next one is full.
  CHECK(agg.Note(Deny("/tmp/x", 12)) == RepeatAggregator::Action::kCounted);
  CHECK(agg.TakeDue(T(23)).size() == 1);
  CHECK(agg.TakeDue(T(40)).empty());
  CHECK(agg.tracked() == 0);
  CHECK(agg.Note(Deny("/tmp/x", 41)) == RepeatAggregator::Action::kWrite);
}

TEST_CASE("repeats: the key is type, reason, mode, uid, path and digest") {
  RepeatAggregator agg;
  auto base = Deny("/tmp/x", 0);
  agg.Started(base);
  auto other = base;
  other.path = "/tmp/y";
  CHECK(agg.Note(other) == RepeatAggregator::Action::kWrite);
  other = base;
  other.uid = 0;
  CHECK(agg.Note(other) == RepeatAggregator::Action::kWrite);
  other = base;
  other.type = "would_deny";
  CHECK(agg.Note(other) == RepeatAggregator::Action::kWrite);
  other = base;
  other.reason = "changed-while-hashing";
  CHECK(agg.Note(other) == RepeatAggregator::Action::kWrite);
  other = base;
  other.digest = hashdb::Digest{};
  CHECK(agg.Note(other) == RepeatAggregator::Action::kWrite);
  other = base;
  other.pid = 4242;  // another process, same program: a repeat
  other.exe = "/bin/bash";
  CHECK(agg.Note(other) == RepeatAggregator::Action::kCounted);
}

TEST_CASE("repeats: a key pushed out by the bound reports its count, nothing is lost") {
  RepeatAggregator agg({.window = seconds(10), .max_keys = 2});
  std::uint64_t total = 0;
  std::uint64_t full = 0;
  // Three programs in turn, 30 times: every denial is a full record or in one repeat count.
  for (int i = 0; i < 90; ++i) {
    const auto o = Deny("/tmp/p" + std::to_string(i % 3), i / 10);
    if (agg.Note(o) == RepeatAggregator::Action::kWrite) {
      agg.Started(o);
      ++full;
    }
    for (const auto& d : agg.TakeDue(T(i / 10))) total += d.count;
  }
  for (const auto& d : agg.TakeAll()) total += d.count;
  CHECK(agg.tracked() <= 2);
  CHECK(full + total == 90);
}

TEST_CASE("audit log: a flood of one denial is its first record plus counted repeats") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file = FileOptions(dir);
  options.repeats.window = std::chrono::milliseconds(300);
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  constexpr int kDenials = 20000;
  for (int i = 0; i < kDenials; ++i) {
    auto o = Deny("/tmp/flood", 0, i + 1);
    o.time = Clock::now();
    (*log)->AppendRepeatable(o, [&] {
      Record r("deny");
      r.set_time(o.time);
      r.AddBytes("path", o.path).AddInt("pid", o.pid);
      return r;
    });
  }
  // The writer writes the count by itself once the window has passed.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  CHECK((*log)->stats().repeat_records >= 1);
  (*log)->FlushRepeats();
  (*log)->Flush();
  const auto stats = (*log)->stats();
  CHECK(stats.dropped == 0);
  log->reset();
  const std::string bytes = AllFiles(options.file.path);
  std::uint64_t denies = 0, repeats = 0, counted = 0;
  bool first_is_full = false;
  for (const auto& v : Lines(bytes)) {
    if (Str(v, "type") == "deny") {
      ++denies;
      if (denies == 1) first_is_full = Num(v, "pid") == 1;
    }
    if (Str(v, "type") == "repeat") {
      ++repeats;
      counted += Num(v, "count");
    }
  }
  CHECK(first_is_full);  // the very first denial, with its pid, is in the log
  // One full record (more only if the loop stalled for a whole window: the key is then
  // forgotten and its next denial written in full again, as designed).
  CHECK(denies >= 1);
  CHECK(denies <= 5);
  CHECK(repeats >= 1);
  CHECK(repeats < 50);  // a few per window, not one per denial
  CHECK(denies + counted == kDenials);
}

TEST_CASE("audit log: records lost to a full queue are one record with kinds and times") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file = FileOptions(dir);
  options.queue_capacity = 2;
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  const int lock_fd = ::open((options.file.path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(lock_fd >= 0);
  REQUIRE(::flock(lock_fd, LOCK_EX) == 0);
  REQUIRE((*log)->Append(Record("daemon_start")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the writer holds it, stuck
  int refused = 0;
  for (int i = 0; i < 12; ++i) {
    Record r(i % 3 == 0 ? "db_load" : "deny");
    r.set_time(T(i));
    r.AddUint("i", i);
    if (!(*log)->Append(std::move(r))) ++refused;
  }
  REQUIRE(refused == 10);  // two fit in the queue
  REQUIRE(::flock(lock_fd, LOCK_UN) == 0);
  ::close(lock_fd);
  (*log)->Flush();
  log->reset();
  const auto lines = Lines(AllFiles(options.file.path));
  const JsonValue& lost = lines.back();
  CHECK(Str(lost, "type") == "records_lost");
  CHECK(Num(lost, "count") == 10);
  CHECK(Str(lost, "reason") == "queue_full");
  // i = 0, 1 queued; 2..11 lost: db_load at 3, 6, 9; deny the other seven.
  CHECK(Str(lost, "types") == "db_load:3,deny:7");
  CHECK(Num(lost, "deny_decisions") == 7);
  CHECK(Num(lost, "would_deny_decisions") == 0);
  CHECK(Str(lost, "first_time") == FormatTime(T(2)));
  CHECK(Str(lost, "last_time") == FormatTime(T(11)));
}

TEST_CASE("rotation: deleting the oldest file writes rotation_drop first, naming its range") {
  testsupport::TempDir dir;
  auto options = FileOptions(dir);
  options.max_bytes = 4096;
  options.keep = 2;
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  for (int i = 0; i < 200; ++i) {
    Record r("deny");
    r.AddBytes("path", "/tmp/file-" + std::to_string(i));
    REQUIRE((*file)->Append(r).ok());
  }
  const std::string bytes = AllFiles(options.path);
  auto report = VerifyLogFiles(*DiscoverLogFiles(options.path));
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK_FALSE(report->starts_at_genesis);  // files were deleted
  std::vector<JsonValue> drops;
  std::uint64_t deny_total = 0;
  for (auto& v : Lines(bytes)) {
    if (Str(v, "type") == "deny") ++deny_total;
    if (Str(v, "type") == "rotation_drop") drops.push_back(std::move(v));
  }
  REQUIRE(!drops.empty());
  // The drops declared in the kept files are consecutive, and the last one ends right where
  // the kept chain begins: nothing went without a record.
  std::uint64_t dropped_denials = 0;
  for (std::size_t i = 0; i < drops.size(); ++i) {
    CHECK(Num(drops[i], "unsaved") == Num(drops[i], "records"));  // never exported
    CHECK(Num(drops[i], "last_seq") - Num(drops[i], "first_seq") + 1 == Num(drops[i], "records"));
    if (i > 0) {
      CHECK(Num(drops[i], "first_seq") == Num(drops[i - 1], "last_seq") + 1);
      CHECK(Str(drops[i], "first_prev") == Str(drops[i - 1], "last_hash"));
    }
    dropped_denials += Num(drops[i], "deny_decisions");
  }
  CHECK(Num(drops.back(), "last_seq") + 1 == report->first_seq);
  CHECK(Str(drops.back(), "last_hash") == report->first_prev);
  CHECK(report->declared_drops.size() == drops.size());
  CHECK(report->drops_reach_chain);
  (void)dropped_denials;
  (void)deny_total;
}

TEST_CASE("rotation: records taken by an export or by syslog are not unsaved") {
  testsupport::TempDir dir;
  auto options = FileOptions(dir);
  options.max_bytes = 2048;
  options.keep = 1;
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  // Every rotation_drop record written, read after each append (the records themselves rotate
  // away `keep` rotations later).
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> drops;  // first -> last, unsaved
  std::uint64_t written_before = 0;  // only drops declared after this seq
  auto append = [&](int n) {
    for (int i = 0; i < n; ++i) {
      Record r("deny");
      r.AddBytes("path", "/tmp/f" + std::to_string(i));
      REQUIRE((*file)->Append(r).ok());
      for (const auto& v : Lines(AllFiles(options.path))) {
        if (Str(v, "type") != "rotation_drop" || Num(v, "seq") <= written_before) continue;
        drops[Num(v, "first_seq")] = {Num(v, "last_seq"), Num(v, "unsaved")};
      }
    }
  };
  append(60);
  // Export everything so far, then have syslog take a later range.
  REQUIRE(WriteExportMark(options.path, (*file)->head().seq, (*file)->head().hash).ok());
  CHECK(ReadExportMark(options.path) == (*file)->head().seq);
  const std::uint64_t exported = (*file)->head().seq;
  (*file)->SetForwarded(exported + 5, exported + 1000);
  drops.clear();
  written_before = exported;
  append(80);
  bool saw_exported_drop = false, saw_partly = false;
  for (const auto& [first, d] : drops) {
    const auto [last, unsaved] = d;
    CHECK(unsaved == UnsavedRecords(first, last, {exported, exported + 5, exported + 1000}));
    if (last <= exported) {
      CHECK(unsaved == 0);
      saw_exported_drop = true;
    }
    if (first <= exported + 1 && last >= exported + 5) {
      CHECK(unsaved == 4);  // exported+1 .. exported+4: neither exported nor forwarded
      saw_partly = true;
    }
  }
  CHECK(saw_exported_drop);
  CHECK(saw_partly);
  // A lower mark never replaces a higher one.
  REQUIRE(WriteExportMark(options.path, 3, std::string(64, 'a')).ok());
  CHECK(ReadExportMark(options.path) == exported);
}

TEST_CASE("rotation: UnsavedRecords") {
  CHECK(UnsavedRecords(1, 10, {}) == 10);
  CHECK(UnsavedRecords(1, 10, {10, 0, 0}) == 0);
  CHECK(UnsavedRecords(1, 10, {4, 0, 0}) == 6);
  CHECK(UnsavedRecords(1, 10, {4, 5, 8}) == 2);   // 9, 10
  CHECK(UnsavedRecords(1, 10, {0, 3, 20}) == 2);  // 1, 2
  CHECK(UnsavedRecords(5, 10, {7, 1, 9}) == 1);   // 10
}

TEST_CASE("verify: the kept chain must start where the declared drop ended") {
  auto chain = [](const std::string& declared_last_hash) {
    const std::string before(64, 'a');  // the hash of seq 4, rotated away
    Record first("deny");
    first.AddBytes("path", "/tmp/x");
    Record drop("rotation_drop");
    drop.AddBytes("file", "audit.jsonl.10").AddUint("records", 4);
    drop.AddUint("first_seq", 1).AddUint("last_seq", 4);
    drop.AddBytes("first_prev", kGenesisPrev).AddBytes("last_hash", declared_last_hash);
    drop.AddUint("deny_decisions", 3).AddUint("unsaved", 4);
    const std::string l5 = FormatLine(5, before, first);
    const std::string l6 = FormatLine(6, LineHash(l5), drop);
    return VerifyLogs(std::vector<LogInput>{{"audit.jsonl", l5 + "\n" + l6 + "\n"}});
  };
  const auto ok = chain(std::string(64, 'a'));
  CHECK(ok.ok());
  CHECK(ok.drops_reach_chain);
  REQUIRE(ok.declared_drops.size() == 1);
  CHECK(ok.declared_drops[0].unsaved == 4);
  CHECK(ok.deny.records == 1);
  CHECK(ok.deny.rotated_away == 3);
  const auto bad = chain(std::string(64, 'b'));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.broken->reason.find("does not continue") != std::string::npos);
}

TEST_CASE("syslog: repeat and rotation_drop records are warnings, like deny") {
  CHECK(SyslogSeverity("repeat") == LOG_WARNING);
  CHECK(SyslogSeverity("rotation_drop") == LOG_WARNING);
  CHECK(SyslogSeverity("records_lost") == LOG_ERR);
}
