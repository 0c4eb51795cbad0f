#include "lockd/os/process_info.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/db_fixture.h"

TEST_CASE("facts of our own process") {
  auto f = lockd::os::ReadProcessFacts(::getpid());
  CHECK(f.pid == ::getpid());
  CHECK(f.ppid == ::getppid());
  CHECK(f.uid == static_cast<long>(::getuid()));
  CHECK(f.exe.find("lockd_tests") != std::string::npos);
}

TEST_CASE("a process that does not exist gives empty facts, not an error") {
  auto f = lockd::os::ReadProcessFacts(999999999);
  CHECK(f.ppid == -1);
  CHECK(f.uid == -1);
  CHECK(f.exe.empty());
}

TEST_CASE("fixture /proc tree") {
  testsupport::TempDir dir;
  REQUIRE(::mkdir(dir.Join("77").c_str(), 0700) == 0);
  testsupport::WriteFile(dir.Join("77/status"),
                         "Name:\tx\nPPid:\t12\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\n");
  REQUIRE(::symlink("/opt/evil\nname", dir.Join("77/exe").c_str()) == 0);
  auto f = lockd::os::ReadProcessFacts(77, dir.path());
  CHECK(f.ppid == 12);
  CHECK(f.uid == 1000);
  CHECK(f.exe == "/opt/evil\nname");
}

TEST_CASE("FdPath names the file behind a descriptor") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("x"), "x");
  int fd = ::open(dir.Join("x").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(lockd::os::FdPath(fd) == dir.Join("x"));
  ::close(fd);
}
