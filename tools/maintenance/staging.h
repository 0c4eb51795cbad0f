#pragma once
// Staging of a database before lockd installs it: a root-only directory under lockd's state
// dir (<state_dir>/staging, mode 0700), files written atomically (temporary file, fsync,
// rename; mode 0600). lockd is handed the path and the authorization for the SHA-256 of the
// bytes staged; it hashes what it reads, so a file changed after staging is refused.
//
// Crash safety: a half-written staging file never exists under its final name (atomic
// write), lockd never reads a staging file it was not told about, and the database in force is
// only ever replaced by lockd after it verified the staged one. A crash at any step leaves the
// previous database in force and at most a stale staging file, which the next run overwrites.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockctl {

inline constexpr char kStagingSubdir[] = "staging";
inline constexpr char kMaintenanceStagingName[] = "allowlist.lockdb.new";
inline constexpr char kInstallStagingName[] = "install.lockdb";
inline constexpr char kAnchorStagingName[] = "anchor.pem";

// "<state_dir>/staging/<name>" (no doubled slash).
std::string StagingPath(std::string_view state_dir, std::string_view name);

// Creates <state_dir>/staging if missing (mode 0700). Refuses one that is a symlink, not a
// directory, or not owned by the effective user; tightens its mode to 0700 otherwise.
hashdb::Status EnsureStagingDir(const std::string& state_dir);

// Writes bytes to path atomically with mode 0600 and returns the hex SHA-256 of bytes.
hashdb::Result<std::string> StageBytes(const std::string& path,
                                       std::span<const std::uint8_t> bytes);

// Reads a whole regular file (a database on the stick), refusing more than limit bytes.
hashdb::Result<std::vector<std::uint8_t>> ReadWholeFile(const std::string& path,
                                                        std::uint64_t limit);

}  // namespace lockctl
