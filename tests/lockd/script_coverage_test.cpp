#include "lockd/script_coverage.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "lockd/os/file_probe.h"
#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"

using lockd::ScriptCoverage;
using lockd::Tristate;

namespace {

// A fixture /proc/<pid> whose cwd and root are plain symlinks and whose cmdline and environ
// are files (what the real os/process_args.h code reads through them is the same), served by
// FakeEventKernel, which also names the process's executable.
struct FakeProcess {
  testsupport::TempDir proc;
  testsupport::TempDir files;
  testsupport::FakeEventKernel kernel;
  pid_t pid = 77;

  FakeProcess() { kernel.SetProcRoot(proc.path()); }
  std::string Dir() const { return proc.Join(std::to_string(pid)); }
  void Make(const std::string& exe_name, const std::string& exe_content, const std::string& argv,
            const std::string& env) {
    REQUIRE(::mkdir(Dir().c_str(), 0700) == 0);
    testsupport::WriteFile(files.Join(exe_name), exe_content, 0755);
    kernel.SetProcess(pid, files.Join(exe_name));
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

// Which filesystems lockd checks execs on: all, or none.
struct Coverage : lockd::FilesystemCoverage {
  explicit Coverage(bool all_marked) : marked(all_marked) {}
  bool FilesystemMarked(std::uint64_t) const override { return marked; }
  bool Untrusted(std::uint64_t) const override { return false; }
  std::string EventPath(int, const std::string& raw) const override { return raw; }
  bool marked;
};

hashdb::Digest DigestOf(const std::string& content) {
  return testsupport::EntryFor("/x", content).digest;
}

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
  ScriptCoverage s(p.kernel, nullptr, false);
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
  Coverage all(true);
  ScriptCoverage s(p.kernel, &all, false);
  // Not hashed yet (lockd did not judge its exec): unknown (the caller judges script-like
  // files), hashed off the loop thread.
  CHECK(s.Opener(p.pid, {"bash"}, db.get()).interpreter == Tristate::kUnknown);
  CHECK(p.kernel.executable_opens() == 0);
  s.HashPending();
  CHECK(p.kernel.executable_opens() == 1);
  CHECK(s.own_hashes() == 1);
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
  ScriptCoverage t(q.kernel, &all, false);
  (void)t.Opener(q.pid, {"bash"}, db.get());
  t.HashPending();
  CHECK(t.Opener(q.pid, {"bash"}, db.get()).interpreter == Tristate::kNo);
  // Where lockd checks no execs, a digest not known yet leaves the name to decide.
  Coverage none(false);
  ScriptCoverage u(q.kernel, &none, false);
  CHECK(u.Opener(q.pid, {"bash"}, db.get()).interpreter == Tristate::kNo);
}

TEST_CASE("an exec drops the process's cached command line; a gone process is unknown") {
  FakeProcess p;
  using namespace std::string_literals;
  p.Make("bash", "b", "bash\0script\0"s, "A=1\0"s);
  ScriptCoverage s(p.kernel, nullptr, false);
  auto o = s.Opener(p.pid, {"bash"}, nullptr);
  testsupport::WriteFile(p.files.Join("data"), "x\n");
  // A name never resolvable from the dentry cache: unknown (judged), never "no".
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("data")) != Tristate::kNo);
  testsupport::WriteFile(p.files.Join("script"), "echo\n");
  struct stat st {};
  REQUIRE(::stat(p.files.Join("script").c_str(), &st) == 0);
  CHECK(s.NamedByProcess(p.pid, o, p.Facts("data")) == Tristate::kNo);
  s.OnExec(p.pid);
  CHECK(s.processes_cached() == 0);
  CHECK(s.NamedByProcess(p.pid + 1, o, p.Facts("data")) == Tristate::kUnknown);
}

TEST_CASE("a digest handed over for a file version is used for that version only, unhashed") {
  FakeProcess p;
  using namespace std::string_literals;
  p.Make("innocent", "interpreter content", "innocent\0script\0"s, "A=1\0"s);
  auto db = DatabaseWithInterpreter("interpreter content");
  Coverage all(true);
  ScriptCoverage s(p.kernel, &all, false);
  const lockd::FileFacts exe = p.Facts("innocent");
  s.NoteDigest(exe, DigestOf("interpreter content"));
  CHECK(s.Opener(p.pid, {"bash"}, db.get()).interpreter == Tristate::kYes);
  s.HashPending();
  CHECK(p.kernel.executable_opens() == 0);
  CHECK(s.own_hashes() == 0);
  // Another version of the same inode (rewritten since): the digest no longer applies.
  lockd::FileFacts later = exe;
  later.mtime_ns += 1;
  p.kernel.SetExecutableFacts(p.pid, later);
  CHECK(s.Opener(p.pid, {"bash"}, db.get()).interpreter == Tristate::kUnknown);
  // A version not regular (no content to stand for) is not stored.
  lockd::FileFacts dir = exe;
  dir.mode = S_IFDIR | 0755;
  dir.ino += 1000;
  s.NoteDigest(dir, DigestOf("x"));
  CHECK(s.digests_cached() == 1);
}
