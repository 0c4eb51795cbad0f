// hashdb/file_hasher.h: the one routine that hashes a file for the database (scanner) and for
// `lockctl maintenance finish` (learned files).
#include "hashdb/file_hasher.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "hashdb/read_lease.h"
#include "hashdb/sha256.h"
#include "tests/support/db_fixture.h"

namespace {

using hashdb::HashedFile;
using hashdb::HashFileAt;
using hashdb::HashFileOptions;
using hashdb::HashOutcome;

hashdb::Digest DigestOf(const std::string& content) {
  return hashdb::Sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
}

HashedFile HashPath(const std::string& path, HashFileOptions options = {}) {
  return HashFileAt(AT_FDCWD, path, path.substr(path.rfind('/') + 1), options);
}

// True when this process gets read leases on files in dir (owner or CAP_LEASE, and a
// filesystem that grants them).
bool LeasesWork(const testsupport::TempDir& dir) {
  const std::string probe = dir.Join("lease-probe");
  testsupport::WriteFile(probe, "x");
  const int fd = ::open(probe.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  bool held = false;
  {
    auto lease = hashdb::ReadLease::Take(fd);
    held = lease.state() == hashdb::LeaseState::kHeld;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return held;
}

}  // namespace

TEST_CASE("file hasher: a code file is hashed with its kind, size, mode and owner") {
  testsupport::TempDir dir;
  const std::string content = "#!/bin/sh\necho hello\n";
  const std::string path = dir.Join("hello.sh");
  testsupport::WriteFile(path, content, 0750);
  HashedFile h = HashPath(path);
  REQUIRE(h.outcome == HashOutcome::kHashed);
  CHECK(h.entry.path.empty());  // the caller names it
  CHECK(h.entry.digest == DigestOf(content));
  CHECK(h.entry.kind == hashdb::Kind::kScript);
  CHECK(h.entry.size == content.size());
  CHECK(h.entry.mode == (S_IFREG | 0750));
  CHECK(h.entry.uid == ::geteuid());
  CHECK(h.attempts == 1);
  // Relative to a directory fd, as the scanner calls it.
  const int dfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dfd >= 0);
  HashFileOptions listed;
  listed.listed_regular = true;
  HashedFile at = HashFileAt(dfd, "hello.sh", "hello.sh", listed);
  ::close(dfd);
  REQUIRE(at.outcome == HashOutcome::kHashed);
  CHECK(at.entry.digest == h.entry.digest);
}

TEST_CASE("file hasher: not code, vanished, other device") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("notes.txt"), "just text\n", 0644);
  CHECK(HashPath(dir.Join("notes.txt")).outcome == HashOutcome::kNotCode);
  CHECK(HashPath(dir.Join("gone.sh")).outcome == HashOutcome::kVanished);
  HashFileOptions listed;
  listed.listed_regular = true;  // listed, then removed before the open
  CHECK(HashPath(dir.Join("gone.sh"), listed).outcome == HashOutcome::kVanished);

  testsupport::WriteFile(dir.Join("run.sh"), "#!/bin/sh\n", 0755);
  struct stat st {};
  REQUIRE(::stat(dir.Join("run.sh").c_str(), &st) == 0);
  HashFileOptions same_dev;
  same_dev.device = st.st_dev;
  CHECK(HashPath(dir.Join("run.sh"), same_dev).outcome == HashOutcome::kHashed);
  HashFileOptions other_dev;
  other_dev.device = st.st_dev + 1;
  CHECK(HashPath(dir.Join("run.sh"), other_dev).outcome == HashOutcome::kOtherFilesystem);
}

TEST_CASE("file hasher: a symlink is never followed") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("real.sh"), "#!/bin/sh\n", 0755);
  REQUIRE(::symlink(dir.Join("real.sh").c_str(), dir.Join("link.sh").c_str()) == 0);
  CHECK(HashPath(dir.Join("link.sh")).outcome == HashOutcome::kSymlink);
  // Listed as a regular file, then swapped for a symlink: O_NOFOLLOW refuses it.
  HashFileOptions listed;
  listed.listed_regular = true;
  CHECK(HashPath(dir.Join("link.sh"), listed).outcome == HashOutcome::kSymlink);
  // Nor one to a system binary.
  REQUIRE(::symlink("/bin/sh", dir.Join("sh").c_str()) == 0);
  CHECK(HashPath(dir.Join("sh")).outcome == HashOutcome::kSymlink);
}

TEST_CASE("file hasher: a FIFO is not opened (a writer waiting for a reader stays waiting)") {
  testsupport::TempDir dir;
  const std::string fifo = dir.Join("pipe.sh");
  REQUIRE(::mkfifo(fifo.c_str(), 0755) == 0);
  std::atomic<bool> writer_opened{false};
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // blocks until a reader opens
    writer_opened = true;
    if (fd >= 0) ::close(fd);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(HashPath(fifo).outcome == HashOutcome::kNotRegular);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_FALSE(writer_opened.load());
  // Let the writer go.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  writer.join();
  ::close(reader);
  CHECK(writer_opened.load());
  // Swapped in after the listing (listed_regular): opened without blocking, never read.
  HashFileOptions listed;
  listed.listed_regular = true;
  CHECK(HashPath(fifo, listed).outcome == HashOutcome::kNotRegular);
}

TEST_CASE("file hasher: a file open for writing on every attempt is not hashed") {
  testsupport::TempDir dir;
  if (!LeasesWork(dir)) {
    MESSAGE("read leases not granted here: the writer check cannot be tested");
    return;
  }
  const std::string path = dir.Join("busy.sh");
  testsupport::WriteFile(path, "#!/bin/sh\necho busy\n", 0755);
  const int wfd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);  // held, nothing written
  REQUIRE(wfd >= 0);
  HashFileOptions two;
  two.max_attempts = 2;
  HashedFile h = HashPath(path, two);
  ::close(wfd);
  CHECK(h.outcome == HashOutcome::kChanged);
  CHECK(h.writer_present);
  CHECK(h.attempts == 2);
  // Closed: hashed at once.
  CHECK(HashPath(path).outcome == HashOutcome::kHashed);
}

TEST_CASE("file hasher: a file changed while hashed is never hashed with a mixed content") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("flip.sh");
  std::string a(4 << 20, 'a');
  std::string b(4 << 20, 'b');
  a[0] = b[0] = '#';
  a[1] = b[1] = '!';
  testsupport::WriteFile(path, a, 0755);
  std::atomic<bool> stop{false};
  // Rewrites in place again and again, with short pauses without a writer.
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return;
      const std::string& content = (i % 2 == 0) ? b : a;
      const ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
      ::close(fd);
      if (n < 0) return;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  int hashed = 0, changed = 0;
  for (int round = 0; round < 20; ++round) {
    HashedFile h = HashPath(path);
    if (h.outcome == HashOutcome::kHashed) {
      ++hashed;
      CHECK((h.entry.digest == DigestOf(a) || h.entry.digest == DigestOf(b)));
    } else {
      CHECK(h.outcome == HashOutcome::kChanged);
      CHECK(h.attempts == 3);
      ++changed;
    }
  }
  stop = true;
  writer.join();
  MESSAGE("hashed whole in " << hashed << " of 20 rounds, changed in " << changed);
}
