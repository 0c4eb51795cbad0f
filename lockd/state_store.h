#pragma once
// lockd's persistent state in the state directory (default /var/lib/lockd/): the highest
// database generation ever accepted (the anti-rollback floor), and the kernel settings lockd
// changed with their values from before (for the uninstaller to put back). Each is written
// atomically (temporary file, fsync, rename, fsync of the directory) so a crash leaves either
// the old or the new value, never a torn one; a file that does not parse is an error, not 0
// (resetting the floor would re-open rollback).

#include <cstdint>
#include <map>
#include <string>

#include "hashdb/result.h"

namespace lockd {

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  // 0 when nothing was ever accepted (the file does not exist).
  hashdb::Result<std::uint64_t> HighestGeneration() const;
  // Persists generation as the new floor. Creates the directory (0700) if missing.
  hashdb::Status SetHighestGeneration(std::uint64_t generation) const;

  std::string GenerationPath() const { return dir_ + "/highest-generation"; }

  // <dir>/sysctl-restore: one "name=value" line per kernel setting lockd changed, the value
  // being the one found before lockd's first change (read by installer/uninstall.sh and the
  // Debian postrm, which write the values back). Empty map when there is no file; a line that
  // does not parse is an error (guessing would lose the value to restore).
  hashdb::Result<std::map<std::string, long>> SavedSysctls() const;
  // Replaces the record (atomically); an empty map removes it.
  hashdb::Status SaveSysctls(const std::map<std::string, long>& values) const;
  hashdb::Status ForgetSysctls() const { return SaveSysctls({}); }
  std::string SysctlRecordPath() const { return dir_ + "/sysctl-restore"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace lockd
