// lockd/exec_followup.h: which refused opens only follow a refused exec.
#include "lockd/exec_followup.h"

#include <doctest/doctest.h>

using lockd::ExecFollowUps;
using std::chrono::milliseconds;

TEST_CASE("an open of the same file by the same process within the window follows the exec") {
  ExecFollowUps f;
  const auto t0 = ExecFollowUps::Clock::time_point{} + std::chrono::hours(1);
  f.NoteRefusedExec(100, 7, 42, t0);
  CHECK(f.IsFollowUp(100, 7, 42, t0 + milliseconds(10)));
  CHECK_FALSE(f.IsFollowUp(101, 7, 42, t0 + milliseconds(10)));  // another process
  CHECK_FALSE(f.IsFollowUp(100, 7, 43, t0 + milliseconds(10)));  // another file
  CHECK_FALSE(f.IsFollowUp(100, 8, 42, t0 + milliseconds(10)));  // another filesystem
  CHECK_FALSE(f.IsFollowUp(100, 7, 42, t0 + ExecFollowUps::kWindow));  // too late
  CHECK_FALSE(f.IsFollowUp(100, 7, 42, t0 - milliseconds(1)));          // before it
}

TEST_CASE("only the most recent refused execs are remembered (bounded)") {
  ExecFollowUps f;
  const auto t0 = ExecFollowUps::Clock::time_point{} + std::chrono::hours(1);
  for (pid_t p = 1; p <= static_cast<pid_t>(ExecFollowUps::kCapacity) + 1; ++p) {
    f.NoteRefusedExec(p, 1, 1, t0);
  }
  CHECK_FALSE(f.IsFollowUp(1, 1, 1, t0));  // pushed out
  CHECK(f.IsFollowUp(2, 1, 1, t0));
  CHECK_FALSE(f.IsFollowUp(0, 0, 0, t0));  // an empty slot never matches
}
