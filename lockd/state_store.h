#pragma once
// lockd's persistent state in the state directory (default /var/lib/lockd/). Today one value:
// the highest database generation ever accepted, the anti-rollback floor. It is written
// atomically (temporary file, fsync, rename, fsync of the directory) so a crash leaves either
// the old or the new value, never a torn one; a file that does not parse is an error, not 0
// (resetting the floor would re-open rollback).

#include <cstdint>
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
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace lockd
