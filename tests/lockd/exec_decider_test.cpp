#include "lockd/exec_decider.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>
#include <utility>

#include "lockd/os/file_probe.h"
#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"
#include "tests/support/lockd/loaded_database.h"

using testsupport::EntryFor;
using testsupport::TempDir;

namespace {

// Records decisions as the kernel would receive them.
struct Recorder {
  std::mutex mu;
  std::map<int, bool> answers;  // fd -> allow (fd numbers are reused once answered)
  std::size_t total = 0;
  hashdb::Status Respond(int fd, bool allow) {
    std::lock_guard lock(mu);
    answers[fd] = allow;
    ++total;
    return {};
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return total;
  }
};

// The fake kernel, also recording answers by fd number, with one fixed path for every fd.
struct RecordingKernel : testsupport::FakeEventKernel {
  Recorder recorder;
  // Called once, on the first answer, after it is recorded (what the process does next).
  std::function<void()> after_first_answer;
  hashdb::Status Respond(int fd, bool allow) override {
    (void)recorder.Respond(fd, allow);
    auto status = FakeEventKernel::Respond(fd, allow);
    if (auto next = std::exchange(after_first_answer, nullptr)) next();
    return status;
  }
  std::string FdPath(int) override { return "/the/path"; }
};

struct CollectingSink : lockd::DecisionSink {
  std::mutex mu;
  std::vector<lockd::DecisionRecord> records;
  void OnDecision(const lockd::DecisionRecord& r) override {
    std::lock_guard lock(mu);
    records.push_back(r);
  }
  void OnDaemonEvent(const lockd::DaemonEvent&) override {}
};

struct Fixture {
  TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  lockd::DecisionCache cache;
  lockd::Stats stats;
  lockd::ModeSource modes;
  CollectingSink sink;
  RecordingKernel kernel;
  std::unique_ptr<lockd::DatabaseManager> dbs;
  std::unique_ptr<lockd::ExecDecider> decider;

  explicit Fixture(hashdb::Mode mode = hashdb::Mode::kEnforce, std::int64_t inline_bytes = 0) {
    hashdb::DatabaseContents c;
    c.generation = 3;
    c.policy.mode = mode;
    // deny_user_writable stays on (the default); the files the test writes are owned by whoever
    // runs it, trusted here when that is not root.
    if (::geteuid() != 0) c.policy.trusted_owners = {static_cast<std::uint32_t>(::geteuid())};
    c.entries.push_back(EntryFor("/good", "good content"));
    // A large allowlisted file, so that larger test files are hashed rather than denied for
    // their size alone (Reason::kLargerThanAllowlist).
    auto large = EntryFor("/large", "large");
    large.size = 1ull << 30;
    c.entries.push_back(large);
    dbs = testsupport::LoadedDatabase(dir, *key, c);
    lockd::ExecDeciderOptions o;
    o.small_workers = 2;
    o.large_workers = 1;
    o.inline_hash_bytes = inline_bytes;
    decider = std::make_unique<lockd::ExecDecider>(kernel, *dbs, modes, cache, sink, stats, o);
  }

  // A request as the event loop would build it, for a file with this content.
  lockd::PermissionRequest Request(const std::string& name, const std::string& content,
                                   bool cache_allowed = true) {
    const std::string path = dir.Join(name);
    if (::access(path.c_str(), F_OK) != 0) testsupport::WriteFile(path, content, 0755);
    lockd::PermissionRequest r;
    r.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(r.fd.valid());
    r.pid = 1234;
    r.facts = lockd::os::StatFd(r.fd.get());
    r.cache_allowed = cache_allowed;
    return r;
  }

