#pragma once
// Shared by the writers of each format version (hashdb/writer.cpp, hashdb/writer_v1.cpp).

#include <cstdint>
#include <vector>

#include "hashdb/keys.h"
#include "hashdb/result.h"
#include "hashdb/writer.h"

namespace hashdb::internal {

Result<std::vector<std::uint8_t>> BuildDatabaseV1(const DatabaseContents& contents, Signer& signer);
Result<std::vector<std::uint8_t>> BuildDatabaseV2(const DatabaseContents& contents, Signer& signer);

// Signs `out` (every byte before the signature) and appends u32 length and signature.
Status SignAndAppend(std::vector<std::uint8_t>& out, Signer& signer);

}  // namespace hashdb::internal
