// lockd/userns_policy.h: the plan (pure), the record and the writes against a plain directory,
// and the real kernel setting inside a child user namespace only: user.max_user_namespaces is
// per user namespace, so the child changes its own value and never the machine's.
#include "lockd/userns_policy.h"

#include <doctest/doctest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/support/db_fixture.h"

using lockd::PlanUserNamespaces;

namespace {

class CountingSink : public lockd::DecisionSink {
 public:
  void OnDecision(const lockd::DecisionRecord&) override {}
  void OnDaemonEvent(const lockd::DaemonEvent& e) override {
    if (e.kind == lockd::DaemonEventKind::kError) ++errors;
  }
  int errors = 0;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string kMax = "user.max_user_namespaces";
const std::string kClone = "kernel.unprivileged_userns_clone";

}  // namespace

TEST_CASE("plan: on sets the count limit to 0 and records the value found first") {
  auto p = PlanUserNamespaces(true, {{kMax, 96367L}, {kClone, std::nullopt}}, {});
  CHECK(p.writes == std::vector<std::pair<std::string, long>>{{kMax, 0}});
  CHECK(p.record == std::map<std::string, long>{{kMax, 96367}});
  // A restart finds 0 (set by lockd) and keeps the record of the admin's value.
  auto again = PlanUserNamespaces(true, {{kMax, 0L}}, {{kMax, 96367}});
  CHECK(again.writes.empty());
  CHECK(again.record == std::map<std::string, long>{{kMax, 96367}});
  // Already 0 before lockd ever ran: nothing to do, nothing to restore.
  auto admin = PlanUserNamespaces(true, {{kMax, 0L}}, {});
  CHECK(admin.writes.empty());
  CHECK(admin.record.empty());
}

TEST_CASE("plan: Debian's unprivileged_userns_clone is preferred where the kernel has it") {
  auto p = PlanUserNamespaces(true, {{kMax, 96367L}, {kClone, 1L}}, {});
  CHECK(p.writes == std::vector<std::pair<std::string, long>>{{kClone, 0}});
  CHECK(p.record == std::map<std::string, long>{{kClone, 1}});
  CHECK(PlanUserNamespaces(true, {{kMax, 96367L}, {kClone, 0L}}, {}).writes.empty());
}

TEST_CASE("plan: off puts back what lockd recorded, and nothing else") {
  auto p = PlanUserNamespaces(false, {{kMax, 0L}}, {{kMax, 96367}});
  CHECK(p.writes == std::vector<std::pair<std::string, long>>{{kMax, 96367}});
  CHECK(p.record.empty());
  CHECK(PlanUserNamespaces(false, {{kMax, 5L}}, {}).writes.empty());
}

TEST_CASE("apply against a directory: record before the write, restore and forget when off") {
  testsupport::TempDir dir;
  ::mkdir(dir.Join("sys").c_str(), 0755);
  ::mkdir(dir.Join("sys/user").c_str(), 0755);
  testsupport::WriteFile(dir.Join("sys/user/max_user_namespaces"), "96367\n");
  const lockd::os::Sysctl sysctl(dir.Join("sys"));
  const lockd::StateStore state(dir.Join("state"));
  CountingSink sink;
  lockd::ApplyUserNamespacePolicy(true, state, sink, 1, sysctl);
  CHECK(ReadAll(dir.Join("sys/user/max_user_namespaces")) == "0\n");
  CHECK(ReadAll(state.SysctlRecordPath()) == "user.max_user_namespaces=96367\n");
  CHECK(sink.errors == 0);
  // A second start keeps the first record.
  lockd::ApplyUserNamespacePolicy(true, state, sink, 1, sysctl);
  CHECK(ReadAll(state.SysctlRecordPath()) == "user.max_user_namespaces=96367\n");
  lockd::ApplyUserNamespacePolicy(false, state, sink, 2, sysctl);
  CHECK(ReadAll(dir.Join("sys/user/max_user_namespaces")) == "96367\n");
  CHECK(::access(state.SysctlRecordPath().c_str(), F_OK) != 0);
  CHECK(sink.errors == 0);
  // A record that does not parse: nothing is written (the value to restore would be lost).
  testsupport::WriteFile(state.SysctlRecordPath(), "garbage\n");
  lockd::ApplyUserNamespacePolicy(true, state, sink, 3, sysctl);
  CHECK(ReadAll(dir.Join("sys/user/max_user_namespaces")) == "96367\n");
  CHECK(sink.errors == 1);
}

TEST_CASE("apply against a kernel without either setting: an error event, nothing written") {
  testsupport::TempDir dir;
  ::mkdir(dir.Join("sys").c_str(), 0755);
  CountingSink sink;
  lockd::ApplyUserNamespacePolicy(true, lockd::StateStore(dir.Join("state")), sink, 1,
                                  lockd::os::Sysctl(dir.Join("sys")));
  CHECK(sink.errors == 1);
  CHECK(::access(dir.Join("state/sysctl-restore").c_str(), F_OK) != 0);
}

TEST_CASE("the real setting, in a child user namespace: on refuses new user namespaces") {
  struct stat host_ns {};
  REQUIRE(::stat("/proc/self/ns/user", &host_ns) == 0);
  testsupport::TempDir dir;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Exit codes: 0 ok, 77 no user namespaces here (skip), 10+ a failed step.
    const std::string id = std::to_string(::geteuid());
    const std::string gid = std::to_string(::getegid());
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(77);
    struct stat own {};
    // Never write unless this process is in a user namespace of its own.
    if (::stat("/proc/self/ns/user", &own) != 0 || own.st_ino == host_ns.st_ino) ::_exit(10);
    // Map our own ids, so that we may create user namespaces below this one at all.
    std::ofstream("/proc/self/setgroups") << "deny";
    std::ofstream("/proc/self/uid_map") << "0 " << id << " 1";
    std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
    CountingSink sink;
    const lockd::StateStore state(dir.Join("state"));
    lockd::ApplyUserNamespacePolicy(true, state, sink, 1, lockd::os::Sysctl());
    if (sink.errors != 0) ::_exit(11);
    if (ReadAll("/proc/sys/user/max_user_namespaces") != "0\n") ::_exit(12);
    const pid_t probe = ::fork();
    if (probe == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno == ENOSPC ? 1 : 2));
    int st = 0;
    ::waitpid(probe, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) ::_exit(13);  // must fail with ENOSPC
    if (ReadAll(state.SysctlRecordPath()).rfind("user.max_user_namespaces=", 0) != 0) ::_exit(14);
    lockd::ApplyUserNamespacePolicy(false, state, sink, 2, lockd::os::Sysctl());
    if (ReadAll("/proc/sys/user/max_user_namespaces") == "0\n") ::_exit(15);
    const pid_t again = ::fork();
    if (again == 0) ::_exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    ::waitpid(again, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ::_exit(16);
    ::_exit(0);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("child did not finish in 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    MESSAGE("user namespaces are not available here: skipped");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
}
