#pragma once
// Who belongs to the maintenance session: the engineer's processes, told apart from every
// other process on the terminal, so that re-baselining learns only what the engineer's
// session (or a trusted updater) wrote or ran (issue 12 item 4).
//
// The session is identified when the window opens, from the control-socket peer that sent
// maintenance-start (lockctl, its pid from SO_PEERCRED):
//   - its login session (the kernel's audit session id, lockd/os/process_tree.h), when set:
//     every process of that login, whatever it forked, setsid'd or sudo'd, carries it, and no
//     other process can take it;
//   - the process that ran lockctl (its parent: the engineer's shell), by pid and start time:
//     its descendants are found by walking the writer's parent chain in /proc.
// A process belongs to the session when it shares the login session, or descends from that
// process. Both are judged at the write, from /proc; a writer that has already exited (and
// was reaped) cannot be judged and counts as "unknown", never as the session.
//
// Limits (docs/threat-model.md): a process of the same login (e.g. something the engineer
// started in the background earlier) is in the session; without a login session id (no
// pam_loginuid) the session is only what descends from the shell that ran lockctl.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hashdb/result.h"
#include "lockd/os/process_tree.h"

namespace lockd::maintenance {

// Longest parent chain walked from a writer (deeper trees count as not in the session).
inline constexpr int kMaxAncestry = 64;

struct SessionOrigin {
  pid_t requester = 0;  // the process that sent maintenance-start (lockctl)
  pid_t origin = 0;     // the process whose descendants are the session (lockctl's parent)
  std::uint64_t origin_start = 0;
  std::optional<std::uint32_t> login_session;  // the requester's, when set
};

// The session of the process that sent the request. self: lockd's pid. The origin is the
// requester's parent, except when that parent is pid 1 (or 0: everything descends from init)
// or lockd itself: then the requester alone. kNotFound when the requester cannot be read from
// /proc.
hashdb::Result<SessionOrigin> OriginOf(pid_t requester, pid_t self, const os::ProcessSource& procs);

// Who wrote (or ran) a file: the maintenance session, a trusted updater, another process, or
// a process that could not be judged (gone before lockd looked).
enum class By { kSession, kUpdater, kOther, kUnknown };
std::string_view ByName(By by);  // "session", "updater", "other", "unknown"
std::optional<By> ByFromName(std::string_view name);

// kSession, kOther or kUnknown for the process pid (see the rules above).
By Attribute(pid_t pid, const SessionOrigin& origin, const os::ProcessSource& procs);

// Window file lines for the origin ("requester", "origin", "login_session"), and back.
std::string SerializeOrigin(const SessionOrigin& origin);
// One value line of the window file ("requester: 1234" ...) into origin; kFormat when key is
// not one of the origin's keys or its value is not well formed.
hashdb::Status ParseOriginLine(std::string_view key, std::string_view value, SessionOrigin& origin);

}  // namespace lockd::maintenance
