// hashdb/sha256.h: Sha256File, serial (small files) and with the read thread (4 MiB and more);
// Sha256FileCached (page cache only).
#include "hashdb/sha256.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "hashdb/unique_fd.h"
#include "tests/support/db_fixture.h"

namespace {

// Content that differs at every MiB boundary, so a chunk hashed twice, skipped or out of
// order changes the digest.
std::string Content(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + i / 4093) & 0xff);
  return s;
}

hashdb::Digest DigestOf(const std::string& content) {
  return hashdb::Sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
}

hashdb::UniqueFd OpenRead(const std::string& path) {
  return hashdb::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

}  // namespace

TEST_CASE("Sha256File hashes files below and above the read-thread threshold alike") {
  testsupport::TempDir dir;
  // Sizes around the 4 MiB threshold and the 1 MiB chunk: exact multiples and odd tails.
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{(4u << 20) - 1}, std::size_t{4u << 20},
        std::size_t{(4u << 20) + 1}, std::size_t{(9u << 20) + 12345}}) {
    CAPTURE(size);
    const std::string content = Content(size);
    const std::string path = dir.Join("f");
    testsupport::WriteFile(path, content);
    hashdb::UniqueFd fd = OpenRead(path);
    REQUIRE(fd.valid());
    auto digest = hashdb::Sha256File(fd.get(), static_cast<std::int64_t>(size));
    REQUIRE(digest.ok());
    CHECK(*digest == DigestOf(content));
    // Unknown length: the same digest.
    auto any = hashdb::Sha256File(fd.get(), -1);
    REQUIRE(any.ok());
    CHECK(*any == DigestOf(content));
  }
}

TEST_CASE("Sha256File reports a length other than the expected one on the read-thread path") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("f");
  testsupport::WriteFile(path, Content((6u << 20) + 7));
  hashdb::UniqueFd fd = OpenRead(path);
  REQUIRE(fd.valid());
  // The file is longer than expected (it grew after the caller's fstat).
  auto longer = hashdb::Sha256File(fd.get(), 5 << 20);
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.error().code == hashdb::ErrorCode::kConflict);
  // Shorter than expected (truncated).
  auto shorter = hashdb::Sha256File(fd.get(), 7 << 20);
  REQUIRE_FALSE(shorter.ok());
  CHECK(shorter.error().code == hashdb::ErrorCode::kConflict);
  CHECK(shorter.error().message.find("read 6291463") != std::string::npos);
}

TEST_CASE("Sha256File reports a read error on the read-thread path") {
  testsupport::TempDir dir;
  // A directory opens for reading, but pread on it fails with EISDIR.
  hashdb::UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd.valid());
  auto big = hashdb::Sha256File(fd.get(), 8 << 20);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == hashdb::ErrorCode::kIo);
  CHECK(big.error().errno_value == EISDIR);
  auto small = hashdb::Sha256File(fd.get(), 10);
  REQUIRE_FALSE(small.ok());
  CHECK(small.error().code == hashdb::ErrorCode::kIo);
}

TEST_CASE("Sha256FileCached: the same digest from the page cache, including on tmpfs") {
  testsupport::TempDir dir;
  std::vector<std::string> paths = {dir.Join("cached")};
  // /dev/shm is a tmpfs where there is one: read with pread (tmpfs refuses RWF_NOWAIT).
  std::string shm;
  if (::access("/dev/shm", W_OK) == 0) {
    shm = "/dev/shm/lockd-sha256-test." + std::to_string(::getpid());
    paths.push_back(shm);
  }
  const std::string content = Content(300 * 1024 + 7);  // more than one 256 KiB read
  for (const auto& path : paths) {
    CAPTURE(path);
    testsupport::WriteFile(path, content);
    hashdb::UniqueFd fd = OpenRead(path);
    REQUIRE(fd.valid());
    auto digest = hashdb::Sha256FileCached(fd.get(), static_cast<std::int64_t>(content.size()));
    REQUIRE_MESSAGE(digest.ok(), (digest.ok() ? "" : digest.error().message));
    CHECK(*digest == DigestOf(content));
    auto short_read = hashdb::Sha256FileCached(fd.get(), 10);
    REQUIRE_FALSE(short_read.ok());
    CHECK(short_read.error().code == hashdb::ErrorCode::kConflict);
  }
  if (!shm.empty()) ::unlink(shm.c_str());
}

TEST_CASE("Sha256FileCached: content evicted from the page cache is refused, not read") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("cold");
  testsupport::WriteFile(path, Content(64 * 1024));
  hashdb::UniqueFd fd = OpenRead(path);
  REQUIRE(fd.valid());
  REQUIRE(::fsync(fd.get()) == 0);
  REQUIRE(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) == 0);
  struct statfs fs {};
  REQUIRE(::fstatfs(fd.get(), &fs) == 0);
  if (fs.f_type == TMPFS_MAGIC) return;  // nothing to evict on tmpfs
  auto digest = hashdb::Sha256FileCached(fd.get(), 64 * 1024);
  REQUIRE_FALSE(digest.ok());
  CHECK(digest.error().code == hashdb::ErrorCode::kUnsupported);
  CHECK(digest.error().errno_value == EAGAIN);
}
