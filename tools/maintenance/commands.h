#pragma once
// `lockctl maintenance start|status|abort|finish`: the field engineer's maintenance window
// (docs/runbook.md). Every command but status is authorized by the token through lockd's
// challenge (tools/control_client.h). Callable from tests with their own streams; each returns
// an ExitCode: 0 done, 1 refused (by lockd, or not confirmed), 2 usage or I/O error.

#include <istream>
#include <ostream>
#include <string>

#include "tools/control_client.h"
#include "tools/progress.h"
#include "tools/token/token_options.h"

namespace lockctl {

inline constexpr unsigned kDefaultMaintenanceMinutes = 60;

int RunMaintenanceStart(unsigned minutes, const TerminalOptions& terminal,
                        const TokenOptions& token, std::ostream& out, std::ostream& err);
int RunMaintenanceStatus(bool json, const TerminalOptions& terminal, std::ostream& out,
                         std::ostream& err);
int RunMaintenanceAbort(const TerminalOptions& terminal, const TokenOptions& token,
                        std::ostream& out, std::ostream& err);

struct FinishOptions {
  TerminalOptions terminal;
  TokenOptions token;
  bool yes = false;           // install without asking
  bool full = false;          // list every path of the diff
  bool updater_only = false;  // see tools/maintenance/rescan.h
  unsigned threads = 0;
  // The rescan's progress on err (tools/progress.h); the caller resolves --progress=auto.
  ProgressMode progress = ProgressMode::kNone;
};

// in_is_terminal: whether `in` is a terminal to confirm on; without one, --yes is required.
int RunMaintenanceFinish(const FinishOptions& options, std::istream& in, bool in_is_terminal,
                         std::ostream& out, std::ostream& err);

// true for an answer of "y" or "yes" (any case, surrounding blanks ignored).
bool IsYes(std::string answer);

}  // namespace lockctl
