#include "hashdb/scanner.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "doctest/doctest.h"
#include "hashdb/sha256.h"
#include "tests/support/db_fixture.h"

namespace {

using hashdb::FileEntry;
using hashdb::Kind;
using hashdb::ScanOptions;
using hashdb::ScanResult;
using hashdb::SkipReason;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

hashdb::Digest DigestOf(const std::string& content) {
  return hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(content.data()), content.size()});
}

void Copy(const std::string& from, const std::string& to, unsigned mode) {
  testsupport::WriteFile(to, Slurp(from), mode);
}

// Runs the scan on another thread and fails the whole test binary if it does not finish in
// time (a scan that opened a FIFO would block forever).
ScanResult ScanWithTimeout(const ScanOptions& options, int seconds = 60) {
  auto promise = std::make_shared<std::promise<hashdb::Result<ScanResult>>>();
  auto future = promise->get_future();
  std::thread([promise, options] { promise->set_value(hashdb::Scan(options)); }).detach();
  if (future.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "scan did not finish within %d s (opened a FIFO?)\n", seconds);
    std::_Exit(3);
  }
  auto result = future.get();
  if (!result.ok()) FAIL("scan failed: " << result.error().message);
  return std::move(result).value();
}

std::map<std::string, FileEntry> ByPath(const ScanResult& r) {
  std::map<std::string, FileEntry> out;
  for (const FileEntry& e : r.entries) out[e.path] = e;
  return out;
}

