#pragma once
// The policy section of the database: settings that must not be changeable by editing a text
// file (the database is signed), such as the enforcement mode and the coverage switches.
// Every default is the strong setting; a version-1 policy section, which has only the first
// six tags, reads as if the newer tags held their defaults.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
  // Basenames of interpreters whose reads of scripts are checked; the database builder also
  // flags the content of every file of these names as an interpreter (IsInterpreterName).
  std::vector<std::string> interpreters = DefaultInterpreters();

  // Version 2 and later. Where lockd enforces: the filesystems of these absolute paths and of
  // every mount at or below them. Empty: every local filesystem (the strongest). Signed, so
  // that nobody who can write lockd's files offline can point it at an empty directory.
  std::vector<std::string> watch;
  // Turn off unprivileged user namespaces at start (user.max_user_namespaces or Debian's
  // kernel.unprivileged_userns_clone), so that no user mounts a filesystem of their own.
  bool restrict_user_namespaces = true;
  // Execute or load a file only if it is owned by root or a uid of trusted_owners and not
  // writable by group or others (denials: "writable-by-user").
  bool deny_user_writable = true;
  // Owners besides root (uid 0, always trusted) whose files count as not user-writable:
  // strictly increasing, never 0 or 4294967295.
  std::vector<std::uint32_t> trusted_owners;

  static std::vector<std::string> DefaultInterpreters();
  bool operator==(const Policy&) const = default;
};

// Limits of the lists (each bounds what a hostile file can make a reader allocate).
inline constexpr std::size_t kMaxInterpreterName = 255;
inline constexpr std::size_t kMaxInterpreters = 64;
inline constexpr std::size_t kMaxWatchPaths = 64;
inline constexpr std::size_t kMaxTrustedOwners = 64;
inline constexpr std::size_t kMaxPolicySize = 64 * 1024;

// Checks what ParsePolicy would check, on a policy about to be written: a writer refuses a
// policy its readers would refuse. Names the setting and the offending value.
Status ValidatePolicy(const Policy& policy);
// Canonical bytes of the policy section of `version` (see docs/database-format.md). Version 1
// has no place for the newer settings: the caller checks FitsVersion1 first.
std::vector<std::uint8_t> SerializePolicy(const Policy& policy, std::uint16_t version = 2);
// Whether every setting a version-1 file cannot carry holds its default.
bool FitsVersion1(const Policy& policy);
// Rejects unknown tags (for that version), duplicate or missing tags, bad lengths and bad
// values. A version-1 section gives the defaults of the version-2 settings.
Result<Policy> ParsePolicy(std::span<const std::uint8_t> bytes, std::uint16_t version = 2);

// Whether a file name (no directory) is one of `names`: exactly, or followed by a version made
// of digits, dots and dashes only ("python3.11" is "python3" and "python"; "perl5.36.0" is
// "perl"; "bashful" is not "bash"). The rule lockd has used for an opener's executable.
bool IsInterpreterName(std::string_view name, const std::vector<std::string>& names);

// Whether a watch path is canonical: absolute, at most 4096 bytes, no NUL, and "/" or
// components that are not empty, "." or ".." (no trailing slash).
bool IsCanonicalAbsolutePath(std::string_view path);

}  // namespace hashdb
