#pragma once
// Assembling the auditor's bundle from the terminal's files (lockctl export). Read-only on
// the terminal: the database, trust dir, state dir (terminal id) and audit log are read, never
// written or created (the command, not this function, writes the export mark next to the log,
// lockd/audit/rotation_drop.h); the daemon need not run (when its control socket answers, its
// `status --json` is included too).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/config.h"
#include "tools/doctor/posture.h"
#include "tools/export/bundle.h"
#include "tools/token/token.h"

namespace lockctl::exporttool {

struct ExportRequest {
  std::string config_path;  // shown in host.json
  lockd::Config config;
  std::optional<std::chrono::system_clock::time_point> since;  // events at or after
  std::string since_text;
  bool collect_posture = true;
  lockd::CollectOptions posture;
  bool ask_daemon = true;  // try config.control_socket for status --json
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

struct ExportResult {
  Files files;
  std::vector<std::string> notes;  // what is missing or doubtful, for the operator's terminal
  bool chain_ok = false;
  std::string head_hash;
  std::uint64_t head_seq = 0;  // the last record's seq (0: none)
};

// Builds every file of the bundle, then MANIFEST.sha256 and, with a token, signer.pem,
// signer.json and MANIFEST.sig. Missing inputs (no database, no log) are recorded in the
// bundle and in notes, not errors; fails only when signing fails or an input exists but
// cannot be read.
hashdb::Result<ExportResult> BuildBundle(const ExportRequest& request, Token* token);

}  // namespace lockctl::exporttool
