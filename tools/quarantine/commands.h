#pragma once
// `lockctl quarantine PATH --out DIR [--remove]`: has lockd copy a denied file into a
// non-executable archive for forensics (lockd/quarantine/quarantine.h; docs/runbook.md,
// "Forensics"). Root only, like `lockctl status`: lockd checks the peer's uid.

#include <ostream>
#include <string>

namespace lockctl {

struct QuarantineArgs {
  std::string path;     // the file; made absolute against the current directory, not resolved
  std::string out_dir;  // made absolute the same way
  bool remove = false;
  bool json = false;
  std::string socket = "/run/lockd/control.sock";
};

// The request lockd's control socket expects (lockd/control/server.h): "quarantine" or
// "quarantine --remove", then the two absolute paths as lower-case hex, one a line.
std::string QuarantineRequestText(const std::string& abs_path, const std::string& abs_out_dir,
                                  bool remove);

// Sends the request; prints lockd's JSON reply (--json) or a summary. 0 archived (and removed
// when asked), 1 refused by lockd or a requested removal that did not happen, 2 error.
int RunQuarantine(const QuarantineArgs& args, std::ostream& out, std::ostream& err);

}  // namespace lockctl
