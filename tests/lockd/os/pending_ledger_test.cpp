// lockd/os/pending_ledger.h: slots by fd number, shared with a forked child that is killed
// while it writes (the supervisor's situation), and safe under concurrent writers.
#include "lockd/os/pending_ledger.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <thread>
#include <vector>

using lockd::os::PendingLedger;

TEST_CASE("ledger records, clears and hands over what is pending") {
  auto ledger = PendingLedger::Create();
  REQUIRE(ledger.ok());
  CHECK(ledger->CountPending() == 0);
  CHECK(ledger->Record(5, 1234));
  CHECK(ledger->Record(0, 0));  // the kernel may report no pid
  CHECK(ledger->Record(PendingLedger::kCapacity - 1, 77));
  CHECK(ledger->CountPending() == 3);
  ledger->Clear(5);
  CHECK(ledger->Record(9, 42));
  CHECK(ledger->Record(9, 43));  // a reused number: the latest event wins
  auto taken = ledger->TakeAll();
  REQUIRE(taken.size() == 3);
  CHECK(taken[0].fd == 0);
  CHECK(taken[0].pid == 0);
  CHECK(taken[1].fd == 9);
  CHECK(taken[1].pid == 43);
  CHECK(taken[2].fd == PendingLedger::kCapacity - 1);
  CHECK(taken[2].pid == 77);
  CHECK(ledger->CountPending() == 0);
  CHECK(ledger->TakeAll().empty());
}

TEST_CASE("ledger refuses fd numbers outside it") {
  auto ledger = PendingLedger::Create();
  REQUIRE(ledger.ok());
  CHECK_FALSE(ledger->Record(-1, 1));
  CHECK_FALSE(ledger->Record(PendingLedger::kCapacity, 1));
  ledger->Clear(-1);  // no effect, no crash
  ledger->Clear(PendingLedger::kCapacity);
  CHECK(ledger->CountPending() == 0);
}

TEST_CASE("ledger moves with its mapping") {
  auto ledger = PendingLedger::Create();
  REQUIRE(ledger.ok());
  CHECK(ledger->Record(3, 3));
  PendingLedger moved = std::move(*ledger);
  CHECK(moved.CountPending() == 1);
}

TEST_CASE("a child killed with SIGKILL while recording leaves its slots to the parent") {
  auto ledger = PendingLedger::Create();
  REQUIRE(ledger.ok());
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    for (int fd = 100; fd < 200; ++fd) (void)ledger->Record(fd, ::getpid());
    for (int fd = 100; fd < 150; ++fd) ledger->Clear(fd);  // these were answered
    (void)!::write(ready[1], "x", 1);
    // Keep writing until killed: a slot is never torn, whatever the instant of the kill.
    for (unsigned i = 0;; ++i) {
      (void)ledger->Record(1000 + static_cast<int>(i % 1000), ::getpid());
      ledger->Clear(1000 + static_cast<int>(i % 1000));
    }
  }
  ::close(ready[1]);
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  auto taken = ledger->TakeAll();
  // fds 150..199 are pending; at most one of the churn slots (1000..1999) was set at the kill.
  std::vector<int> low;
  for (const auto& e : taken) {
    if (e.fd < 1000) {
      low.push_back(e.fd);
      CHECK(e.pid == child);
    } else {
      CHECK(e.pid == child);  // a set slot holds a whole value, never a torn one
    }
  }
  REQUIRE(low.size() == 50);
  CHECK(low.front() == 150);
  CHECK(low.back() == 199);
  CHECK(taken.size() <= 51);
}

TEST_CASE("concurrent writers on their own fd numbers never disturb each other") {
  auto ledger = PendingLedger::Create();
  REQUIRE(ledger.ok());
  PendingLedger* l = &*ledger;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([l, t] {
      for (int round = 0; round < 2000; ++round) {
        for (int fd = t * 100; fd < t * 100 + 100; ++fd) (void)l->Record(fd, 1000 + t);
        // Leave the even ones pending in the last round.
        for (int fd = t * 100; fd < t * 100 + 100; ++fd) {
          if (round < 1999 || fd % 2 == 1) l->Clear(fd);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  auto taken = ledger->TakeAll();
  REQUIRE(taken.size() == 200);
  for (const auto& e : taken) {
    CHECK(e.fd % 2 == 0);
    CHECK(e.pid == 1000 + e.fd / 100);
  }
}

TEST_CASE("a dead decider's events are denied from the ledger; the sweep runs only mid-read") {
  auto ledger = lockd::os::PendingLedger::Create();
  REQUIRE(ledger.ok());
  // What the kernel still holds, by fd number (a deny for any other number is ENOENT).
  std::set<int> pending = {5, 7, 9};
  std::vector<int> written;
  auto deny = [&](int fd) {
    written.push_back(fd);
    return pending.erase(fd) == 1 ? 0 : ENOENT;
  };
  // The decider recorded 5 and 7 and died outside a read: the ledger is exact, no sweep
  // (event 9 would be another reader's: there is none, but nothing is swept blindly).
  REQUIRE(ledger->Record(5, 100));
  REQUIRE(ledger->Record(7, 101));
  auto report = lockd::os::DenyOrphans(&*ledger, deny, 1024);
  CHECK(report.denied == 2);
  CHECK(report.denied_outside_ledger == 0);
  CHECK_FALSE(report.swept);
  CHECK(report.pids == std::vector<pid_t>{100, 101});
  CHECK(written.size() == 2);
  CHECK(ledger->CountPending() == 0);

  // Died inside a read: event 9 was read but never recorded; the sweep finds it.
  ledger->BeginRead();
  written.clear();
  report = lockd::os::DenyOrphans(&*ledger, deny, 1024);
  CHECK(report.swept);
  CHECK(report.denied == 1);
  CHECK(report.denied_outside_ledger == 1);
  CHECK(written.size() == 1024);
  CHECK(pending.empty());
  CHECK_FALSE(ledger->ReadInProgress());  // reset for the next decider

  // Without a ledger nothing is known: always sweep.
  written.clear();
  report = lockd::os::DenyOrphans(nullptr, deny, 64);
  CHECK(report.swept);
  CHECK(written.size() == 64);
}
