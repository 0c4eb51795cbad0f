#include "lockd/stuck_decider_guard.h"

#include <doctest/doctest.h>

#include <chrono>
#include <map>

namespace {

using Clock = lockd::StuckDeciderGuard::Clock;
using lockd::os::ProcessLife;
using std::chrono::milliseconds;

struct FakeFuse : lockd::os::FuseConnections {
  std::map<std::uint64_t, std::uint64_t> waiting;
  std::vector<std::uint64_t> aborted;
  bool fail = false;
  std::optional<std::uint64_t> Waiting(std::uint64_t dev) override {
    auto it = waiting.find(dev);
    if (it == waiting.end()) return std::nullopt;
    return it->second;
  }
  hashdb::Status Abort(std::uint64_t dev) override {
    if (fail) return hashdb::MakeError(hashdb::ErrorCode::kIo, "write abort: EPERM");
    aborted.push_back(dev);
    waiting.erase(dev);
    return {};
  }
};

struct Fixture {
  FakeFuse fuse;
  ProcessLife life = ProcessLife::kAlive;
  std::vector<lockd::os::FuseMount> marked{{11, "/m/stuck"}, {12, "/m/idle"}, {13, "/m/nfs"}};
  bool marks_fail = false;
  lockd::StuckDeciderGuard guard{fuse, [this](pid_t) { return life; },
                                 [this]() -> hashdb::Result<std::vector<lockd::os::FuseMount>> {
                                   if (marks_fail)
                                     return hashdb::MakeError(hashdb::ErrorCode::kIo,
                                                              "fdinfo: EACCES");
                                   return marked;
                                 },
                                 lockd::StuckDeciderGuardOptions{milliseconds(1000)}};
  Fixture() {
    fuse.waiting[11] = 1;  // holds the dead decider's thread
    fuse.waiting[12] = 0;  // a FUSE filesystem with nothing waiting
    // 13: not a FUSE connection (no fusectl entry)
    guard.Watch(42);
  }
};

}  // namespace

TEST_CASE("a living decider is never released, however long it runs") {
  Fixture f;
  const auto t0 = Clock::now();
  for (int s = 0; s < 100; ++s) CHECK(f.guard.Check(t0 + std::chrono::seconds(s)).empty());
  CHECK(f.fuse.aborted.empty());
}

TEST_CASE(
    "a decider dying longer than the grace: the marked connections with waiting requests "
    "are aborted, once per grace") {
  Fixture f;
  const auto t0 = Clock::now();
  CHECK(f.guard.Check(t0).empty());
  f.life = ProcessLife::kDying;
  CHECK(f.guard.Check(t0 + milliseconds(100)).empty());   // first seen dying
  CHECK(f.guard.Check(t0 + milliseconds(1000)).empty());  // 900 ms: within the grace
  auto tried = f.guard.Check(t0 + milliseconds(1150));
  REQUIRE(tried.size() == 1);
  CHECK(f.fuse.aborted == std::vector<std::uint64_t>{11});
  CHECK(tried[0].mount_point == "/m/stuck");
  CHECK(tried[0].waiting == 1);
  CHECK(tried[0].dying_ms == 1050);
  CHECK(tried[0].error.empty());
  CHECK(tried[0].connection == lockd::os::FuseConnectionName(11));
  const std::string line = lockd::DescribeSupervisorFuseAbort(42, tried[0]);
  CHECK(line.find("supervisor: aborted FUSE connection") == 0);
  CHECK(line.find("/m/stuck") != std::string::npos);
  CHECK(line.find("decider 42") != std::string::npos);
  // Still not reaped: again only after another grace.
  f.fuse.waiting[12] = 3;
  CHECK(f.guard.Check(t0 + milliseconds(1500)).empty());
  CHECK(f.guard.Check(t0 + milliseconds(2200)).size() == 1);
  CHECK(f.fuse.aborted == std::vector<std::uint64_t>{11, 12});
  // Both are kept for the next decider's record, once.
  CHECK(f.guard.TakeAborts().size() == 2);
  CHECK(f.guard.TakeAborts().empty());
}

TEST_CASE("a new decider starts from scratch") {
  Fixture f;
  const auto t0 = Clock::now();
  f.life = ProcessLife::kDying;
  CHECK(f.guard.Check(t0).empty());
  f.guard.Watch(43);
  f.life = ProcessLife::kAlive;
  CHECK(f.guard.Check(t0 + milliseconds(5000)).empty());
  f.life = ProcessLife::kDying;
  CHECK(f.guard.Check(t0 + milliseconds(5100)).empty());
  CHECK(f.guard.Check(t0 + milliseconds(6200)).size() == 1);
}

TEST_CASE("a decider already reaped (gone) is left alone") {
  Fixture f;
  f.life = ProcessLife::kGone;
  const auto t0 = Clock::now();
  CHECK(f.guard.Check(t0).empty());
  CHECK(f.guard.Check(t0 + std::chrono::seconds(5)).empty());
  CHECK(f.fuse.aborted.empty());
}

TEST_CASE("failures are reported, not hidden") {
  Fixture f;
  const auto t0 = Clock::now();
  f.life = ProcessLife::kDying;
  f.fuse.fail = true;
  CHECK(f.guard.Check(t0).empty());
  auto tried = f.guard.Check(t0 + milliseconds(1000));
  REQUIRE(tried.size() == 1);
  CHECK(tried[0].error.find("EPERM") != std::string::npos);
  CHECK(lockd::DescribeSupervisorFuseAbort(42, tried[0]).find("cannot abort FUSE connection") !=
        std::string::npos);
  f.marks_fail = true;
  tried = f.guard.Check(t0 + milliseconds(2000));
  REQUIRE(tried.size() == 1);
  CHECK(tried[0].connection.empty());
  CHECK(lockd::DescribeSupervisorFuseAbort(42, tried[0]).find("fdinfo: EACCES") !=
        std::string::npos);
}
