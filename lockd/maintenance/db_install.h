#pragma once
// Installing a new database on the terminal (maintenance finish, db install): the one path by
// which a token-authorized database file replaces the one in force.
//
// Steps: read the file once (ReadDatabaseFile; its SHA-256 is what the token authorized);
// verify those same bytes against the trust anchors; require a generation greater than the one
// in force; keep a hard link to the installed file (<database>.previous); write the bytes
// atomically over the configured path (temporary file, fsync, rename, fsync of the directory:
// the rename is the commit point); DatabaseManager::Load it (which verifies again, swaps it in
// and only then raises the anti-rollback floor). If the load fails, the previous file is put
// back. A crash at any step leaves a database that verifies in place: the previous one before
// the rename, the new one (already verified) after it.

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/database_manager.h"

namespace lockd::maintenance {

// Largest database file accepted over the control socket (a 1M-entry database is ~100 MiB).
inline constexpr std::uint64_t kMaxDatabaseFile = 1ull << 30;

struct DatabaseFile {
  std::string path;
  std::vector<std::uint8_t> bytes;
  std::string sha256_hex;
};

// Opens path (O_NOFOLLOW, regular file, at most kMaxDatabaseFile), reads it whole and hashes
// the bytes read.
hashdb::Result<DatabaseFile> ReadDatabaseFile(const std::string& path);

struct InstallOutcome {
  std::uint64_t previous_generation = 0;
  std::uint64_t generation = 0;
  std::uint64_t added = 0;
  std::uint64_t removed = 0;
  std::uint64_t changed = 0;
  std::string description;  // one line: name, generation, entries, signer
};

// The steps above. Errors say which step refused and why; on every error the database in force
// and the file at the configured path are the previous ones.
hashdb::Result<InstallOutcome> InstallDatabase(const DatabaseFile& file,
                                               DatabaseManager& databases);

}  // namespace lockd::maintenance