  // Submits and waits for the answer; returns allow.
  bool Decide(lockd::PermissionRequest r) {
    const int fd = r.fd.get();
    decider->Submit(std::move(r));
    for (int i = 0; i < 5000; ++i) {
      {
        std::lock_guard lock(kernel.recorder.mu);
        auto it = kernel.recorder.answers.find(fd);
        if (it != kernel.recorder.answers.end()) {
          bool allow = it->second;
          kernel.recorder.answers.erase(it);
          return allow;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL("no answer within 5 s");
    return false;
  }
};

}  // namespace

TEST_CASE("allowlisted content is allowed, foreign content denied and logged") {
  Fixture f;
  CHECK(f.Decide(f.Request("good", "good content")));
  CHECK_FALSE(f.Decide(f.Request("bad", "bad content")));
  f.decider->Shutdown();
  REQUIRE(f.sink.records.size() == 1);
  const auto& r = f.sink.records[0];
  CHECK(r.verdict == lockd::Verdict::kDeny);
  CHECK(r.reason == lockd::Reason::kNotInAllowlist);
  CHECK(r.path == "/the/path");
  CHECK(r.pid == 1234);
  CHECK(r.db_generation == 3);
  REQUIRE(r.digest.has_value());
  CHECK(f.stats.allowed.load() == 1);
  CHECK(f.stats.denied.load() == 1);
  CHECK(f.stats.pending.load() == 0);
}

TEST_CASE("a copy under another name is allowed: content, not path, decides") {
  Fixture f;
  CHECK(f.Decide(f.Request("renamed-copy", "good content")));
}

TEST_CASE("audit mode allows and logs would-deny") {
  Fixture f(hashdb::Mode::kAudit);
  CHECK(f.Decide(f.Request("bad", "bad content")));
  f.decider->Shutdown();
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].verdict == lockd::Verdict::kWouldDeny);
  CHECK(f.stats.would_deny.load() == 1);
}

TEST_CASE("second exec is answered from the cache; without cache permission it is hashed") {
  Fixture f;
  CHECK(f.Decide(f.Request("good", "good content")));
  CHECK(f.stats.hashes.load() == 1);
  CHECK(f.Decide(f.Request("good", "")));
  CHECK(f.stats.hashes.load() == 1);
  CHECK(f.cache.hits() == 1);
  CHECK(f.Decide(f.Request("good", "", /*cache_allowed=*/false)));
  CHECK(f.stats.hashes.load() == 2);
}

TEST_CASE("content changed in place with metadata put back is re-hashed after invalidation") {
  Fixture f;
  auto first = f.Request("good", "good content");
  const lockd::FileFacts facts = *first.facts;
  CHECK(f.Decide(std::move(first)));
  // Same length, new bytes; the write notification is what the loop would deliver.
  testsupport::WriteFile(f.dir.Join("good"), "evil content", 0755);
  f.cache.Invalidate(facts.dev, facts.ino);
  auto again = f.Request("good", "");
  // Pretend the metadata is identical (coarse timestamps, mmap writes).
  again.facts = facts;
  CHECK_FALSE(f.Decide(std::move(again)));
}

TEST_CASE("a file whose metadata differs from the loop's fstat is denied as changed") {
  Fixture f;
  auto r = f.Request("good", "good content");
  r.facts->mtime_ns -= 1;  // the loop saw an older version
  CHECK_FALSE(f.Decide(std::move(r)));
  f.decider->Shutdown();
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].reason == lockd::Reason::kChangedWhileHashing);
}

TEST_CASE("fstat failure and non-regular files are denied") {
  Fixture f;
  auto r = f.Request("good", "good content");
  r.facts = hashdb::MakeError(hashdb::ErrorCode::kIo, "fstat failed");
  CHECK_FALSE(f.Decide(std::move(r)));
  auto dir_req = f.Request("good", "good content");
  dir_req.facts->mode = 0040755;
  CHECK_FALSE(f.Decide(std::move(dir_req)));
}