// A tree with every kind of thing the scanner meets. Paths relative to the root.
struct Tree {
  testsupport::TempDir dir;
  std::string root;
  Tree() : root(dir.Join("root")) {
    REQUIRE(::mkdir(root.c_str(), 0755) == 0);
    for (const char* d : {"bin", "lib", "share", "excluded", "empty"}) {
      REQUIRE(::mkdir(Path(d).c_str(), 0755) == 0);
    }
    Copy("/bin/true", Path("bin/true"), 0755);
    REQUIRE(::link(Path("bin/true").c_str(), Path("bin/true-hardlink").c_str()) == 0);
    Copy("/lib/x86_64-linux-gnu/libz.so.1", Path("lib/libz.so.1"), 0644);
    testsupport::WriteFile(Path("bin/run"), "#!/bin/sh\necho run\n", 0644);
    testsupport::WriteFile(Path("lib/mod.py"), "import os\n", 0644);
    testsupport::WriteFile(Path("bin/tool"), "not really a program\n", 0700);
    testsupport::WriteFile(Path("share/readme.txt"), "just data\n", 0644);
    testsupport::WriteFile(Path("excluded/hidden.sh"), "#!/bin/sh\n", 0755);
    testsupport::WriteFile(Path("bin/bad\xff\xfe.sh"), "echo non-utf8\n", 0644);
    testsupport::WriteFile(Path("bin/new\nline"), "#!/bin/sh\necho newline\n", 0755);
    REQUIRE(::symlink("true", Path("bin/link-to-true").c_str()) == 0);
    REQUIRE(::symlink("../bin", Path("share/link-to-bin").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", Path("bin/abs-link.py").c_str()) == 0);
    REQUIRE(::mkfifo(Path("bin/fifo").c_str(), 0755) == 0);
    REQUIRE(::mkfifo(Path("lib/fifo.py").c_str(), 0644) == 0);
  }
  std::string Path(const std::string& rel) const { return root + "/" + rel; }
};

}  // namespace

TEST_CASE("scan records code files with correct digests and kinds, and nothing else") {
  Tree t;
  ScanOptions options;
  options.roots = {t.root};
  options.excludes = {"*/excluded/*"};
  ScanResult r = ScanWithTimeout(options);
  auto by_path = ByPath(r);

  const std::string true_content = Slurp("/bin/true");
  std::map<std::string, std::pair<Kind, std::string>> expected = {
      {"bin/true", {Kind::kElfExecutable, true_content}},
      {"bin/true-hardlink", {Kind::kElfExecutable, true_content}},
      {"lib/libz.so.1", {Kind::kElfSharedObject, Slurp("/lib/x86_64-linux-gnu/libz.so.1")}},
      {"bin/run", {Kind::kScript, "#!/bin/sh\necho run\n"}},
      {"lib/mod.py", {Kind::kScript, "import os\n"}},
      {"bin/tool", {Kind::kOtherExecutable, "not really a program\n"}},
      {"bin/bad\xff\xfe.sh", {Kind::kScript, "echo non-utf8\n"}},
      {"bin/new\nline", {Kind::kScript, "#!/bin/sh\necho newline\n"}},
  };
  CHECK(r.entries.size() == expected.size());
  for (const auto& entry : expected) {
    const std::string& rel = entry.first;  // not a structured binding: CAPTURE's lambda
    const auto& want = entry.second;       // captures it, which clang 14 refuses
    CAPTURE(rel);
    auto it = by_path.find(t.Path(rel));
    REQUIRE(it != by_path.end());
    CHECK(it->second.kind == want.first);
    CHECK(it->second.digest == DigestOf(want.second));
    CHECK(it->second.size == want.second.size());
    CHECK((it->second.mode & 0777) != 0);
    CHECK(S_ISREG(it->second.mode));
  }
  CHECK(std::is_sorted(r.entries.begin(), r.entries.end(),
                       [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; }));
  // Symlinks (to files and to directories), FIFOs and excluded files are not recorded.
  CHECK(r.report.not_regular == 5);  // 3 symlinks, 2 FIFOs
  CHECK(r.report.excluded == 1);
  CHECK(r.report.not_code == 1);  // readme.txt
  CHECK(r.report.files_recorded == expected.size());
  CHECK(r.report.skipped_total == 0);
  CHECK(r.report.directories == 6);  // root + 5 (the excluded directory itself is walked)
  std::uint64_t bytes = 0;
  for (const auto& e : r.entries) bytes += e.size;
  CHECK(r.report.bytes_hashed == bytes);
}

TEST_CASE("scan results do not depend on the number of threads") {
  Tree t;
  ScanOptions one;
  one.roots = {t.root};
  one.threads = 1;
  ScanOptions many = one;
  many.threads = 7;
  ScanResult a = ScanWithTimeout(one);
  ScanResult b = ScanWithTimeout(many);
  REQUIRE(a.entries.size() == b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    CHECK(a.entries[i].path == b.entries[i].path);
    CHECK(a.entries[i].digest == b.entries[i].digest);
  }
  CHECK(b.report.threads == 7);
}

TEST_CASE("strip prefix records the paths the terminal will see") {
  Tree t;
  ScanOptions options;
  options.roots = {t.Path("bin"), t.root + "/./lib/"};
  options.strip_prefix = t.root + "/";
  options.excludes = {"/lib/*.py"};  // patterns see the recorded path
  ScanResult r = ScanWithTimeout(options);
  auto by_path = ByPath(r);
  CHECK(by_path.count("/bin/true") == 1);
  CHECK(by_path.count("/lib/libz.so.1") == 1);
  CHECK(by_path.count("/lib/mod.py") == 0);
  CHECK(r.report.excluded == 2);  // lib/mod.py and the FIFO lib/fifo.py

  ScanOptions outside = options;
  outside.roots = {"/usr/bin"};
  auto bad = hashdb::Scan(outside);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("strip prefix") != std::string::npos);
}

TEST_CASE("overlapping roots record each path once") {
  Tree t;
  ScanOptions options;
  options.roots = {t.root, t.Path("bin")};
  ScanResult r = ScanWithTimeout(options);
  auto by_path = ByPath(r);
  CHECK(by_path.size() == r.entries.size());
}

TEST_CASE("bad roots fail the scan with a clear reason") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("file"), "x");
  REQUIRE(::symlink(dir.path().c_str(), dir.Join("link").c_str()) == 0);
  for (const std::string& root :
       {dir.Join("missing"), dir.Join("file"), dir.Join("link"), dir.path() + "/../x"}) {
    CAPTURE(root);
    ScanOptions options;
    options.roots = {root};
    auto r = hashdb::Scan(options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(root.substr(0, root.find("/.."))) != std::string::npos);
  }
  CHECK_FALSE(hashdb::Scan(ScanOptions{}).ok());
}

