#pragma once
// The export's evidence files made from the audit log and the host: generations.json,
// maintenance.json, blocks.csv, chain.json, host.json. Formats: docs/compliance.md.
// Outsider bytes are escaped as in the rest of lockctl's JSON (tools/output.h: readable
// string plus `<key>_hex` when not valid UTF-8) and as in csv.h for CSV.

#include <string>
#include <vector>

#include "audit/verify.h"
#include "tools/export/audit_facts.h"

namespace lockctl::exporttool {

// blocks.csv header: seq,time,type,reason,mode,path,path_hex,path_truncated,sha256,exe,exe_hex,
// pid,uid,generation,cached
std::string BlocksCsv(const AuditFacts& facts);

std::string GenerationsJson(const AuditFacts& facts);
std::string MaintenanceJson(const AuditFacts& facts);

// files: the bundle names of the log files (audit/...), in chain order; log_base: where the
// log was read on the terminal ("" when there was none).
std::string ChainJson(const lockd::audit::VerifyReport& report,
                      const std::vector<std::string>& files, const std::string& log_base);

struct HostFacts {
  std::string terminal_id;        // "" when unknown
  std::string terminal_id_error;  // why it is unknown
  std::string hostname;
  std::string kernel_sysname, kernel_release, kernel_version, machine;
  std::string lockd_version;
  std::string exported_at;  // RFC 3339
  std::string config_path;
  std::string since;  // the --since given, "" for all
};
HostFacts CollectHostFacts(const std::string& state_dir);
std::string HostJson(const HostFacts& host);

// Counts of blocks per (path, sha256), most first: for the report's "top blocked files".
struct BlockedFile {
  std::string path, sha256;
  std::uint64_t deny = 0, would_deny = 0;
  std::string last_time;
};
std::vector<BlockedFile> TopBlockedFiles(const AuditFacts& facts, std::size_t limit);

}  // namespace lockctl::exporttool
