#pragma once
// The daemon's life: startup as one ordered list of steps, the event loop, teardown steps that
// always run. main.cpp parses the command line and hands over to the supervisor
// (supervisor.h), which creates the fanotify group and runs RunDaemon in a forked decider.
//
// Startup (one method of daemon.cpp's Decider per step): signals -> the startup responder on
// the supervisor's group -> config -> audit log (and the decider_restart record when this
// decider replaces a dead one) -> load and verify the database (no valid database: log why,
// exit non-zero, never pretend to enforce) and the watch -> the fanotify group from the
// supervisor -> maintenance services, decider and workers -> marks on every selected
// filesystem (re-placing marks a dead decider left on the group is harmless: adding a mark that
// exists only merges its mask) -> control socket -> READY=1 and the ready byte to the
// supervisor -> event loop.
// Teardown (in reverse, always): STOPPING=1 -> control socket closed -> marks removed ->
// events already queued answered -> workers drained. The group itself is closed by the
// supervisor when it exits.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/stuck_decider_guard.h"

namespace lockd {

class DecisionSink;
namespace os {
class FanotifyGroup;
}

// Told by the supervisor to a decider that replaces one that died.
struct DeciderRestart {
  int number = 0;  // 1 for the first restart since the supervisor started
  pid_t previous_pid = 0;
  std::string how_ended;             // "signal 9 (Killed)", "exit 1"
  std::uint64_t pending_denied = 0;  // events the dead decider had read, denied by the supervisor
  std::uint64_t denied_outside_ledger = 0;  // of those, found only by the fd sweep
  std::int64_t died_unix_ns = 0;
  // Deciders since the last ready one that failed before they were ready (0 after a plain
  // crash), and the last one's words on the ready pipe ("database: ...").
  int failed_starts = 0;
  std::string last_failure;
  // Permission events the supervisor denied while no decider ran (since the last ready one).
  std::uint64_t denied_while_down = 0;
  // FUSE connections the supervisor aborted because the dead decider was stuck dying in a
  // request to them (stuck_decider_guard.h): each becomes a fuse_abort record.
  std::vector<SupervisorFuseAbort> fuse_aborts;
};

struct DaemonOptions {
  std::string config_path;
  // Extra sink next to stderr (the audit log, issue 6). May be null.
  std::shared_ptr<DecisionSink> extra_sink;
  // The group to decide through, created by the supervisor before it forked this process; the
  // supervisor keeps its own copy of the fd open, so this process dying releases no event.
  // Null when the supervisor could not create it: group_error says why, and RunDaemon fails
  // at its "fanotify" step (so the startup order and messages stay the same).
  os::FanotifyGroup* group = nullptr;
  std::optional<hashdb::Error> group_error;
  // The group FUSE and network filesystems are marked in, read by a thread of its own
  // (untrusted_reader.h), also made by the supervisor. Null: they are marked in `group` and a
  // FUSE server that never answers the kernel's open of a file for lockd holds every decision.
  os::FanotifyGroup* untrusted_group = nullptr;
  // When >= 0, the ready pipe to the supervisor: after READY=1 the decider writes
  // "R<control socket path>" (startup succeeded; the supervisor answers `status` on that socket
  // while no decider runs), or before exiting at a failed startup step "F<step>: <reason>";
  // then it closes the fd. A decider that exits without "R" failed at startup.
  int ready_fd = -1;
  // Set when this decider replaces a dead one: an audit decider_restart record is written.
  std::optional<DeciderRestart> restart;
};

// Returns the process exit status: 0 after a clean stop, 1 when startup failed.
int RunDaemon(const DaemonOptions& options);

}  // namespace lockd
