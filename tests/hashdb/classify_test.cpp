#include "hashdb/classify.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "tests/support/db_fixture.h"

// Designated initializers below leave the remaining ElfSpec fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

using hashdb::ClassifyBytes;
using hashdb::ClassifyFd;
using hashdb::Kind;

struct ElfSpec {
  bool is64 = true;
  bool little_endian = true;
  std::uint16_t type = 3;       // ET_DYN
  std::uint64_t phoff = 0;      // 0: right after the header
  std::uint16_t phentsize = 0;  // 0: the correct size
  std::uint16_t phnum = 0;      // 0: phdr_types.size()
  std::vector<std::uint32_t> phdr_types;
  std::size_t pad_to = 0;  // total size at least this (zero bytes)
};

void Put(std::vector<std::uint8_t>& b, std::size_t off, std::uint64_t v, std::size_t n, bool le) {
  if (b.size() < off + n) b.resize(off + n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t shift = le ? i : n - 1 - i;
    b[off + i] = static_cast<std::uint8_t>(v >> (8 * shift));
  }
}

std::vector<std::uint8_t> MakeElf(const ElfSpec& s) {
  const std::size_t header = s.is64 ? 64 : 52;
  const std::size_t entry = s.is64 ? 56 : 32;
  std::vector<std::uint8_t> b(header, 0);
  b[0] = 0x7f;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = s.is64 ? 2 : 1;
  b[5] = s.little_endian ? 1 : 2;
  b[6] = 1;
  const bool le = s.little_endian;
  const std::uint64_t phoff = s.phoff != 0 ? s.phoff : header;
  const std::uint16_t phentsize =
      s.phentsize != 0 ? s.phentsize : static_cast<std::uint16_t>(entry);
  const std::uint16_t phnum =
      s.phnum != 0 ? s.phnum : static_cast<std::uint16_t>(s.phdr_types.size());
  Put(b, 16, s.type, 2, le);
  if (s.is64) {
    Put(b, 0x20, phoff, 8, le);
    Put(b, 0x36, phentsize, 2, le);
    Put(b, 0x38, phnum, 2, le);
  } else {
    Put(b, 0x1c, phoff, 4, le);
    Put(b, 0x2a, phentsize, 2, le);
    Put(b, 0x2c, phnum, 2, le);
  }
  for (std::size_t i = 0; i < s.phdr_types.size(); ++i) {
    Put(b, phoff + i * entry, s.phdr_types[i], 4, le);
    if (b.size() < phoff + (i + 1) * entry) b.resize(phoff + (i + 1) * entry);
  }
  if (b.size() < s.pad_to) b.resize(s.pad_to);
  return b;
}

constexpr std::uint32_t kPtLoad = 1;
constexpr std::uint32_t kPtDynamic = 2;
constexpr std::uint32_t kPtInterp = 3;

std::optional<Kind> Classify(const std::vector<std::uint8_t>& b, std::uint32_t mode = 0644,
                             std::string_view name = "f") {
  return ClassifyBytes(b, mode, name);
}

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("ELF types in every class and byte order") {
  for (bool is64 : {true, false}) {
    for (bool le : {true, false}) {
      CAPTURE(is64);
      CAPTURE(le);
      ElfSpec exec{.is64 = is64, .little_endian = le, .type = 2, .phdr_types = {kPtLoad}};
      CHECK(Classify(MakeElf(exec)) == Kind::kElfExecutable);
      ElfSpec pie{.is64 = is64, .little_endian = le, .phdr_types = {6, kPtInterp, kPtLoad}};
      CHECK(Classify(MakeElf(pie)) == Kind::kElfExecutable);
      ElfSpec so{.is64 = is64, .little_endian = le, .phdr_types = {kPtLoad, kPtDynamic}};
      CHECK(Classify(MakeElf(so)) == Kind::kElfSharedObject);
      // ET_REL (an object file) is not code by itself; only its execute bit counts.
      ElfSpec rel{.is64 = is64, .little_endian = le, .type = 1};
      CHECK_FALSE(Classify(MakeElf(rel)).has_value());
      CHECK(Classify(MakeElf(rel), 0755) == Kind::kOtherExecutable);
    }
  }
}

TEST_CASE("PT_INTERP is read with the file's byte order") {
  // 3 in the wrong byte order is 0x03000000, not PT_INTERP.
  ElfSpec be{.little_endian = false, .phdr_types = {kPtInterp}};
  auto bytes = MakeElf(be);
  CHECK(Classify(bytes) == Kind::kElfExecutable);
  bytes[5] = 1;  // claim little endian: every field now reads differently
  CHECK(Classify(bytes) != Kind::kElfExecutable);
}

