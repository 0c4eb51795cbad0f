#pragma once
// `lockctl export verify`: the offline check of a bundle. Every problem found is listed (not
// only the first), each naming the file and what does not match:
// - MANIFEST.sha256 is present and well formed; every file it lists is present with that
//   SHA-256; no other file is present (only MANIFEST.sig may be absent from the list);
// - the signature: MANIFEST.sig over kExportDomain + the manifest, by the key in signer.pem
//   (whose key id must match); with a trust store, that key id must be a trust anchor and the
//   anchor's key must verify it (an unsigned bundle then fails); without one the signature is
//   checked against the bundle's own signer.pem only, which proves integrity, not origin;
// - the audit log chain in audit/ verifies again, and its head and record count equal what
//   chain.json recorded at export time.

#include <string>
#include <vector>

#include "hashdb/trust_store.h"
#include "tools/export/bundle.h"

namespace lockctl::exporttool {

struct BundleVerdict {
  std::vector<std::string> problems;  // "<file>: <what does not match>"
  std::vector<std::string> lines;     // what was checked, for the report on stdout
  std::string signature;              // "unsigned", or who signed and whether it verified
  bool ok() const { return problems.empty(); }
};

// The names of the bundle's audit/ files in chain order: audit/audit.jsonl.N ...
// audit/audit.jsonl.1, audit/audit.jsonl (rotated files oldest first).
std::vector<std::string> LogFilesInChainOrder(const Files& files);

// trust: nullptr when no --trust was given; trust_name for messages.
BundleVerdict VerifyBundle(const BundleContents& bundle, const hashdb::TrustStore* trust,
                           const std::string& trust_name);

}  // namespace lockctl::exporttool
