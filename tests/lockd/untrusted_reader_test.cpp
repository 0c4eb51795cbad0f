#include "lockd/untrusted_reader.h"

#include <doctest/doctest.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"
#include "tests/support/lockd/loaded_database.h"

using testsupport::EntryFor;
using testsupport::TempDir;

namespace {

using Clock = lockd::UntrustedReader::Clock;

struct CollectingSink : lockd::DecisionSink {
  std::mutex mu;
  std::vector<lockd::DaemonEvent> events;
  void OnDecision(const lockd::DecisionRecord&) override {}
  void OnDaemonEvent(const lockd::DaemonEvent& e) override {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
};

// FUSE connections by device: requests waiting, and what was aborted. An abort releases
// whatever `on_abort` holds (the kernel failing the stalled request).
struct FakeFuse : lockd::os::FuseConnections {
  std::map<std::uint64_t, std::uint64_t> waiting;
  std::vector<std::uint64_t> aborted;
  std::function<void()> on_abort;
  std::optional<std::uint64_t> Waiting(std::uint64_t dev) override {
    auto it = waiting.find(dev);
    if (it == waiting.end()) return std::nullopt;
    return it->second;
  }
  hashdb::Status Abort(std::uint64_t dev) override {
    aborted.push_back(dev);
    waiting.erase(dev);
    if (on_abort) on_abort();
    return {};
  }
};

struct Fixture {
  TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  lockd::DecisionCache cache;
  lockd::Stats stats;
  lockd::ModeSource modes;
  CollectingSink sink;
  testsupport::FakeEventKernel kernel;
  FakeFuse fuse;
  std::unique_ptr<lockd::DatabaseManager> dbs;
  std::unique_ptr<lockd::ExecDecider> decider;
  std::unique_ptr<lockd::UntrustedReader> reader;

  Fixture() {
    hashdb::DatabaseContents c;
    c.generation = 1;
    if (::geteuid() != 0) c.policy.trusted_owners = {static_cast<std::uint32_t>(::geteuid())};
    c.entries.push_back(EntryFor("/good", "good content"));  // deny_untrusted_fs: on (default)
    dbs = testsupport::LoadedDatabase(dir, *key, c);
    decider = std::make_unique<lockd::ExecDecider>(kernel, *dbs, modes, cache, sink, stats,
                                                   lockd::ExecDeciderOptions{});
    reader = std::make_unique<lockd::UntrustedReader>(
        kernel, *decider, fuse,
        [] {
          return std::vector<lockd::FuseMount>{{39, "/mnt/stalled"}, {40, "/mnt/idle"}};
        },
        sink, stats);
  }
};

}  // namespace

TEST_CASE("UntrustedReader: every exec read is judged as on an untrusted filesystem") {
  Fixture f;
  // The content is allowlisted, but the file is on FUSE: denied unread (deny_untrusted_fs).
  testsupport::WriteFile(f.dir.Join("good"), "good content", 0755);
  f.kernel.Queue(FAN_OPEN_EXEC_PERM, 1234, f.dir.Join("good"));
  // lockd's own access is allowed at once (it never waits on itself).
  f.kernel.Queue(FAN_OPEN_EXEC_PERM, ::getpid(), f.dir.Join("good"));
  // The kernel could not open the file for lockd: it has denied the exec itself.
  f.kernel.QueueUnopenable(FAN_OPEN_EXEC_PERM, 1235, ECONNABORTED);
  (void)f.reader->ReadOnce();
  REQUIRE(f.kernel.WaitForAnswers(2));
  const auto answers = f.kernel.answers();
  REQUIRE(answers.size() == 2);
  std::size_t allowed = 0;
  for (const auto& a : answers) allowed += a.allow ? 1 : 0;
  CHECK(allowed == 1);  // the own access; the other exec is denied
  CHECK(f.stats.denied.load() == 1);
  CHECK(f.stats.own_events.load() == 1);
  CHECK(f.stats.unopenable_denied.load() == 1);
}

TEST_CASE("UntrustedReader: a read held longer than the bound aborts the FUSE connection") {
  Fixture f;
  testsupport::WriteFile(f.dir.Join("prog"), "x", 0755);
  // The read blocks (the kernel's open of the file is a request its server never answers)
  // until the connection is aborted.
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  bool released = false;
  f.kernel.Queue(FAN_OPEN_EXEC_PERM, 1234, f.dir.Join("prog"));
  f.kernel.OnRead([&] {
    std::unique_lock lock(mu);
    held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  });
  f.fuse.on_abort = [&] {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  };
  f.fuse.waiting = {{39, 1}, {40, 0}};
  std::thread reading([&] { (void)f.reader->ReadOnce(); });
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return held; }));
  }
  const auto now = Clock::now();
  // Within the bound nothing is touched.
  CHECK(f.reader->GuardOnce(now + std::chrono::milliseconds(500)) == 0);
  CHECK(f.fuse.aborted.empty());
  // Past it: the connection with requests waiting is aborted, the idle one is not.
  CHECK(f.reader->GuardOnce(now + std::chrono::seconds(4)) == 1);
  REQUIRE(f.fuse.aborted.size() == 1);
  CHECK(f.fuse.aborted[0] == 39);
  reading.join();
  REQUIRE(f.kernel.WaitForAnswers(1));
  CHECK_FALSE(f.kernel.answers()[0].allow);
  {
    std::lock_guard lock(f.sink.mu);
    REQUIRE(f.sink.events.size() == 1);
    CHECK(f.sink.events[0].kind == lockd::DaemonEventKind::kFuseAbort);
    CHECK(f.sink.events[0].message.find("/mnt/stalled") != std::string::npos);
  }
  // Nothing is held any more: the guard does nothing.
  CHECK(f.reader->GuardOnce(now + std::chrono::seconds(20)) == 0);
  CHECK(f.fuse.aborted.size() == 1);
}

TEST_CASE("UntrustedReader: an idle reader and idle workers are never a reason to abort") {
  Fixture f;
  f.fuse.waiting = {{39, 3}};
  CHECK(f.reader->GuardOnce(Clock::now() + std::chrono::hours(1)) == 0);
  CHECK(f.fuse.aborted.empty());
}

TEST_CASE("FuseConnectionName: the kernel's encoding of the superblock's device") {
  CHECK(lockd::os::FuseConnectionName(makedev(0, 39)) == "39");
  CHECK(lockd::os::FuseConnectionName(makedev(8, 1)) == std::to_string((8u << 20) | 1u));
}
