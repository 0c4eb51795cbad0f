#include "lockd/os/process_args.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/support/db_fixture.h"

extern char** environ;

using lockd::os::Lookup;

namespace {

lockd::os::FileId IdOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

TEST_CASE("our own command line and environment, split at NULs") {
  auto dir = lockd::os::OpenProcessDir(::getpid());
  REQUIRE(dir.ok());
  auto argv = lockd::os::ReadProcessList(dir->get(), "cmdline");
  REQUIRE(argv.ok());
  REQUIRE_FALSE(argv->empty());
  CHECK((*argv)[0].find("lockd_tests") != std::string::npos);
  auto env = lockd::os::ReadProcessList(dir->get(), "environ");
  REQUIRE(env.ok());
  CHECK_FALSE(lockd::os::ReadProcessList(dir->get(), "no-such-file").ok());
}

TEST_CASE("paths resolve as the process resolves them, by identity, from the dentry cache") {
  testsupport::TempDir tmp;
  testsupport::WriteFile(tmp.Join("script"), "echo hi\n");
  REQUIRE(::symlink("script", tmp.Join("link").c_str()) == 0);
  const auto id = IdOf(tmp.Join("script"));
  auto dir = lockd::os::OpenProcessDir(::getpid());
  REQUIRE(dir.ok());
  // Absolute, through a symlink (stat above put both in the dentry cache).
  (void)IdOf(tmp.Join("link"));
  auto r = lockd::os::ResolveForProcess(dir->get(), tmp.Join("link"));
  REQUIRE(r.lookup == Lookup::kFound);
  CHECK(r.id == id);
  // Relative to the process's cwd.
  char old[4096];
  REQUIRE(::getcwd(old, sizeof old) != nullptr);
  REQUIRE(::chdir(tmp.path().c_str()) == 0);
  r = lockd::os::ResolveForProcess(dir->get(), "script");
  CHECK(r.lookup == Lookup::kFound);
  CHECK(r.id == id);
  // Absent (a negative dentry: looked up once), or never known: absent or not cached, never
  // found.
  struct stat st {};
  CHECK(::stat("absent", &st) != 0);
  CHECK(lockd::os::ResolveForProcess(dir->get(), "absent").lookup == Lookup::kAbsent);
  CHECK(lockd::os::ResolveForProcess(dir->get(), "").lookup == Lookup::kAbsent);
  // $PATH: the first directory holding the name; empty entries are the cwd.
  REQUIRE(::mkdir(tmp.Join("bin").c_str(), 0755) == 0);
  testsupport::WriteFile(tmp.Join("bin/tool"), "echo tool\n");
  const auto tool = IdOf(tmp.Join("bin/tool"));
  CHECK(::stat(tmp.Join("nope/tool").c_str(), &st) != 0);
  r = lockd::os::ResolveInSearchPath(dir->get(), "tool", tmp.Join("nope") + ":" + tmp.Join("bin"));
  CHECK(r.lookup == Lookup::kFound);
  CHECK(r.id == tool);
  r = lockd::os::ResolveInSearchPath(dir->get(), "script", "::/nonexistent");
  CHECK(r.lookup == Lookup::kFound);
  CHECK(r.id == id);
  CHECK(lockd::os::ResolveInSearchPath(dir->get(), "bin/tool", tmp.path()).lookup ==
        Lookup::kAbsent);
  REQUIRE(::chdir(old) == 0);
}

TEST_CASE("an environ fd tells whether the process still runs the image it was opened on") {
  int go[2];
  REQUIRE(::pipe(go) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    char c;
    (void)!::read(go[0], &c, 1);
    ::execl("/bin/sleep", "sleep", "5", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(go[0]);
  auto dir = lockd::os::OpenProcessDir(child);
  REQUIRE(dir.ok());
  auto env = lockd::os::OpenEnvironment(dir->get());
  REQUIRE(env.ok());
  const bool before = lockd::os::ProcessImageAlive(env->get());
  (void)!::write(go[1], "x", 1);
  ::close(go[1]);
  // After the exec the old address space is gone (sleep has a new one).
  bool after = true;
  for (int i = 0; i < 200 && after; ++i) {
    after = lockd::os::ProcessImageAlive(env->get());
    if (after) ::usleep(10000);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(before == (environ != nullptr && environ[0] != nullptr));
  CHECK_FALSE(after);
}
