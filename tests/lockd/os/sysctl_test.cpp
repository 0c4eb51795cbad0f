// lockd/os/sysctl.h: the /proc/sys interface against a plain directory, and SetMemfdNoexec
// against the real kernel inside a fresh pid namespace only (vm.memfd_noexec is per pid
// namespace and can never be lowered once 2: the machine's own namespace is never written).
#include "lockd/os/sysctl.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/support/db_fixture.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

using lockd::os::MemfdNoexecResult;
using lockd::os::Sysctl;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// waitpid with a deadline; kills the child on timeout. Returns the wait status or -1.
int WaitWithTimeout(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE("sysctl names map to paths under the root and cannot escape it") {
  Sysctl s("/proc/sys");
  auto p = s.PathOf("vm.memfd_noexec");
  REQUIRE(p.ok());
  CHECK(*p == "/proc/sys/vm/memfd_noexec");
  CHECK(*s.PathOf("kernel.yama.ptrace_scope") == "/proc/sys/kernel/yama/ptrace_scope");
  for (const char* bad : {"", ".", "vm..x", "vm.", ".vm", "vm/x", "..", "vm.../x", "a b"}) {
    auto r = s.PathOf(bad);
    CHECK_FALSE_MESSAGE(r.ok(), bad);
    if (!r.ok()) CHECK(r.error().code == hashdb::ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("read, parse and write values in a fake /proc/sys") {
  testsupport::TempDir dir;
  REQUIRE(::mkdir(dir.Join("vm").c_str(), 0755) == 0);
  testsupport::WriteFile(dir.Join("vm/memfd_noexec"), "1\n");
  testsupport::WriteFile(dir.Join("vm/junk"), "one two\n");
  Sysctl s(dir.path());

  auto v = s.ReadInt("vm.memfd_noexec");
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  CHECK(**v == 1);
  auto text = s.Read("vm.junk");
  REQUIRE(text.ok());
  CHECK(**text == "one two");
  auto junk = s.ReadInt("vm.junk");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.error().code == hashdb::ErrorCode::kFormat);
  auto absent = s.ReadInt("vm.nothing_here");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());

  REQUIRE(s.Write("vm.memfd_noexec", "2").ok());
  CHECK(ReadAll(dir.Join("vm/memfd_noexec")) == "2\n");
  auto missing = s.Write("vm.nothing_here", "1");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == hashdb::ErrorCode::kNotFound);
}

TEST_CASE("SetMemfdNoexec against a fake /proc/sys: set, already set, unsupported, refused") {
  testsupport::TempDir dir;
  REQUIRE(::mkdir(dir.Join("vm").c_str(), 0755) == 0);
  Sysctl s(dir.path());

  auto unsupported = lockd::os::SetMemfdNoexec(s);
  REQUIRE(unsupported.ok());
  CHECK(unsupported->outcome == MemfdNoexecResult::Outcome::kUnsupported);
  CHECK(unsupported->message.find("6.3") != std::string::npos);

  testsupport::WriteFile(dir.Join("vm/memfd_noexec"), "0\n");
  auto set = lockd::os::SetMemfdNoexec(s);
  REQUIRE_MESSAGE(set.ok(), (set.ok() ? "" : set.error().message));
  CHECK(set->outcome == MemfdNoexecResult::Outcome::kSet);
  CHECK(set->before == 0);
  CHECK(set->message == "vm.memfd_noexec 0 -> 2");
  CHECK(ReadAll(dir.Join("vm/memfd_noexec")) == "2\n");

  auto again = lockd::os::SetMemfdNoexec(s);
  REQUIRE(again.ok());
  CHECK(again->outcome == MemfdNoexecResult::Outcome::kAlreadySet);

  // A write the "kernel" refuses (here: the name is a directory) is an error, not a success.
  REQUIRE(::unlink(dir.Join("vm/memfd_noexec").c_str()) == 0);
  REQUIRE(::mkdir(dir.Join("vm/memfd_noexec").c_str(), 0755) == 0);
  auto refused = lockd::os::SetMemfdNoexec(s);
  CHECK_FALSE(refused.ok());
}

// The real thing, in a fresh pid namespace: before, memfd_create(MFD_EXEC) works and an ELF
// copied into a memfd runs (the control); after SetMemfdNoexec, MFD_EXEC is refused and the
// same fexecve fails. Needs root (CAP_SYS_ADMIN for unshare); skipped otherwise.
TEST_CASE("SetMemfdNoexec shuts memfd exec (fresh pid namespace, root only)") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root to create a pid namespace");
    return;
  }
  auto host_before = Sysctl().Read(lockd::os::kMemfdNoexecName);
  REQUIRE(host_before.ok());
  if (!host_before->has_value()) {
    MESSAGE("skipped: this kernel has no vm.memfd_noexec");
    return;
  }
  const std::string true_bin = ReadAll("/bin/true");
  REQUIRE(true_bin.size() > 4);

  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(10);
    pid_t inner = ::fork();
    if (inner < 0) ::_exit(11);
    if (inner == 0) {
      // Safety: never write the sysctl unless we are pid 1 of a namespace we just made.
      if (::getpid() != 1) ::_exit(12);
      // Runs the ELF in fd through fexecve in a grandchild; its exit code, or 100 + errno.
      auto run_memfd = [](int fd) -> int {
        pid_t p = ::fork();
        if (p == 0) {
          char* argv[] = {const_cast<char*>("true"), nullptr};
          char* envp[] = {nullptr};
          ::fexecve(fd, argv, envp);
          ::_exit(100 + (errno & 0x1f));
        }
        int st = 0;
        ::waitpid(p, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
      };
      auto fill = [&](int fd) {
        return ::write(fd, true_bin.data(), true_bin.size()) ==
               static_cast<ssize_t>(true_bin.size());
      };
      auto before = Sysctl().ReadInt(lockd::os::kMemfdNoexecName);
      if (!before.ok() || !before->has_value()) ::_exit(13);
      if (**before == 0) {  // control: exec from a memfd works before
        int fd = ::memfd_create("control", MFD_EXEC);
        if (fd < 0 || !fill(fd) || ::fchmod(fd, 0755) != 0) ::_exit(14);
        if (run_memfd(fd) != 0) ::_exit(15);
        ::close(fd);
      }
      auto r = lockd::os::SetMemfdNoexec();
      if (!r.ok()) ::_exit(16);
      if (r->outcome == MemfdNoexecResult::Outcome::kUnsupported) ::_exit(17);
      auto after = Sysctl().ReadInt(lockd::os::kMemfdNoexecName);
      if (!after.ok() || !after->has_value() || **after != 2) ::_exit(18);
      if (::memfd_create("exec", MFD_EXEC) >= 0 || errno != EACCES) ::_exit(19);
      int fd = ::memfd_create("plain", 0);
      if (fd < 0 || !fill(fd)) ::_exit(20);
      if (::fchmod(fd, 0755) == 0) ::_exit(21);  // F_SEAL_EXEC: mode cannot gain x
      if (run_memfd(fd) == 0) ::_exit(22);       // the copy of /bin/true must not run
      ::_exit(42);
    }
    int st = WaitWithTimeout(inner, std::chrono::seconds(20));
    ::_exit(st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 98);
  }
  int status = WaitWithTimeout(child, std::chrono::seconds(30));
  REQUIRE(status >= 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 42);
  // The machine's own namespace was not touched.
  auto host_after = Sysctl().Read(lockd::os::kMemfdNoexecName);
  REQUIRE(host_after.ok());
  CHECK(*host_after == *host_before);
}
