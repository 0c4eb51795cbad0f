#pragma once
// `lockctl export` and `lockctl export verify`: the auditor's bundle (tools/export/; format and
// what each file answers: docs/compliance.md). Run* functions write to out/err and return the
// exit status (tools/commands.h ExitCode).

#include <ostream>
#include <string>

#include "tools/token/token_options.h"

namespace lockctl {

struct ExportArgs {
  std::string out;                               // DIR, or FILE.tar
  std::string config = "/etc/lockd/lockd.toml";  // where database, trust, state, log are
  bool config_given = false;                     // a missing --config file is an error then
  std::string since;                             // events at or after (tools/since.h)
  TokenOptions token;                            // token.token empty: unsigned
  bool collect_posture = true;                   // off in unit tests (no fanotify probes)
  bool ask_daemon = true;
};

// Exit 0: written (notes about missing inputs on err); 2: usage or I/O error, or signing
// failed. The bundle is written only whole: nothing is left at --out on failure before the
// write begins.
int RunExport(const ExportArgs& args, std::ostream& out, std::ostream& err);

struct ExportVerifyArgs {
  std::string bundle;
  std::string trust;  // "": check the signature only against the bundle's own signer.pem
};

// Exit 0: every check passed; 1: something does not match (each problem on err, naming the
// file); 2: the bundle or trust dir cannot be read.
int RunExportVerify(const ExportVerifyArgs& args, std::ostream& out, std::ostream& err);

}  // namespace lockctl
