#pragma once
// `lockctl log verify` and `lockctl log show`: the audit log for auditors and people.
// Run* functions write to out/err and return the exit status (tools/commands.h ExitCode).

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace lockctl {

inline constexpr const char* kDefaultAuditLog = "/var/log/lockd/audit.jsonl";

struct LogFilesArgs {
  std::vector<std::string> files;      // in chain order; empty: discover from `log`
  std::string log = kDefaultAuditLog;  // base name whose rotated files are discovered
};

struct LogVerifyArgs {
  LogFilesArgs input;
  bool require_genesis = false;
  std::vector<std::string> anchors;  // head hashes taken earlier that must still be there
  bool json = false;
};

// Exit 0: the chain verifies (a torn tail from an unrepaired crash is reported, not a break);
// 1: a break, named on stderr as FILE:LINE: seq N: reason; 2: a file cannot be read.
int RunLogVerify(const LogVerifyArgs& args, std::ostream& out, std::ostream& err);

struct LogShowArgs {
  LogFilesArgs input;
  std::string since;               // tools/since.h: a time, a date, or a duration ago (30s, 7d)
  std::vector<std::string> types;  // keep only these types (comma lists allowed)
  bool json = false;               // print the matching lines exactly as stored
};

// Exit 0 (also when nothing matches); 2 on a bad --since or an unreadable file. Lines that are
// not records are shown as such, never skipped silently.
int RunLogShow(const LogShowArgs& args, std::ostream& out, std::ostream& err);

struct LogSummaryArgs {
  LogFilesArgs input;
  bool log_given = false;  // --log given: else the config's audit_log
  std::string config = "/etc/lockd/lockd.toml";
  bool config_given = false;  // a missing --config file is an error then
  std::string since;
  std::vector<std::string> types;  // would-deny (default), deny; "_" or "-" spelled
  bool json = false;
};

// Groups the deny / would_deny records and proposes what to do with each (tools/log/summary.h).
// The configuration gives the baseline roots and the database in force (compared path by
// path); neither is required. Exit 0 (also when nothing was blocked); 2 on bad usage or an
// unreadable file.
int RunLogSummary(const LogSummaryArgs& args, std::ostream& out, std::ostream& err);

// The files to read: args.files, or the rotated files of args.log. nullopt after printing the
// reason to err.
std::optional<std::vector<std::string>> ResolveLogFiles(const LogFilesArgs& args,
                                                        std::ostream& err);

}  // namespace lockctl
