#pragma once
// The signed allowlist database, write side: canonical bytes from a set of entries.

#include <cstdint>
#include <vector>

#include "hashdb/entry.h"
#include "hashdb/keys.h"
#include "hashdb/policy.h"
#include "hashdb/result.h"

namespace hashdb {

struct DatabaseContents {
  std::uint64_t generation = 1;
  std::int64_t created_unix = 0;  // 0: now
  Policy policy;
  std::vector<FileEntry> entries;  // any order; duplicate paths are an error
};

// Serializes and signs. Same contents and key give the same bytes up to the signature
// (ECDSA signatures are randomized; Ed25519 ones are not).
Result<std::vector<std::uint8_t>> BuildDatabase(const DatabaseContents& contents, Signer& signer);

}  // namespace hashdb
