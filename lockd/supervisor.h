#pragma once
// The supervisor: the process lockd's main() becomes. It exists so that the death of the
// deciding process (a crash, kill -9, the OOM killer) does not open the gate: the kernel
// allows every pending permission event when the last fd of the fanotify group is closed, so
// the group is created here, in a small single-threaded process, and the decider is a fork()ed
// child (no exec) that inherits it and runs RunDaemon (daemon.h) through it. So is the second
// group, for FUSE and network filesystems (untrusted_reader.h), which the supervisor never reads
// (the kernel's open of a file on FUSE in that read could wait on the server forever); it only
// denies what a dead decider had read from it.
//
// When the decider dies abnormally the supervisor, which still holds the group open:
//   1. logs how it ended;
//   2. denies every permission event the dead decider had read but not answered
//      (FanotifyGroup::DenyOrphanedEvents, via the shared PendingLedger and an fd sweep): the
//      processes waiting on them get EPERM instead of hanging or being allowed;
//   3. forks a fresh decider (after RestartPolicy's pause), which writes the audit
//      decider_restart record, loads the database, re-places the marks and reads the events
//      that queued up meanwhile (they wait in the kernel: nothing is allowed in between).
// A decider that was killed but cannot finish dying (a thread held in a FUSE request, so it is
// never reaped) is released after a grace by aborting the FUSE connections marked in the
// untrusted group (stuck_decider_guard.h), so that step 1 comes at all.
// Too many crashes in a row (RestartPolicy) and the supervisor exits 1: that closes the group,
// so the kernel allows everything until systemd (Restart=always) starts lockd again. A decider
// that fails at startup (bad config, no valid database, ...) is not restarted: the supervisor
// exits with its status, after the decider has logged why.
//
// Signals: SIGTERM and SIGINT are forwarded to the decider (clean stop: it removes its marks
// and answers what is queued), waited for (stop_timeout; then SIGKILL and the orphans
// denied), and the supervisor exits with the decider's status. SIGHUP is forwarded (reload).
// If the supervisor itself dies, the decider gets SIGTERM (PR_SET_PDEATHSIG) and stops
// cleanly: there is never an unsupervised decider.
//
// The supervisor stays tiny on purpose (it is the one process whose death still fails open):
// no threads, no configuration, no database, no hashing, no audit writer.

#include <chrono>

#include "lockd/daemon.h"
#include "lockd/supervisor_policy.h"

namespace lockd {

struct SupervisorOptions {
  DaemonOptions daemon;
  RestartPolicyOptions policy;
  // How long a decider may take to stop after SIGTERM (below systemd's TimeoutStopSec=30s).
  std::chrono::seconds stop_timeout{25};
};

// Runs the supervisor until lockd stops; returns the process exit status. In a forked decider
// it never returns (the decider ends with _exit, as a fork()ed child should).
int RunSupervised(SupervisorOptions options);

}  // namespace lockd
