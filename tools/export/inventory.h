#pragma once
// The allowlist inventory (inventory.csv) and the database metadata (database.json) of the
// export. The database format keeps no history per entry (docs/database-format.md), so the
// "generation added" of an entry is only stated where the audit log proves it: a
// maintenance_learned record of a session that finished as generation G, for the same path
// and SHA-256, with G not above the database in force. Every other entry says so plainly in
// generation_added_basis and leaves generation_added empty: nothing is guessed.

#include <string>

#include "hashdb/database.h"
#include "tools/export/audit_facts.h"

namespace lockctl::exporttool {

// Header: path,path_hex,sha256,kind,size,mode,owner,generation_added,generation_added_basis
// (encoding: csv.h). facts: the whole log (not limited by --since).
std::string InventoryCsv(const hashdb::Database& db, const AuditFacts& facts);

struct DatabaseFacts {
  std::string path;         // where the database was read
  std::string file_sha256;  // of the file's bytes
  bool signature_verified = false;
  std::string verify_error;  // why the signature or structure check failed ("" when ok)
  std::string trust_dir;
};

// database.json: path, file SHA-256, whether the signature verified with the trust dir,
// generation, created, signer key id and algorithm, policy, counts (records, digests, per
// kind). db may be null (no readable database): the JSON then carries the error.
std::string DatabaseJson(const hashdb::Database* db, const DatabaseFacts& facts);

}  // namespace lockctl::exporttool
