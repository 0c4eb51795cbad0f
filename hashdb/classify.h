#pragma once
// Classification of a regular file as code the allowlist must cover, from its first bytes, its
// mode and its name. Used by the database builder (what to include and as what kind) and by the
// daemon (a cheap sniff of an opened file's first bytes).
//
// Rules, first match wins:
//  1. ELF (magic, class 32 or 64, either byte order):
//       ET_EXEC                      -> kElfExecutable
//       ET_DYN with a PT_INTERP      -> kElfExecutable (a PIE program)
//       ET_DYN without a PT_INTERP   -> kElfSharedObject (a library, or the dynamic loader)
//     An ET_DYN whose program header table cannot be read (outside the file, bad entry size,
//     more than the kernel accepts) is kElfSharedObject: the kernel and the loader refuse to
//     run it, and recording its digest grants nothing a well-formed file would not.
//     Other ELF types (ET_REL objects, cores) fall through to the rules below.
//  2. Starts with "#!"                           -> kScript
//  3. Name ends in a script suffix (kScriptSuffixes: source and byte-code files interpreters
//     load without a "#!", e.g. python modules)  -> kScript
//  4. Any execute bit in mode (0111)             -> kOtherExecutable
//  5. Otherwise nullopt: not code, not recorded.
//
// The caller guarantees the file is a regular file; only the permission bits of mode are used.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "hashdb/entry.h"
#include "hashdb/result.h"

namespace hashdb {

// How many leading bytes ClassifyBytes wants to see: the ELF header plus the program header
// table of every ordinary executable and library (a typical table is under 1 KiB at offset 64).
inline constexpr std::size_t kClassifyHeadSize = 4096;

// The kernel's binfmt_elf refuses a program header table larger than 64 KiB; so do we.
inline constexpr std::size_t kMaxElfProgramHeaderBytes = 65536;

// Suffixes (lower case, compared exactly) of files that interpreters load without "#!":
// python (.py .pyc .pyo .pyw, and .pth whose "import" lines site.py executes), perl (.pl .pm
// .ph), shells (.sh .bash .zsh .ksh .csh .tcsh), ruby (.rb), lua (.lua), php (.php), tcl (.tcl),
// awk (.awk), node (.js .mjs .cjs).
std::span<const std::string_view> ScriptSuffixes();

// True if name (a basename or a full path) ends in one of ScriptSuffixes().
bool HasScriptSuffix(std::string_view name);

// Pure classification. head: the first bytes of the file, at most kClassifyHeadSize are looked
// at; pass the whole file when it is shorter. An ELF program header table that extends beyond
// head is treated as unreadable (see rule 1), so for exact results on unusual ELF files use
// ClassifyFd. Never reads outside head, never allocates.
std::optional<Kind> ClassifyBytes(std::span<const std::uint8_t> head, std::uint32_t mode,
                                  std::string_view name);

// Classifies an open regular file, reading through fd with pread only (the fd's offset is left
// alone; never re-opens by path). Reads the first kClassifyHeadSize bytes, and for an ELF
// ET_DYN whose program header table lies beyond them, reads that table too (bounded by
// kMaxElfProgramHeaderBytes and by file_size). Allocation-free. Fails only on a read error.
Result<std::optional<Kind>> ClassifyFd(int fd, std::uint64_t file_size, std::uint32_t mode,
                                       std::string_view name);

}  // namespace hashdb
