// The audit writers: chain continuation across restarts and writers, torn-tail repair,
// the non-blocking queue and its loss record, and kill -9 in the middle of a flood.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "audit/json_parse.h"
#include "audit/verify.h"
#include "lockd/audit/audit_file.h"
#include "lockd/audit/audit_log.h"
#include "lockd/audit/tail.h"
#include "tests/support/db_fixture.h"

using namespace lockd::audit;

namespace {

AuditFileOptions Options(const testsupport::TempDir& dir) {
  AuditFileOptions o;
  o.path = dir.Join("log/audit.jsonl");  // the directory is created by Open
  o.sync = false;
  return o;
}

void AppendN(AuditFile& file, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    Record r("deny");
    r.AddBytes("path", tag + std::to_string(i));
    REQUIRE(file.Append(r).ok());
  }
}

VerifyReport VerifyAll(const std::string& base) {
  auto files = DiscoverLogFiles(base);
  REQUIRE(files.ok());
  auto report = VerifyLogFiles(*files);
  REQUIRE(report.ok());
  if (!report->ok()) {
    FAIL_CHECK(report->broken->place.file << ":" << report->broken->place.line << ": "
                                          << report->broken->reason);
  }
  return *report;
}

std::string Slurp(const std::string& path) {
  auto bytes = ReadLogFile(path);
  REQUIRE(bytes.ok());
  return *bytes;
}

void Append(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string LastLineType(const std::string& bytes) {
  const auto end = bytes.rfind('\n', bytes.size() - 2);
  auto obj = ParseJson(bytes.substr(end + 1, bytes.size() - end - 2));
  REQUIRE(obj.ok());
  return obj->Find("type")->string;
}

}  // namespace

TEST_CASE("audit writer: a reopened log continues seq and prev") {
  testsupport::TempDir dir;
  const auto options = Options(dir);
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    AppendN(**file, 5, "/a");
    CHECK((*file)->head().seq == 5);
  }
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  CHECK((*file)->head().seq == 5);
  AppendN(**file, 5, "/b");
  const auto report = VerifyAll(options.path);
  CHECK(report.records == 10);
  CHECK(report.starts_at_genesis);
  CHECK(report.head_hash == (*file)->head().hash);
}

TEST_CASE("audit writer: two writers on one log keep one chain") {
  testsupport::TempDir dir;
  auto options = Options(dir);
  options.max_bytes = 2000;
  auto a = AuditFile::Open(options);
  auto b = AuditFile::Open(options);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  for (int i = 0; i < 30; ++i) {
    AppendN(i % 3 ? **a : **b, 1 + i % 2, "/w" + std::to_string(i) + "-");
  }
  const auto report = VerifyAll(options.path);
  CHECK(report.records == 45);
  CHECK(report.starts_at_genesis);
}

TEST_CASE("audit writer: a torn last line is terminated and acknowledged") {
  testsupport::TempDir dir;
  const auto options = Options(dir);
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    AppendN(**file, 3, "/t");
  }
  SUBCASE("a fragment") {
    Append(options.path, "{\"seq\":4,\"time\":\"2026-11-");
    auto before = VerifyLogFiles({options.path});
    REQUIRE(before.ok());
    CHECK(before->ok());                // the chain up to the crash verifies ...
    REQUIRE(before->torn.size() == 1);  // ... and the torn tail is reported
    CHECK_FALSE(before->torn[0].acknowledged);
    CHECK(before->torn[0].place.line == 4);
  }
  SUBCASE("a whole line without its newline") {
    const std::string bytes = Slurp(options.path);
    REQUIRE(::truncate(options.path.c_str(), static_cast<off_t>(bytes.size() - 1)) == 0);
  }
  SUBCASE("garbage from a power loss") { Append(options.path, std::string(100, '\0')); }
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  CHECK(LastLineType(Slurp(options.path)) == "torn_record");
  AppendN(**file, 2, "/after");
  const auto report = VerifyAll(options.path);
  REQUIRE(report.torn.size() == 1);
  CHECK(report.torn[0].acknowledged);
  // A whole line without its newline is rolled back out of the chain (5 records, torn at
  // line 3); a fragment is an extra line (6 records, torn at line 4).
  CHECK(report.torn[0].place.line == (report.records == 5 ? 3u : 4u));
  // Opening again changes nothing: the log is whole.
  const std::string now = Slurp(options.path);
  REQUIRE(AuditFile::Open(options).ok());
  CHECK(Slurp(options.path) == now);
}

