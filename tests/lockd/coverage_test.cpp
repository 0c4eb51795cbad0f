#include "lockd/coverage.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hashdb/policy.h"
#include "lockd/coverage_gate.h"

using lockd::HeadKind;
using lockd::IsInterpreter;
using lockd::SniffHead;

namespace {

std::vector<std::uint8_t> ElfHead(std::uint8_t data, std::uint16_t type) {
  std::vector<std::uint8_t> h(64, 0);
  h[0] = 0x7f;
  h[1] = 'E';
  h[2] = 'L';
  h[3] = 'F';
  h[4] = 2;  // 64-bit
  h[5] = data;
  if (data == 2) {
    h[16] = static_cast<std::uint8_t>(type >> 8);
    h[17] = static_cast<std::uint8_t>(type);
  } else {
    h[16] = static_cast<std::uint8_t>(type);
    h[17] = static_cast<std::uint8_t>(type >> 8);
  }
  return h;
}

std::vector<std::uint8_t> Text(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("sniff: ELF executables and shared objects are loadable, in both byte orders") {
  for (std::uint8_t data : {1, 2}) {
    CHECK(SniffHead(ElfHead(data, 2)) == HeadKind::kElfLoadable);  // ET_EXEC
    CHECK(SniffHead(ElfHead(data, 3)) == HeadKind::kElfLoadable);  // ET_DYN
    CHECK(SniffHead(ElfHead(data, 1)) == HeadKind::kElfInert);     // ET_REL (.o)
    CHECK(SniffHead(ElfHead(data, 4)) == HeadKind::kElfInert);     // ET_CORE
    // Unknown and OS-specific types are judged: only what the loader refuses is inert.
    CHECK(SniffHead(ElfHead(data, 0)) == HeadKind::kElfLoadable);
    CHECK(SniffHead(ElfHead(data, 0xfe00)) == HeadKind::kElfLoadable);
  }
}

TEST_CASE("sniff: a truncated or odd ELF header is judged, never waved through") {
  auto h = ElfHead(1, 1);
  CHECK(SniffHead(std::span<const std::uint8_t>(h.data(), 4)) == HeadKind::kElfLoadable);
  CHECK(SniffHead(std::span<const std::uint8_t>(h.data(), 17)) == HeadKind::kElfLoadable);
  h[5] = 7;  // invalid EI_DATA
  CHECK(SniffHead(h) == HeadKind::kElfLoadable);
}

TEST_CASE("sniff: shebang, text, empty, near-misses") {
  CHECK(SniffHead(Text("#!/bin/sh\n")) == HeadKind::kShebang);
  CHECK(SniffHead(Text("#!")) == HeadKind::kShebang);
  CHECK(SniffHead(Text("# !/bin/sh")) == HeadKind::kOther);
  CHECK(SniffHead(Text("#include <stdio.h>")) == HeadKind::kOther);
  CHECK(SniffHead(Text("")) == HeadKind::kOther);
  CHECK(SniffHead(Text("#")) == HeadKind::kOther);
  CHECK(SniffHead(Text("\x7f"
                       "ELX")) == HeadKind::kOther);
  CHECK(SniffHead(Text("\x7f"
                       "EL")) == HeadKind::kOther);
}

TEST_CASE("script by mode or name") {
  CHECK(lockd::IsScriptByModeOrName(0100755, ""));
  CHECK(lockd::IsScriptByModeOrName(0100744, "data"));
  CHECK(lockd::IsScriptByModeOrName(0100644, "/srv/app/x.py"));
  CHECK(lockd::IsScriptByModeOrName(0100644, "lib.sh"));
  CHECK(lockd::IsScriptByModeOrName(0100644, "/usr/lib/python3/mod.pyc"));
  CHECK_FALSE(lockd::IsScriptByModeOrName(0100644, "/srv/app/config.json"));
  CHECK_FALSE(lockd::IsScriptByModeOrName(0100644, "main.c"));
  CHECK_FALSE(lockd::IsScriptByModeOrName(0100644, ""));
  CHECK(lockd::IsScriptHead(HeadKind::kShebang));
  CHECK_FALSE(lockd::IsScriptHead(HeadKind::kOther));
}

TEST_CASE("interpreter names: exact and versioned basenames only") {
  const auto list = hashdb::Policy::DefaultInterpreters();
  CHECK(IsInterpreter("/usr/bin/bash", list));
  CHECK(IsInterpreter("/usr/bin/dash", list));
  CHECK(IsInterpreter("/usr/bin/python3.11", list));
  CHECK(IsInterpreter("/usr/local/bin/python3.13-dbg", list) == false);  // "-dbg": letters
  CHECK(IsInterpreter("/usr/bin/perl5.36.0", list));
  CHECK(IsInterpreter("/usr/bin/python3", list));
  CHECK(IsInterpreter("python3", list));
  CHECK(IsInterpreter("/usr/bin/bash (deleted)", list));
  CHECK_FALSE(IsInterpreter("/usr/bin/bashful", list));
  CHECK_FALSE(IsInterpreter("/usr/bin/cat", list));
  CHECK_FALSE(IsInterpreter("/usr/bin/vim.basic", list));
  CHECK_FALSE(IsInterpreter("/usr/bin/", list));
  CHECK_FALSE(IsInterpreter("", list));
  CHECK_FALSE(IsInterpreter("/usr/bin/python3", {}));
  CHECK(IsInterpreter("/opt/x/bin/myinterp2", {"myinterp"}));
  CHECK_FALSE(IsInterpreter("/opt/x/bin/myinterp", {""}));
}

TEST_CASE("mark masks follow the policy") {
  hashdb::Policy p;
  CHECK(lockd::MarkMaskFor(p).open_permission);
  CHECK(lockd::MarkMaskFor(p).exec_permission);
  p.cover_shared_objects = false;
  CHECK(lockd::MarkMaskFor(p).open_permission);
  p.cover_scripts = false;
  CHECK_FALSE(lockd::MarkMaskFor(p).open_permission);
  CHECK(lockd::MarkMaskCovers(lockd::MarkMaskFor(p), p));
  hashdb::Policy full;
  CHECK_FALSE(lockd::MarkMaskCovers(lockd::MarkMaskFor(p), full));
  CHECK_FALSE(lockd::UntrustedMarkMask().open_permission);
  CHECK(lockd::UntrustedMarkMask().exec_permission);
}
