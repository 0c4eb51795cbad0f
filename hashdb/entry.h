#pragma once
// What the database records about one file: its content digest, what kind of code it is, and
// the metadata an auditor or a diff wants (path as raw bytes: Linux paths need not be UTF-8).

#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/digest.h"

namespace hashdb {

// Stored as one byte in the digest table; values are part of the on-disk format.
enum class Kind : std::uint8_t {
  kElfExecutable = 1,    // ELF ET_EXEC, or ET_DYN with a PT_INTERP (a PIE program)
  kElfSharedObject = 2,  // ELF ET_DYN without PT_INTERP (a library, or the loader itself)
  kScript = 3,           // starts with "#!", or a source/byte-code file an interpreter loads
  kOtherExecutable = 4,  // has an execute bit but is none of the above
};

inline bool IsValidKind(std::uint8_t value) { return value >= 1 && value <= 4; }
std::string_view KindName(Kind kind);  // "elf-exec", "elf-so", "script", "other-exec"

struct FileEntry {
  std::string path;  // absolute, raw bytes, no NUL
  Digest digest{};
  Kind kind = Kind::kOtherExecutable;
  std::uint64_t size = 0;
  std::uint32_t mode = 0;  // st_mode
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  // The content is an interpreter (format version 2 flags its digest): lockd recognises an
  // interpreter by the digest of its executable, so a copy under another name still is one.
  // The writer also sets it for every file whose name is one of the policy's interpreters.
  bool interpreter = false;

  bool operator==(const FileEntry&) const = default;
};

}  // namespace hashdb