TEST_CASE("audit writer: a torn line in a full file is acknowledged in the next file") {
  testsupport::TempDir dir;
  auto options = Options(dir);
  options.max_bytes = 700;
  {
    auto file = AuditFile::Open(AuditFileOptions{options.path, 0, 10, false, 0640});
    REQUIRE(file.ok());
    AppendN(**file, 3, "/full");
  }
  Append(options.path, std::string(300, 'x'));  // over max_bytes with the fragment
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    AppendN(**file, 2, "/next");
  }
  auto files = DiscoverLogFiles(options.path);
  REQUIRE(files.ok());
  CHECK(files->size() >= 2);
  const auto report = VerifyAll(options.path);
  REQUIRE(report.torn.size() == 1);
  CHECK(report.torn[0].acknowledged);
  CHECK(report.torn[0].place.file == options.path + ".1");
  CHECK(report.records == 3 + 1 + 2);
}

TEST_CASE("audit writer: a crash in the first write after a rotation") {
  testsupport::TempDir dir;
  auto options = Options(dir);
  options.max_bytes = 600;
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    AppendN(**file, 4, "/r");
  }
  // Simulate: rotation done, then a crash during the new file's first line.
  REQUIRE(::rename(options.path.c_str(), (options.path + ".9").c_str()) == 0);
  testsupport::WriteFile(options.path, "{\"seq\":5,\"ti", 0640);
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  CHECK((*file)->head().seq == 1);  // path.1 does not exist: a new chain (its torn_record) ...
  // ... which the verifier shows as a second chain start after path.9.
  auto files = DiscoverLogFiles(options.path);
  REQUIRE(files.ok());
  auto report = VerifyLogFiles(*files);
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok());

  // With the real rotation name, the chain continues from path.1.
  testsupport::TempDir dir2;
  auto o2 = Options(dir2);
  {
    auto f = AuditFile::Open(o2);
    REQUIRE(f.ok());
    AppendN(**f, 6, "/r");
  }
  REQUIRE(::rename(o2.path.c_str(), (o2.path + ".1").c_str()) == 0);
  testsupport::WriteFile(o2.path, "{\"seq\":7,\"ti", 0640);
  auto f2 = AuditFile::Open(o2);
  REQUIRE(f2.ok());
  AppendN(**f2, 2, "/after");
  const auto ok = VerifyAll(o2.path);
  CHECK(ok.starts_at_genesis);
  REQUIRE(ok.torn.size() == 1);
  CHECK(ok.torn[0].acknowledged);
  CHECK(ok.records == 6 + 1 + 2);
}

TEST_CASE("audit writer: a damaged last line is reported, and logging goes on") {
  testsupport::TempDir dir;
  const auto options = Options(dir);
  {
    auto file = AuditFile::Open(options);
    REQUIRE(file.ok());
    AppendN(**file, 3, "/d");
  }
  Append(options.path, "this is not a record\n");
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  AppendN(**file, 2, "/after");
  const std::string bytes = Slurp(options.path);
  CHECK(bytes.find("\"type\":\"chain_restart\"") != std::string::npos);
  auto report = VerifyLogFiles({options.path});
  REQUIRE(report.ok());
  REQUIRE_FALSE(report->ok());
  CHECK(report->broken->place.line == 4);
  CHECK(report->broken->reason.find("not a valid record") != std::string::npos);
}

TEST_CASE("audit log: records are written by the writer thread in order") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file = Options(dir);
  options.file.sync = true;
  options.file.max_bytes = 64 * 1024;
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        Record r("would_deny");
        r.AddUint("thread", t).AddUint("i", i);
        while (!(*log)->Append(std::move(r))) {
          std::this_thread::yield();  // the test wants all of them; the daemon would not retry
          r = Record("would_deny");
          r.AddUint("thread", t).AddUint("i", i);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  (*log)->Flush();
  const auto stats = (*log)->stats();
  CHECK(stats.appended == 1000);
  CHECK(stats.write_errors == 0);
  log->reset();
  const auto report = VerifyAll(options.file.path);
  // Every record, plus one records_lost per batch that followed refusals, whose counts add
  // up to the refusals.
  const std::string bytes = Slurp(options.file.path);
  std::uint64_t lost_records = 0;
  std::uint64_t lost_count = 0;
  for (std::size_t pos = 0; pos < bytes.size();) {
    const auto nl = bytes.find('\n', pos);
    auto obj = ParseJson(std::string_view(bytes).substr(pos, nl - pos));
    REQUIRE(obj.ok());
    if (obj->Find("type")->string == "records_lost") {
      ++lost_records;
      lost_count += obj->Find("count")->uint_value;
    }
    pos = nl + 1;
  }
  CHECK(report.records == 1000 + lost_records);
  CHECK(lost_count == stats.dropped);
}

