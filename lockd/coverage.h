#pragma once
// Library and script coverage (issue 4): the pure rules that decide whether a plain open
// (FAN_OPEN_PERM, not an exec) is a load of code that the allowlist must cover. No system
// calls: tested in tests/lockd/coverage_test.cpp. The event loop feeds them the first bytes of
// the file (pread on the event fd), its mode, and, only when needed, its path and the opening
// process's executable (lockd/os/open_probe.h).
//
// Rules for an open of a regular file (first match wins):
//  0. An empty file is no code (files being created): allowed.
//  1. ELF that the kernel or the dynamic loader can map (e_type ET_EXEC or ET_DYN, or an ELF
//     header too short or too odd to tell): judged like an exec (hash, allowlist, cache) when
//     the policy covers shared objects. This covers LD_PRELOAD, LD_AUDIT, /etc/ld.so.preload,
//     dlopen and `ld.so ./prog`. Relocatable objects (.o, ET_REL) and core files (ET_CORE)
//     cannot be loaded by the loader or dlopen: they are data, so a compiler's output can be
//     linked without an allowlist entry.
//  2. A script: starts with "#!", has a script suffix (hashdb::HasScriptSuffix), or has an
//     execute bit -- the same kinds the database builder records (hashdb/classify.h) -- and
//     the opening process is an interpreter: judged when the policy covers scripts. Opened by
//     anything else (cat, an editor, a compiler) it is data. An interpreter is a process whose
//     executable has one of the policy's interpreter names (IsInterpreter) or whose
//     executable's content the database flags as an interpreter (a renamed copy is still an
//     interpreter: lockd/script_coverage.h).
// 2b. Any other file an interpreter opens that its command line names as the program, or a
//     start-up variable of its environment names (BASH_ENV, ENV, PYTHONSTARTUP, ...;
//     lockd/script_arguments.h), compared by dev + ino: judged like rule 2, whatever its
//     name, mode or content.
//  3. Anything else: allowed at once from the sniff, without hashing. What stays data, and
//     why that is safe: files an interpreter reads that are neither script-like nor named as
//     its program or start-up file are configuration and data; code in them runs only if an
//     allowlisted program evaluates it. Not seen at all: inline code (-c, -e, stdin) and
//     libraries loaded from memory (docs/threat-model.md).
// The open mode of the opener is not visible to fanotify (the event fd is lockd's own read-only
// open), so an open for writing of a loadable ELF file is judged like a read (see
// docs/threat-model.md).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lockd {

// Bytes of the file head the sniff needs (ELF e_ident and e_type; "#!").
inline constexpr std::size_t kSniffBytes = 20;

enum class HeadKind {
  kElfLoadable,  // ELF magic and not ET_REL / ET_CORE
  kElfInert,     // ET_REL or ET_CORE: the loader refuses them
  kShebang,      // "#!"
  kOther,
};
HeadKind SniffHead(std::span<const std::uint8_t> head);

// Whether a non-ELF file is a script by its head, mode (st_mode) and name (basename or path;
// may be empty when not looked up): "#!", a script suffix, or any execute bit.
bool IsScriptHead(HeadKind head);
bool IsScriptByModeOrName(std::uint32_t mode, std::string_view name);

// Whether an executable path (e.g. /usr/bin/python3.11) is one of `interpreters` (basenames
// from the policy). Matches the basename exactly, or the name followed by a version made of
// digits, dots and dashes only: "python3.11" matches "python3" and "python", "perl5.36.0"
// matches "perl", "bash" does not match "bashful". A " (deleted)" suffix (what /proc shows for
// an unlinked executable) is ignored.
bool IsInterpreter(std::string_view exe_path, const std::vector<std::string>& interpreters);

}  // namespace lockd
