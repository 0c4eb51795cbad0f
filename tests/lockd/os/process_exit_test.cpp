#include "lockd/os/process_exit.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

using lockd::os::ParseProcessLife;
using lockd::os::ProcessLife;

TEST_CASE("status text: running, zombie, SIGKILL pending") {
  CHECK(ParseProcessLife("Name:\tlockd\nState:\tS (sleeping)\nSigPnd:\t0000000000000000\n"
                         "ShdPnd:\t0000000000000000\n") == ProcessLife::kAlive);
  // Other signals pending (SIGTERM, bit 15) are not a death.
  CHECK(ParseProcessLife("State:\tR (running)\nSigPnd:\t0000000000004000\nShdPnd:\t0\n") ==
        ProcessLife::kAlive);
  CHECK(ParseProcessLife("Name:\tlockd\nState:\tZ (zombie)\n") == ProcessLife::kDying);
  CHECK(ParseProcessLife("State:\tX (dead)\n") == ProcessLife::kDying);
  // A leader stuck in an uninterruptible wait after kill -9: D, with SIGKILL (bit 9) pending.
  CHECK(ParseProcessLife("State:\tD (disk sleep)\nSigPnd:\t0000000000000100\nShdPnd:\t0\n") ==
        ProcessLife::kDying);
  CHECK(ParseProcessLife("State:\tD (disk sleep)\nSigPnd:\t0\nShdPnd:\t0000000000000100\n") ==
        ProcessLife::kDying);
  CHECK(ParseProcessLife("State:\tD (disk sleep)\nSigPnd:\t0\nShdPnd:\t0\n") ==
        ProcessLife::kAlive);
  CHECK(ParseProcessLife("") == ProcessLife::kGone);
  CHECK(ParseProcessLife("Name:\tx\nStates:\tZ\n") == ProcessLife::kGone);
}

TEST_CASE("a real child: alive, then a zombie until reaped, then gone") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  CHECK(lockd::os::ReadProcessLife(child) == ProcessLife::kAlive);
  REQUIRE(::kill(child, SIGKILL) == 0);
  ProcessLife life = ProcessLife::kAlive;
  for (int i = 0; i < 200 && life == ProcessLife::kAlive; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    life = lockd::os::ReadProcessLife(child);
  }
  CHECK(life == ProcessLife::kDying);  // not reaped yet: a zombie
  int st = 0;
  REQUIRE(::waitpid(child, &st, 0) == child);
  CHECK(lockd::os::ReadProcessLife(child) == ProcessLife::kGone);
}
