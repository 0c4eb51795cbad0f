#include "lockd/script_coverage.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "lockd/os/file_probe.h"
#include "tests/support/db_fixture.h"

using lockd::ScriptCoverage;
using lockd::Tristate;

namespace {

// A fixture /proc/<pid> whose exe, cwd and root are plain symlinks and whose cmdline and
// environ are files (what ScriptCoverage reads through them is the same).
struct FakeProcess {
  testsupport::TempDir proc;
  testsupport::TempDir files;
  pid_t pid = 77;

  std::string Dir() const { return proc.Join(std::to_string(pid)); }
  void Make(const std::string& exe_name, const std::string& exe_content, const std::string& argv,
            const std::string& env) {
    REQUIRE(::mkdir(Dir().c_str(), 0700) == 0);
    testsupport::WriteFile(files.Join(exe_name), exe_content, 0755);
    REQUIRE(::symlink(files.Join(exe_name).c_str(), (Dir() + "/exe").c_str()) == 0);
    REQUIRE(::symlink(files.path().c_str(), (Dir() + "/cwd").c_str()) == 0);
    REQUIRE(::symlink("/", (Dir() + "/root").c_str()) == 0);
    testsupport::WriteFile(Dir() + "/cmdline", argv);
    testsupport::WriteFile(Dir() + "/environ", env);
  }
  lockd::FileFacts Facts(const std::string& name) const {
    int fd = ::open(files.Join(name).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto f = lockd::os::StatFd(fd);
    ::close(fd);
    REQUIRE(f.ok());
    return *f;
  }
};

std::shared_ptr<const hashdb::Database> DatabaseWithInterpreter(const std::string& content) {
  static std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  hashdb::DatabaseContents c;
  c.generation = 1;
  auto e = testsupport::EntryFor("/opt/strange-name", content);
  e.interpreter = true;
  c.entries.push_back(e);
  c.entries.push_back(testsupport::EntryFor("/bin/cat", "cat content"));
  auto bytes = testsupport::BuildBytes(c, *key);
  auto db = hashdb::Database::FromBytes(bytes, "test", testsupport::TrustOf(*key));
  REQUIRE(db.ok());
  return *db;
}

}  // namespace

TEST_CASE("an interpreter by name needs no digest") {
  FakeProcess p;
  using namespace std::string_literals;
  p.Make("python3.11", "not really python", "python3\0script\0"s, "A=1\0"s);
  ScriptCoverage s(nullptr, false, p.proc.path());
  auto o = s.Opener(p.pid, {"python3"}, nullptr);
  CHECK(o.interpreter == Tristate::kYes);
  testsupport::WriteFile(p.files.Join("script"), "print(1)\n");
  testsupport::WriteFile(p.files.Join("data"), "x\n");
  struct stat st {};
  REQUIRE(::stat(p.files.Join("script").c_str(), &st) == 0);  // into the dentry cache
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("script")) == Tristate::kYes);
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("data")) == Tristate::kNo);
  // The command line was read once for both opens.
  CHECK(s.proc_reads() == 1);
  CHECK(s.processes_cached() == 1);
}

TEST_CASE(
    "a renamed interpreter by its flagged digest; unknown until hashed; a copy of cat is not") {
  FakeProcess p;
  using namespace std::string_literals;
  p.Make("innocent", "interpreter content", "innocent\0-c\0true\0"s,
         ("BASH_ENV=" + p.files.Join("startup") + "\0"s));
  auto db = DatabaseWithInterpreter("interpreter content");
  ScriptCoverage s([](std::uint64_t) { return true; }, false, p.proc.path());
  // Not hashed yet: unknown (the caller judges script-like files).
  CHECK(s.Opener(p.pid, {"bash"}, db.get()).interpreter == Tristate::kUnknown);
  s.HashPending();
  CHECK(s.digests_cached() == 1);
  auto o = s.Opener(p.pid, {"bash"}, db.get());
  CHECK(o.interpreter == Tristate::kYes);
  // Its BASH_ENV names a start-up file (family "other": every start-up variable counts).
  testsupport::WriteFile(p.files.Join("startup"), "echo x\n");
  struct stat st {};
  REQUIRE(::stat(p.files.Join("startup").c_str(), &st) == 0);
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("startup")) == Tristate::kYes);

  FakeProcess q;
  q.Make("mycat", "cat content", "mycat\0file\0"s, ""s);
  ScriptCoverage t([](std::uint64_t) { return true; }, false, q.proc.path());
  (void)t.Opener(q.pid, {"bash"}, db.get());
  t.HashPending();
  CHECK(t.Opener(q.pid, {"bash"}, db.get()).interpreter == Tristate::kNo);
  // Where lockd checks no execs, a digest not known yet leaves the name to decide.
  ScriptCoverage u([](std::uint64_t) { return false; }, false, q.proc.path());
  CHECK(u.Opener(q.pid, {"bash"}, db.get()).interpreter == Tristate::kNo);
}

TEST_CASE("an exec drops the process's cached command line; a gone process is unknown") {
  FakeProcess p;
  using namespace std::string_literals;
  p.Make("bash", "b", "bash\0script\0"s, "A=1\0"s);
  ScriptCoverage s(nullptr, false, p.proc.path());
  auto o = s.Opener(p.pid, {"bash"}, nullptr);
  testsupport::WriteFile(p.files.Join("data"), "x\n");
  // A name never resolvable from the dentry cache: unknown (judged), never "no".
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("data")) != Tristate::kNo);
  testsupport::WriteFile(p.files.Join("script"), "echo\n");
  struct stat st {};
  REQUIRE(::stat(p.files.Join("script").c_str(), &st) == 0);
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("data")) == Tristate::kNo);
  int fd = ::open(p.files.Join("data").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  s.OnExec(p.pid, fd, p.Facts("data"), false);
  ::close(fd);
  CHECK(s.processes_cached() == 0);
  CHECK(s.digests_cached() == 1);  // hashed at once through the event fd
  CHECK(s.NamedByProcess(p.pid + 1, o, p.Facts("data")) == Tristate::kUnknown);
}
