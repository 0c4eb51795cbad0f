#pragma once
// The policy section of the database: settings that must not be changeable by editing a text
// file (the database is signed), such as the enforcement mode and the coverage switches.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hashdb/result.h"

namespace hashdb {

enum class Mode : std::uint8_t {
  kEnforce = 0,  // deny and log
  kAudit = 1,    // allow, log what would be denied
};
std::string_view ModeName(Mode mode);  // "enforce", "audit"

struct Policy {
  Mode mode = Mode::kEnforce;
  bool cover_shared_objects = true;  // FAN_OPEN_PERM on ELF objects opened for reading
  bool cover_scripts = true;         // scripts opened by a listed interpreter
  bool memfd_noexec = true;          // set vm.memfd_noexec=2 where the kernel has it
  bool deny_untrusted_fs = true;     // deny exec from FUSE and network filesystems
  // Basenames of interpreters whose reads of scripts are checked.
  std::vector<std::string> interpreters = DefaultInterpreters();

  static std::vector<std::string> DefaultInterpreters();
  bool operator==(const Policy&) const = default;
};

// Canonical bytes of the policy section (see docs/database-format.md).
std::vector<std::uint8_t> SerializePolicy(const Policy& policy);
// Rejects unknown tags, duplicate tags, bad lengths and bad values.
Result<Policy> ParsePolicy(std::span<const std::uint8_t> bytes);

}  // namespace hashdb