TEST_CASE("concurrent requests for one inode are hashed once and all answered") {
  Fixture f;
  // A 64 MiB file so the first hash is still running when the others arrive.
  const std::string big(64 << 20, 'x');
  testsupport::WriteFile(f.dir.Join("big"), big, 0755);
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    auto r = f.Request("big", "", /*cache_allowed=*/false);
    fds.push_back(r.fd.get());
    f.decider->Submit(std::move(r));
  }
  for (int i = 0; i < 10000 && f.kernel.recorder.count() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(f.kernel.recorder.count() == 8);
  for (auto& [fd, allow] : f.kernel.recorder.answers) CHECK_FALSE(allow);  // not allowlisted
  CHECK(f.stats.hashes.load() < 8);
  CHECK(f.stats.joined_in_flight.load() >= 1);
}

TEST_CASE("a file larger than every allowlisted one is denied without being read") {
  Fixture f;
  auto r = f.Request("over", "some content", false);
  r.facts->size = (1ll << 30) + 1;  // the size the loop's fstat reported: above every entry
  CHECK_FALSE(f.Decide(std::move(r)));
  CHECK(f.stats.hashes.load() == 0);
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].reason == lockd::Reason::kLargerThanAllowlist);
  CHECK_FALSE(f.sink.records[0].digest.has_value());
}

TEST_CASE("a huge file being hashed does not hold up a small one") {
  Fixture f;
  const std::string big(128 << 20, 'y');
  testsupport::WriteFile(f.dir.Join("huge"), big, 0755);
  auto huge = f.Request("huge", "", false);
  const int huge_fd = huge.fd.get();
  f.decider->Submit(std::move(huge));
  const auto start = std::chrono::steady_clock::now();
  CHECK(f.Decide(f.Request("good", "good content", false)));
  const auto small_done = std::chrono::steady_clock::now();
  bool huge_answered_first = false;
  {
    std::lock_guard lock(f.kernel.recorder.mu);
    huge_answered_first = f.kernel.recorder.answers.count(huge_fd) != 0;
  }
  CHECK_FALSE(huge_answered_first);
  CHECK(small_done - start < std::chrono::milliseconds(100));
  f.decider->Shutdown();
  CHECK(f.kernel.recorder.count() == 2);  // the huge one too, answered before Shutdown returned
}

TEST_CASE("Shutdown answers every request already submitted") {
  Fixture f;
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    auto r = f.Request("f" + std::to_string(i), "content " + std::to_string(i), false);
    fds.push_back(r.fd.get());
    f.decider->Submit(std::move(r));
  }
  f.decider->Shutdown();
  CHECK(f.kernel.recorder.count() == 20);
  CHECK(f.stats.pending.load() == 0);
}

TEST_CASE("one refused exec, one record: the same process's open of the same file follows it") {
  Fixture f;
  CHECK_FALSE(f.Decide(f.Request("bad", "bad content", false)));
  // The shell reads the head of the file it could not run (bash does): denied, not recorded.
  auto open = f.Request("bad", "", false);
  open.exec = false;
  CHECK_FALSE(f.Decide(std::move(open)));
  // Another process opening it is another act: recorded.
  auto other = f.Request("bad", "", false);
  other.exec = false;
  other.pid = 4321;
  CHECK_FALSE(f.Decide(std::move(other)));
  f.decider->Shutdown();
  REQUIRE(f.sink.records.size() == 2);
  CHECK(f.sink.records[0].exec);
  CHECK(f.sink.records[0].pid == 1234);
  CHECK_FALSE(f.sink.records[1].exec);
  CHECK(f.sink.records[1].pid == 4321);
  // Every event is answered; the follow-up is not counted as another denial, so the status
  // count stays equal to what the audit log accounts for.
  CHECK(f.kernel.recorder.count() == 3);
  CHECK(f.stats.denied.load() == 2);
  CHECK(f.stats.follow_ups_not_recorded.load() == 1);
}

