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
//     the opening process's executable is one of the policy's interpreters: judged when the
//     policy covers scripts. Opened by anything else (cat, an editor, a compiler) it is data.
//  3. Anything else: allowed at once from the sniff, without hashing.
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
