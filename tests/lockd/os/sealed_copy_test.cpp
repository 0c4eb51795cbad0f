#include "lockd/os/sealed_copy.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/db_fixture.h"

TEST_CASE("a sealed copy keeps the bytes it copied and cannot be changed") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("db");
  testsupport::WriteFile(path, "original bytes");
  auto copy = lockd::os::SealedCopy(path);
  REQUIRE_MESSAGE(copy.ok(), (copy.ok() ? "" : copy.error().message));
  // The installed file changes; the copy does not.
  testsupport::WriteFile(path, "changed!");
  char buf[64] = {};
  REQUIRE(::pread(copy->get(), buf, sizeof(buf), 0) == 14);
  CHECK(std::string(buf, 14) == "original bytes");
  // Seals: no write, no truncate, no growth, no new seals.
  CHECK(::pwrite(copy->get(), "x", 1, 0) < 0);
  CHECK(::ftruncate(copy->get(), 0) != 0);
  CHECK(::ftruncate(copy->get(), 100) != 0);
  const int seals = ::fcntl(copy->get(), F_GET_SEALS);
  CHECK((seals & F_SEAL_WRITE) != 0);
  CHECK((seals & F_SEAL_SHRINK) != 0);
  CHECK((seals & F_SEAL_GROW) != 0);
  CHECK((seals & F_SEAL_SEAL) != 0);
  // Close-on-exec like every fd lockd holds.
  CHECK((::fcntl(copy->get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("missing files, directories and oversized files are refused by name") {
  testsupport::TempDir dir;
  auto missing = lockd::os::SealedCopy(dir.Join("none"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find(dir.Join("none")) == 0);
  auto directory = lockd::os::SealedCopy(dir.path());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message.find("not a regular file") != std::string::npos);
  testsupport::WriteFile(dir.Join("big"), std::string(100, 'x'));
  auto big = lockd::os::SealedCopy(dir.Join("big"), 10);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message.find("larger than 10 bytes") != std::string::npos);
}
