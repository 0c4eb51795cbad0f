#pragma once
// What the fleet report takes from one export bundle (docs/compliance.md, "The bundle"),
// read only after `exporttool::VerifyBundle` passed: the terminal (host.json), who exported
// (signer.json), the database in force (allowlist.lockdb itself: generation, signer, content,
// digests; database.json for whether it verified on the terminal), the chain (chain.json,
// which verification checked against audit/), and the events of the whole raw log in audit/
// (exporttool::ReadAuditFacts, the export's own reading, so the fleet report and each
// bundle's report.html count the same way).
//
// The database is read with structural checks only (hashdb::Database::FromBytesUnverified),
// unless a fleet trust store is given: then its signature is checked too and the result is
// stated. Nothing here is used for enforcement.

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/trust_store.h"
#include "tools/export/audit_facts.h"
#include "tools/export/bundle.h"
#include "tools/fleet/drift.h"

namespace lockctl::fleet {

struct DatabaseExtract {
  bool present = false;  // allowlist.lockdb in the bundle and structurally sound
  std::string error;     // why not (when !present)
  std::uint64_t generation = 0;
  std::string created;  // RFC 3339
  std::string signer_key_id;
  std::string content_sha256;
  std::string mode;  // enforce / audit
  std::uint32_t records = 0;
  bool verified_on_terminal = false;  // database.json: signature checked with its trust dir
  std::string terminal_verify_error;
  // With a fleet trust store: "verified" or why not; "" when none was given.
  std::string fleet_signature;
  std::vector<DigestPath> digests;  // sorted by digest, one path each
};

struct BundleFacts {
  std::string source;       // the bundle's path as given
  std::string terminal_id;  // "" when the terminal had none (host.json terminal_id null)
  std::string hostname, exported_at, lockd_version, since;
  std::string exporter_key_id, exporter_holder, exporter_token_id, exporter_organisation;
  DatabaseExtract db;
  std::uint64_t chain_records = 0, first_seq = 0, last_seq = 0;
  std::string head_hash;
  exporttool::AuditFacts facts;  // the whole log in audit/
};

// Reads the facts of a bundle that verified. Fails (kFormat, naming the file and member) when
// a file the export always writes is missing or not what it writes: host.json, chain.json.
// db_trust: fleet trust anchors for the database signature, or nullptr.
hashdb::Result<BundleFacts> ReadBundleFacts(const exporttool::BundleContents& bundle,
                                            const std::string& source,
                                            const hashdb::TrustStore* db_trust);

// The terminal id a bundle claims (host.json), for naming a bundle that failed verification;
// "" when it cannot be read. Never trusted for anything else.
std::string ClaimedTerminalId(const exporttool::BundleContents& bundle);

// The audit/ files of a bundle in chain order (rotated files oldest first).
std::vector<lockd::audit::LogInput> BundleLogs(const exporttool::Files& files);

}  // namespace lockctl::fleet
