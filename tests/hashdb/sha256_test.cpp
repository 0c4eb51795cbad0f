// hashdb/sha256.h: Sha256File, serial (small files) and with the read thread (4 MiB and more).
#include "hashdb/sha256.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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
