#include "hashdb/atomic_file.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "doctest/doctest.h"
#include "tests/support/db_fixture.h"

namespace {

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Names in dir other than the expected ones (leftover temporary files).
int CountEntries(const std::string& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

unsigned ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("WriteFileAtomically creates and replaces with the given mode") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("db");
  REQUIRE(hashdb::WriteFileAtomically(path, Bytes("first"), 0644).ok());
  CHECK(Slurp(path) == "first");
  CHECK(ModeOf(path) == 0644);
  REQUIRE(hashdb::WriteFileAtomically(path, Bytes("second, longer"), 0600).ok());
  CHECK(Slurp(path) == "second, longer");
  CHECK(ModeOf(path) == 0600);
  REQUIRE(hashdb::WriteFileAtomically(path, Bytes(""), 0640).ok());
  CHECK(Slurp(path).empty());
  CHECK(CountEntries(dir.path()) == 1);
}

TEST_CASE("WriteFileAtomically with Replace::kRefuse keeps an existing file") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("key.pem");
  REQUIRE(hashdb::WriteFileAtomically(path, Bytes("old"), 0600, hashdb::Replace::kRefuse).ok());
  auto again = hashdb::WriteFileAtomically(path, Bytes("new"), 0600, hashdb::Replace::kRefuse);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == hashdb::ErrorCode::kConflict);
  CHECK(again.error().message.find(path) != std::string::npos);
  CHECK(Slurp(path) == "old");
  CHECK(CountEntries(dir.path()) == 1);
}

TEST_CASE("WriteFileAtomically replaces a symlink instead of following it") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("target"), "target content");
  REQUIRE(::symlink("target", dir.Join("link").c_str()) == 0);
  REQUIRE(hashdb::WriteFileAtomically(dir.Join("link"), Bytes("new"), 0644).ok());
  CHECK(Slurp(dir.Join("target")) == "target content");
  CHECK(Slurp(dir.Join("link")) == "new");
  CHECK(std::filesystem::is_regular_file(std::filesystem::symlink_status(dir.Join("link"))));
}

TEST_CASE("WriteFileAtomically failures leave the old file and no temporary file") {
  testsupport::TempDir dir;
  SUBCASE("missing directory") {
    auto s = hashdb::WriteFileAtomically(dir.Join("no/such/file"), Bytes("x"), 0644);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find(dir.Join("no/such")) != std::string::npos);
  }
  SUBCASE("target is a non-empty directory") {
    REQUIRE(::mkdir(dir.Join("d").c_str(), 0755) == 0);
    testsupport::WriteFile(dir.Join("d/inner"), "keep");
    auto s = hashdb::WriteFileAtomically(dir.Join("d"), Bytes("x"), 0644);
    REQUIRE_FALSE(s.ok());
    CHECK(Slurp(dir.Join("d/inner")) == "keep");
    CHECK(CountEntries(dir.path()) == 1);
  }
  SUBCASE("write fails half way (file size limit)") {
    const std::string path = dir.Join("db");
    testsupport::WriteFile(path, "old content");
    struct rlimit old_limit;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_limit;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string big(100000, 'x');
    auto s = hashdb::WriteFileAtomically(path, Bytes(big), 0644);
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::signal(SIGXFSZ, old_handler);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().errno_value == EFBIG);
    CHECK(Slurp(path) == "old content");
    CHECK(CountEntries(dir.path()) == 1);
  }
  SUBCASE("empty path and directory path") {
    CHECK_FALSE(hashdb::WriteFileAtomically("", Bytes("x"), 0644).ok());
    CHECK_FALSE(hashdb::WriteFileAtomically(dir.path() + "/", Bytes("x"), 0644).ok());
  }
}
