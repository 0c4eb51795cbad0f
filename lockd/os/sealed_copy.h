#pragma once
// A private, immutable copy of a file: its bytes copied into a memfd that is then sealed
// against writing, shrinking and growing.
//
// Why: hashdb::Database maps its file. If lockd mapped the installed database file itself, an
// in-place overwrite of that file (`cp new.lockdb allowlist.lockdb` truncates and rewrites the
// same inode) would change the database in force without any verification, and a truncation
// would turn lookups into SIGBUS and crash the daemon. The copy is taken once, then verified;
// what was verified is what is used until the next reload.

#include <cstdint>
#include <string>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

// Files larger than max_bytes are refused (a database is far smaller; this bounds memory).
hashdb::Result<hashdb::UniqueFd> SealedCopy(const std::string& path,
                                            std::uint64_t max_bytes = 1ULL << 30);

}  // namespace lockd::os