TEST_CASE("pseudo filesystems are skipped and reported") {
  ScanOptions options;
  options.roots = {"/proc", "/sys"};
  ScanResult r = ScanWithTimeout(options);
  CHECK(r.entries.empty());
  CHECK(r.report.skipped_by_reason[static_cast<std::size_t>(SkipReason::kPseudoFilesystem)] == 2);
  REQUIRE(r.report.skipped.size() == 2);
  CHECK(r.report.skipped[0].path == "/proc");
  CHECK(r.report.skipped[0].detail == "fs type proc");
}

TEST_CASE("unreadable files and directories are reported, not fatal") {
  Tree t;
  testsupport::WriteFile(t.Path("bin/secret"), "#!/bin/sh\n", 0);
  REQUIRE(::mkdir(t.Path("locked").c_str(), 0) == 0);
  REQUIRE(::chmod(t.dir.path().c_str(), 0755) == 0);
  // Root reads mode-000 files, so the scan runs in a child that has dropped to nobody.
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(2);
    ScanOptions options;
    options.roots = {t.root};
    options.threads = 2;
    auto r = hashdb::Scan(options);
    if (!r.ok()) ::_exit(3);
    std::string out = "recorded " + std::to_string(r->entries.size()) + "\n";
    for (const auto& s : r->report.skipped) {
      out += std::string(hashdb::SkipReasonName(s.reason)) + " " + s.path + " " + s.detail + "\n";
    }
    if (::write(pipe_fds[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
      ::_exit(4);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CAPTURE(out);
  CHECK(out.find("open-failed " + t.Path("bin/secret") + " Permission denied\n") !=
        std::string::npos);
  CHECK(out.find("directory-failed " + t.Path("locked") + " Permission denied\n") !=
        std::string::npos);
  // bin/tool is mode 0700 and owned by root: nobody cannot read it either.
  CHECK(out.find("open-failed " + t.Path("bin/tool") + " Permission denied\n") !=
        std::string::npos);
  CHECK(out.find("recorded 8\n") == 0);
}

TEST_CASE("a file that keeps changing while hashed is never recorded with a wrong digest") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("growing.sh");
  std::string chunk(1 << 20, 'a');
  chunk[0] = '#';
  chunk[1] = '!';
  testsupport::WriteFile(path, chunk.substr(0, 16 << 10), 0755);
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return;
    // Small appends in a tight loop: the size changes during every hashing attempt, while the
    // file stays small (a few MB/s of growth).
    std::string more(16, 'b');
    while (!stop.load()) {
      if (::write(fd, more.data(), more.size()) < 0) break;
    }
    ::close(fd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ScanOptions options;
  options.roots = {dir.path()};
  ScanResult r = ScanWithTimeout(options);
  stop = true;
  appender.join();
  const std::string final_content = Slurp(path);
  if (::geteuid() == 0) {
    // With a read lease (root), a file someone holds open for writing is never hashed.
    CHECK(r.entries.empty());
    REQUIRE(r.report.skipped.size() == 1);
    CHECK(r.report.skipped[0].detail == "open for writing by another process (3 attempts)");
  }
  if (r.entries.empty()) {
    CHECK(r.report.skipped_by_reason[static_cast<std::size_t>(SkipReason::kChanged)] == 1);
    CHECK(r.report.retries == 2);
    MESSAGE("growing file was skipped as changed");
  } else {
    // Recorded: the digest must be that of the file's content at the recorded size (append
    // only, so that is the prefix of the final content).
    REQUIRE(r.entries.size() == 1);
    const FileEntry& e = r.entries[0];
    REQUIRE(e.size <= final_content.size());
    CHECK(e.digest == DigestOf(final_content.substr(0, e.size)));
    MESSAGE("growing file was recorded between appends at " << e.size << " of "
                                                            << final_content.size());
  }
}

TEST_CASE("path longer than the database allows is skipped") {
  testsupport::TempDir dir;
  std::string name(200, 'd');
  int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (int i = 0; i < 22; ++i) {  // 22 x 201 > 4096
    REQUIRE(::mkdirat(fd, name.c_str(), 0755) == 0);
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  int f = ::openat(fd, "deep.sh", O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  REQUIRE(f >= 0);
  ::close(f);
  ::close(fd);
  ScanOptions options;
  options.roots = {dir.path()};
  ScanResult r = ScanWithTimeout(options);
  CHECK(r.entries.empty());
  CHECK(r.report.skipped_by_reason[static_cast<std::size_t>(SkipReason::kPathTooLong)] == 1);
  REQUIRE(r.report.skipped.size() == 1);
  CHECK(r.report.skipped[0].path.size() == 259);  // cut to 256 bytes + "..."
  // Remove the tree through directory fds: its paths are too long for path-based removal.
  std::vector<int> fds = {::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  for (int i = 0; i < 22; ++i) {
    fds.push_back(::openat(fds.back(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  ::unlinkat(fds.back(), "deep.sh", 0);
  for (int i = 22; i > 0; --i) {
    ::close(fds[static_cast<std::size_t>(i)]);
    ::unlinkat(fds[static_cast<std::size_t>(i - 1)], name.c_str(), AT_REMOVEDIR);
  }
  ::close(fds[0]);
}

TEST_CASE("progress is reported from one thread while the scan runs") {
  ScanOptions options;
  options.roots = {"/usr/bin"};
  options.progress_interval_ms = 10;
  std::atomic<int> calls{0};
  std::atomic<int> concurrent{0};
  std::atomic<bool> overlap{false};
  std::uint64_t last_files = 0;
  bool monotonic = true;
  options.progress = [&](const hashdb::ScanProgress& p) {
    if (concurrent.fetch_add(1) != 0) overlap = true;
    if (p.files_examined < last_files) monotonic = false;
    last_files = p.files_examined;
    ++calls;
    concurrent.fetch_sub(1);
  };
  ScanResult r = ScanWithTimeout(options, 300);
  CHECK_FALSE(overlap.load());
  CHECK(monotonic);
  CHECK(r.report.files_recorded > 100);
  if (r.report.seconds > 0.1) CHECK(calls.load() >= 1);
}

TEST_CASE("a file rewritten in place (same size) is recorded only with one whole content") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("flip.sh");
  std::string a(4 << 20, 'a');
  std::string b(4 << 20, 'b');
  a[0] = b[0] = '#';
  a[1] = b[1] = '!';
  testsupport::WriteFile(path, a, 0755);
  std::atomic<bool> stop{false};
  // Opens, rewrites and closes again and again, so that there are moments without a writer
  // (a lease can be taken) and moments with a write in progress.
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return;
      const std::string& content = (i % 2 == 0) ? b : a;
      ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
      ::close(fd);
      if (n < 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  int recorded = 0;
  for (int round = 0; round < 20; ++round) {
    ScanOptions options;
    options.roots = {dir.path()};
    ScanResult r = ScanWithTimeout(options);
    if (r.entries.empty()) continue;
    ++recorded;
    CHECK((r.entries[0].digest == DigestOf(a) || r.entries[0].digest == DigestOf(b)));
  }
  stop = true;
  writer.join();
  MESSAGE("recorded in " << recorded << " of 20 rounds");
}

TEST_CASE("mount points: not crossed by default; crossed on request, pseudo filesystems never") {
  if (::geteuid() != 0) {
    MESSAGE("needs root (mounts in a private mount namespace); skipped");
    return;
  }
  Tree t;
  REQUIRE(::mkdir(t.Path("mnt").c_str(), 0755) == 0);
  REQUIRE(::mkdir(t.Path("proc").c_str(), 0755) == 0);
  // The mounts live in a child's private mount namespace and vanish with it.
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(2);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(3);
    if (::mount("tmpfs", t.Path("mnt").c_str(), "tmpfs", 0, "size=1m") != 0) ::_exit(4);
    if (::mount("proc", t.Path("proc").c_str(), "proc", 0, nullptr) != 0) ::_exit(5);
    int fd = ::open(t.Path("mnt/on-tmpfs.sh").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    if (fd < 0 || ::write(fd, "#!/bin/sh\n", 10) != 10) ::_exit(6);
    ::close(fd);
    std::string out;
    for (bool one_fs : {true, false}) {
      ScanOptions options;
      options.roots = {t.root};
      options.one_file_system = one_fs;
      auto r = hashdb::Scan(options);
      if (!r.ok()) ::_exit(7);
      out += one_fs ? "one-fs" : "cross";
      out += " recorded " + std::to_string(r->entries.size());
      for (const auto& s : r->report.skipped) {
        out += " | " + std::string(hashdb::SkipReasonName(s.reason)) + " " +
               s.path.substr(t.root.size()) + " " + s.detail;
      }
      out += "\n";
    }
    if (::write(pipe_fds[1], out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
      ::_exit(8);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(out ==
        "one-fs recorded 9 | other-filesystem /mnt mount point not crossed (fs type tmpfs) | "
        "other-filesystem /proc mount point not crossed (fs type proc)\n"
        "cross recorded 10 | pseudo-filesystem /proc fs type proc\n");
}

// Issue 12 item 4: an exclude names a whole tree. On main "/run" matched the path "/run" only,
// so a root or a learned file below it (/run/user/1000/x) was not excluded.
TEST_CASE("an exclude pattern names a tree: the path itself and everything below it") {
  using hashdb::PathExcluded;
  const std::vector<std::string> defaults{"/proc", "/sys",     "/dev",     "/run",     "/home",
                                          "/tmp",  "/var/tmp", "/dev/shm", "/run/user"};
  for (const char* inside : {"/run", "/run/user/1000/x", "/dev/shm/x", "/home/kiosk/.local/bin/x",
                             "/tmp/x", "/var/tmp/a/b", "/proc/1/exe"}) {
    CAPTURE(inside);
    CHECK(PathExcluded(inside, defaults));
  }
  for (const char* outside : {"/running", "/usr/bin/x", "/var/lib/x", "/tmpfile", "/homes/x",
                              "/var/tmpx/y", "/opt/run/user"}) {
    CAPTURE(outside);
    CHECK_FALSE(PathExcluded(outside, defaults));
  }
  CHECK(PathExcluded("/home/a/cache/x.sh", {"/home/*/cache"}));
  CHECK_FALSE(PathExcluded("/home/a/bin/x.sh", {"/home/*/cache"}));
  CHECK(PathExcluded("/opt/app/tmp/x", {"/opt/app/tmp/"}));  // a trailing '/' is ignored
  CHECK_FALSE(PathExcluded("/opt/x", {}));
  CHECK_FALSE(PathExcluded("/opt/x", {""}));
}

TEST_CASE("a scan leaves out excluded trees, also when a root lies inside one") {
  testsupport::TempDir dir;
  const std::string root = dir.Join("root");
  for (const char* d :
       {"", "/run", "/run/user", "/run/user/1000", "/running", "/dev", "/dev/shm"}) {
    REQUIRE(::mkdir((root + d).c_str(), 0755) == 0);
  }
  testsupport::WriteFile(root + "/run/user/1000/x.sh", "#!/bin/sh\n", 0755);
  testsupport::WriteFile(root + "/dev/shm/y.sh", "#!/bin/sh\n", 0755);
  testsupport::WriteFile(root + "/running/z.sh", "#!/bin/sh\n", 0755);
  ScanOptions options;
  options.roots = {root};
  options.strip_prefix = root + "/";
  options.excludes = {"/run", "/dev/shm"};
  auto by_path = ByPath(ScanWithTimeout(options));
  CHECK(by_path.count("/running/z.sh") == 1);
  CHECK(by_path.count("/run/user/1000/x.sh") == 0);
  CHECK(by_path.count("/dev/shm/y.sh") == 0);
  CHECK(by_path.size() == 1);

  options.roots = {root + "/run/user"};  // a root inside /run: nothing of it is recorded
  ScanResult inside = ScanWithTimeout(options);
  CHECK(inside.entries.empty());
  CHECK(inside.report.excluded == 1);
}