TEST_CASE("audit log: a full queue drops records without blocking and records the loss") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file = Options(dir);
  options.queue_capacity = 4;
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  // Hold the log's lock, as a stuck disk would: the writer thread blocks, the queue fills.
  const int lock_fd = ::open((options.file.path + ".lock").c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(lock_fd >= 0);
  REQUIRE(::flock(lock_fd, LOCK_EX) == 0);
  REQUIRE((*log)->Append(Record("daemon_start")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int accepted = 0;
  int refused = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    Record r("deny");
    r.AddUint("i", i);
    ((*log)->Append(std::move(r)) ? accepted : refused)++;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));  // never waited for the stuck writer (stuck forever)
  CHECK(accepted <= 4);
  CHECK(refused >= 16);
  CHECK((*log)->stats().dropped == static_cast<std::uint64_t>(refused));
  REQUIRE(::flock(lock_fd, LOCK_UN) == 0);
  ::close(lock_fd);
  (*log)->Flush();
  log->reset();
  const std::string bytes = Slurp(options.file.path);
  const auto report = VerifyAll(options.file.path);
  CHECK(report.records == static_cast<std::uint64_t>(1 + accepted + 1));
  CHECK(LastLineType(bytes) == "records_lost");
  CHECK(bytes.find("\"count\":" + std::to_string(refused) + ",\"reason\":\"queue_full\"") !=
        std::string::npos);
}

TEST_CASE("audit log: kill -9 during a flood, 20 times, and the log verifies each time") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file = Options(dir);
  options.file.sync = true;
  options.file.max_bytes = 256 * 1024;
  options.file.keep = 1000;
  std::mt19937 rng(7);
  std::uint64_t last_records = 0;
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    int ready[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(ready[0]);
      auto log = AuditLog::Start(options);
      if (!log.ok()) ::_exit(3);
      Record start("daemon_start");
      start.AddUint("round", round);
      (*log)->Append(std::move(start));
      (*log)->Flush();  // one whole new record on disk before the parent may kill
      if (::write(ready[1], "r", 1) != 1) ::_exit(4);
      for (std::uint64_t i = 0;; ++i) {
        Record r(i % 2 ? "deny" : "would_deny");
        r.AddUint("pid", i).AddBytes("path", "/tmp/x\n\"evil\xff" + std::to_string(i));
        (*log)->Append(std::move(r));
      }
    }
    ::close(ready[1]);
    // The child is killed whatever happens below, so a failed check never leaves it flooding.
    struct Reaper {
      pid_t pid;
      ~Reaper() {
        if (pid > 0) {
          ::kill(pid, SIGKILL);
          ::waitpid(pid, nullptr, 0);
        }
      }
    } reaper{child};
    // Wait for its first flushed record (at most 10 s), let it flood a while, kill it mid-flood.
    pollfd pfd{ready[0], POLLIN, 0};
    const int polled = ::poll(&pfd, 1, 10'000);
    char byte = 0;
    const bool started = polled == 1 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    REQUIRE(started);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 50));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    reaper.pid = 0;
    REQUIRE(WIFSIGNALED(status));
    const auto report = VerifyAll(options.file.path);
    CHECK(report.starts_at_genesis);
    CHECK(report.records > last_records);
    last_records = report.records;
  }
  // And a final writer continues the same chain.
  {
    auto log = AuditLog::Start(options);
    REQUIRE(log.ok());
    (*log)->Append(Record("daemon_stop"));
  }
  const auto report = VerifyAll(options.file.path);
  CHECK(report.records > last_records);
  MESSAGE("after 20 kills: " << report.records << " records, " << report.torn.size()
                             << " torn lines repaired");
}

// Run by tests/integration/audit_lockctl_test.sh with LOCKD_AUDIT_SAMPLE set to a directory:
// writes a rotated sample log with hostile names there for `lockctl log` to read. Without
// the variable it does nothing.
TEST_CASE("audit log: sample log for the lockctl test") {
  const char* out = std::getenv("LOCKD_AUDIT_SAMPLE");
  if (out == nullptr) return;
  AuditFileOptions options;
  options.path = std::string(out) + "/audit.jsonl";
  options.max_bytes = 2000;
  options.keep = 100;
  auto file = AuditFile::Open(options);
  REQUIRE(file.ok());
  const std::string names[] = {"/usr/bin/ls",
                               "/tmp/evil\nname",
                               "/tmp/\x1b[2Jclear",
                               "/tmp/\xff\xfe",
                               "/home/\xe5\x8f\x96\xe5\xbc\x95.sh",
                               "/tmp/rtl\xe2\x80\xaetxt.exe"};
  for (int i = 0; i < 40; ++i) {
    Record r(i == 0 ? "daemon_start" : i % 4 == 1 ? "deny" : i % 4 == 2 ? "would_deny" : "db_load");
    r.set_time(Clock::from_time_t(1795795200 + i * 3600));  // 2026-11-27T16:00Z + i hours
    r.AddUint("pid", 100 + i).AddBytes("path", names[i % 6]);
    REQUIRE((*file)->Append(r).ok());
  }
}
