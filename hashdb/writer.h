#pragma once
// The signed allowlist database, write side: canonical bytes from a set of entries.

#include <cstdint>
#include <vector>

#include "hashdb/entry.h"
#include "hashdb/format.h"
#include "hashdb/keys.h"
#include "hashdb/policy.h"
#include "hashdb/result.h"

namespace hashdb {

struct DatabaseContents {
  std::uint64_t generation = 1;
  std::int64_t created_unix = 0;  // 0: now
  Policy policy;
  std::vector<FileEntry> entries;  // any order; duplicate paths are an error
  // Version 2 unless a terminal's lockd reads only version 1 (which cannot hold the newer
  // policy settings nor an interpreter flag that the file's name does not imply).
  std::uint16_t format_version = format::kCurrentVersion;
};

// Serializes and signs. Same contents and key give the same bytes up to the signature
// (ECDSA signatures are randomized; Ed25519 ones are not). Refuses, naming the entry or the
// setting, anything the reader would refuse: a path that is not absolute and canonical (version
// 2: no empty, "." or ".." component, a last component of at most 255 bytes), a duplicate path,
// a bad kind, a policy that ValidatePolicy refuses.
//
// A digest is flagged as an interpreter when any of its entries has `interpreter` set or has a
// last path component that IsInterpreterName(policy.interpreters) accepts.
Result<std::vector<std::uint8_t>> BuildDatabase(const DatabaseContents& contents, Signer& signer);

}  // namespace hashdb