TEST_CASE(
    "an open right after the refused exec's answer follows it, even before the exec is logged") {
  // bash opens the file the moment execve fails, and the loop may answer that open from the
  // cache before the worker that refused the exec has logged it. Here the open is submitted from
  // inside the exec's answer (before the worker's logging): it is still one act, one record.
  Fixture f;
  auto exec = f.Request("bad", "bad content");
  auto open = f.Request("bad", "");
  open.exec = false;
  f.kernel.after_first_answer = [&] { f.decider->Submit(std::move(open)); };
  CHECK_FALSE(f.Decide(std::move(exec)));
  f.decider->Shutdown();
  CHECK(f.kernel.recorder.count() == 2);
  CHECK(f.cache.hits() == 1);  // the open was answered from the cache
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].exec);
  CHECK(f.stats.follow_ups_not_recorded.load() == 1);
}

TEST_CASE("allowlisted content in a file others can rewrite is denied as writable-by-user") {
  Fixture f;
  // Same bytes as the allowlisted /good, but group- and world-writable: denied, and the
  // record carries the digest (it was hashed and found).
  testsupport::WriteFile(f.dir.Join("open-copy"), "good content", 0755);
  REQUIRE(::chmod(f.dir.Join("open-copy").c_str(), 0777) == 0);
  CHECK_FALSE(f.Decide(f.Request("open-copy", "", true)));
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].reason == lockd::Reason::kWritableByUser);
  CHECK(f.sink.records[0].digest.has_value());
  // chmod back: a new version (mode and ctime), judged afresh, not answered from the cache.
  REQUIRE(::chmod(f.dir.Join("open-copy").c_str(), 0755) == 0);
  CHECK(f.Decide(f.Request("open-copy", "", true)));
  if (::geteuid() == 0) {
    // Owned by a user who is not trusted: denied, whatever its permission bits.
    REQUIRE(::chown(f.dir.Join("open-copy").c_str(), 4242, 4242) == 0);
    REQUIRE(::chmod(f.dir.Join("open-copy").c_str(), 0500) == 0);
    CHECK_FALSE(f.Decide(f.Request("open-copy", "", true)));
    REQUIRE(f.sink.records.size() == 2);
    CHECK(f.sink.records[1].reason == lockd::Reason::kWritableByUser);
  }
}

TEST_CASE("a small file in the page cache is hashed and answered on the submitting thread") {
  Fixture f(hashdb::Mode::kEnforce, lockd::kInlineHashBytes);
  auto good = f.Request("good", "good content");
  const int fd = good.fd.get();
  f.decider->Submit(std::move(good));
  {
    // Answered before Submit returned: no worker was involved.
    std::lock_guard lock(f.kernel.recorder.mu);
    REQUIRE(f.kernel.recorder.answers.count(fd) == 1);
    CHECK(f.kernel.recorder.answers[fd]);
  }
  CHECK(f.stats.hashed_inline.load() == 1);
  CHECK_FALSE(f.Decide(f.Request("bad", "bad content")));
  CHECK(f.stats.hashed_inline.load() == 2);
  // Above the limit: a worker, as before (same verdicts).
  CHECK_FALSE(f.Decide(f.Request("big", std::string(lockd::kInlineHashBytes + 1, 'x'))));
  CHECK(f.stats.hashed_inline.load() == 2);
  CHECK(f.stats.hashes.load() == 3);
}

TEST_CASE("content not in the page cache goes to a worker: the loop never waits for a disk") {
  Fixture f(hashdb::Mode::kEnforce, lockd::kInlineHashBytes);
  const std::string path = f.dir.Join("cold");
  testsupport::WriteFile(path, "good content", 0755);
  {
    hashdb::UniqueFd w(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(w.valid());
    REQUIRE(::fsync(w.get()) == 0);
    REQUIRE(::posix_fadvise(w.get(), 0, 0, POSIX_FADV_DONTNEED) == 0);
  }
  struct statfs sfs {};
  REQUIRE(::statfs(path.c_str(), &sfs) == 0);
  // tmpfs keeps its pages whatever the advice: nothing to evict there.
  if (sfs.f_type == TMPFS_MAGIC) return;
  CHECK(f.Decide(f.Request("cold", "good content")));
  CHECK(f.stats.hashed_inline.load() == 0);
  CHECK(f.stats.hashes.load() == 1);
}
