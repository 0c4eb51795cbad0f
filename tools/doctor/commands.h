#pragma once
// `lockctl doctor [--json] [--db FILE --trust DIR]`: the posture report (tools/doctor/posture.h) as
// aligned text or as one JSON object. Exit 0 when no check fails, 1 when any fails, 2 on usage
// errors (one of --db / --trust without the other, an unreadable trust directory).
//
// A database that cannot be read or does not verify is not a usage error but a finding: the
// "allowlisted_interpreters" check fails with the reason.
//
// JSON contract (the auditor's export embeds it; add members, never rename or remove):
//   {"schema":"lockd-doctor/1","kernel":"...","status":"ok|warn|fail",
//    "summary":{"ok":N,"warn":N,"fail":N},"database":null|{"path":"..."},
//    "checks":[{"id":"...","title":"...","status":"...","why":"...",
//               "items":[{"path":"...","detail":"..."}]}]}
// Paths that are not valid UTF-8 also carry "path_hex" (see tools/output.h).

#include <ostream>
#include <string>
#include <vector>

#include "tools/doctor/posture.h"

namespace lockctl {

struct DoctorOptions {
  bool json = false;
  std::string db_path;  // with trust_dir: also list the allowlisted interpreters
  std::string trust_dir;
  lockd::CollectOptions collect;
};

int RunDoctor(const DoctorOptions& options, std::ostream& out, std::ostream& err);

// Rendering, separate so that the export and tests can use it on any facts.
std::string DoctorJson(const lockd::PostureFacts& facts,
                       const std::vector<lockd::PostureCheck>& checks);
std::string DoctorText(const lockd::PostureFacts& facts,
                       const std::vector<lockd::PostureCheck>& checks);

}  // namespace lockctl