TEST_CASE("hostile ELF headers never read out of bounds and classify conservatively") {
  SUBCASE("truncated identification is not ELF") {
    std::vector<std::uint8_t> b = {0x7f, 'E', 'L', 'F', 2, 1};
    CHECK_FALSE(Classify(b).has_value());
    CHECK(Classify(b, 0700) == Kind::kOtherExecutable);
  }
  SUBCASE("truncated header is not ELF") {
    auto b = MakeElf({.phdr_types = {kPtInterp}});
    for (std::size_t len = 0; len < 64; ++len) {
      std::vector<std::uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
      CHECK_FALSE(Classify(cut).has_value());
    }
  }
  SUBCASE("bad class or data byte") {
    auto b = MakeElf({.type = 2});
    b[4] = 3;
    CHECK_FALSE(Classify(b).has_value());
    b[4] = 2;
    b[5] = 0;
    CHECK_FALSE(Classify(b).has_value());
  }
  SUBCASE("program headers cut off at every length") {
    auto b = MakeElf({.phdr_types = {kPtLoad, kPtInterp}});
    for (std::size_t len = 64; len < b.size(); ++len) {
      std::vector<std::uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
      // With the PT_INTERP entry not (wholly) present the table is unreadable.
      CHECK(Classify(cut) == Kind::kElfSharedObject);
    }
    CHECK(Classify(b) == Kind::kElfExecutable);
  }
  SUBCASE("phoff far beyond the file, and near 2^64") {
    for (std::uint64_t phoff :
         {std::uint64_t{4000}, std::uint64_t{1} << 40, ~std::uint64_t{0}, ~std::uint64_t{0} - 55}) {
      CAPTURE(phoff);
      ElfSpec s{.phoff = 0, .phnum = 1};
      auto b = MakeElf(s);
      for (int i = 0; i < 8; ++i) b[0x20 + i] = static_cast<std::uint8_t>(phoff >> (8 * i));
      CHECK(Classify(b) == Kind::kElfSharedObject);
    }
  }
  SUBCASE("hostile phnum and phentsize") {
    CHECK(Classify(MakeElf({.phnum = 0xffff, .phdr_types = {kPtInterp}})) ==
          Kind::kElfSharedObject);
    CHECK(Classify(MakeElf({.phentsize = 1, .phdr_types = {kPtInterp}})) == Kind::kElfSharedObject);
    CHECK(Classify(MakeElf({.phentsize = 0xffff, .phdr_types = {kPtInterp}})) ==
          Kind::kElfSharedObject);
    // More entries than the kernel accepts (64 KiB table), even if they were all present.
    CHECK(Classify(MakeElf({.phnum = 1200, .phdr_types = {kPtInterp}, .pad_to = 70000})) ==
          Kind::kElfSharedObject);
  }
  SUBCASE("ET_EXEC needs no program headers") {
    CHECK(Classify(MakeElf({.type = 2, .phoff = 1u << 30, .phnum = 9})) == Kind::kElfExecutable);
  }
}

TEST_CASE("scripts, suffixes and execute bits") {
  CHECK(ClassifyBytes(Bytes("#!/bin/sh\necho hi\n"), 0644, "x") == Kind::kScript);
  CHECK(ClassifyBytes(Bytes("#!"), 0, "x") == Kind::kScript);
  CHECK_FALSE(ClassifyBytes(Bytes("#"), 0644, "x").has_value());
  CHECK_FALSE(ClassifyBytes(Bytes(""), 0644, "empty").has_value());
  CHECK(ClassifyBytes(Bytes(""), 0100, "empty") == Kind::kOtherExecutable);
  CHECK(ClassifyBytes(Bytes("text"), 0010, "x") == Kind::kOtherExecutable);
  CHECK(ClassifyBytes(Bytes("text"), 0001, "x") == Kind::kOtherExecutable);
  for (const char* name : {"/usr/lib/python3/os.py", "m.pyc", "a.pyo", "Foo.pm", "x.pl", "a.sh",
                           "a.bash", "site.pth", "x.rb", "x.lua", "x.js"}) {
    CAPTURE(name);
    CHECK(ClassifyBytes(Bytes("import os\n"), 0644, name) == Kind::kScript);
  }
  for (const char* name : {"README", "x.txt", "x.PY", "x.py~", ".py", "/dir/.py", "py", "x.so"}) {
    CAPTURE(name);
    CHECK_FALSE(ClassifyBytes(Bytes("data"), 0644, name).has_value());
  }
  // ELF wins over the suffix and the execute bit.
  CHECK(ClassifyBytes(MakeElf({.type = 2}), 0755, "x.py") == Kind::kElfExecutable);
}

TEST_CASE("ClassifyFd reads a program header table beyond the first 4 KiB") {
  testsupport::TempDir dir;
  // A PIE whose PT_INTERP sits at offset 8000 (beyond kClassifyHeadSize).
  auto far = MakeElf({.phoff = 8000, .phdr_types = {kPtLoad, kPtLoad, kPtInterp}});
  std::string path = dir.Join("far");
  testsupport::WriteFile(path, std::string(far.begin(), far.end()));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto kind = ClassifyFd(fd, far.size(), 0755, "far");
  REQUIRE(kind.ok());
  CHECK(*kind == Kind::kElfExecutable);
  // The pure variant only sees the head and so cannot find it.
  CHECK(ClassifyBytes(far, 0755, "far") == Kind::kElfSharedObject);
  // A file_size larger than the file: the short read ends the table, no error.
  auto big = ClassifyFd(fd, 1u << 20, 0755, "far");
  REQUIRE(big.ok());
  CHECK(*big == Kind::kElfExecutable);
  ::close(fd);

  // Truncated table beyond the head.
  std::string cut_path = dir.Join("cut");
  testsupport::WriteFile(cut_path, std::string(far.begin(), far.begin() + 8100));
  fd = ::open(cut_path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto cut = ClassifyFd(fd, 8100, 0755, "cut");
  REQUIRE(cut.ok());
  CHECK(*cut == Kind::kElfSharedObject);
  ::close(fd);
}

TEST_CASE("ClassifyFd on real system files") {
  struct Case {
    const char* path;
    Kind kind;
  };
  for (const Case& c : {Case{"/bin/true", Kind::kElfExecutable},
                        Case{"/lib64/ld-linux-x86-64.so.2", Kind::kElfSharedObject}}) {
    CAPTURE(c.path);
    int fd = ::open(c.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // not this architecture
    auto kind = ClassifyFd(fd, 1u << 30, 0755, c.path);
    REQUIRE(kind.ok());
    CHECK(*kind == c.kind);
    ::close(fd);
  }
  CHECK(ClassifyFd(-1, 0, 0, "x").ok() == false);
}
