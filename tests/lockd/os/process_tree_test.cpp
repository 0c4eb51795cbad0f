#include "lockd/os/process_tree.h"

#include <doctest/doctest.h>
#include <unistd.h>

TEST_CASE("stat line: ppid and start time counted from the last ')'") {
  const std::string stat =
      "4242 (we ird) (x) S 100 4242 4242 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 98765 1 2 3\n";
  auto n = lockd::os::ParseProcStat(stat);
  REQUIRE(n);
  CHECK(n->pid == 4242);
  CHECK(n->ppid == 100);
  CHECK(n->start_time == 98765);
  CHECK_FALSE(lockd::os::ParseProcStat("4242 (x) S 100").has_value());
  CHECK_FALSE(lockd::os::ParseProcStat("").has_value());
  CHECK_FALSE(
      lockd::os::ParseProcStat("x (y) S 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1").has_value());
}

TEST_CASE("this process, from the real /proc") {
  const lockd::os::ProcFs procs;
  auto self = procs.Read(::getpid());
  REQUIRE(self);
  CHECK(self->pid == ::getpid());
  CHECK(self->ppid == ::getppid());
  CHECK(self->start_time > 0);
  auto parent = procs.Read(::getppid());
  REQUIRE(parent);
  CHECK(parent->start_time <= self->start_time);
  CHECK(parent->login_session == self->login_session);  // inherited
  CHECK_FALSE(procs.Read(0).has_value());
  CHECK_FALSE(lockd::os::ProcFs("/nonexistent").Read(::getpid()).has_value());
}
