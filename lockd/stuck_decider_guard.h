#pragma once
// The supervisor's watch on a decider that was killed and cannot finish dying.
//
// The decider's own guard (untrusted_reader.h) aborts a FUSE connection whose server holds
// lockd's untrusted reader. But when the decider is killed (kill -9: root; or it crashes) while
// such a server holds that reader, the guard dies with it and the reader's thread stays in the
// FUSE request, which waits uninterruptibly once the server has read it: the decider's leader is
// a zombie that cannot be reaped, the supervisor never learns of the death (no SIGCHLD), denies
// nothing and starts no fresh decider, and every exec on the terminal waits (a freeze only root
// can cause, or a crash at the wrong moment).
//
// This guard closes that: the supervisor calls Check about every period while its decider is not
// reaped. Once the decider has been seen dying (os::ReadProcessLife: leader exited, or SIGKILL
// pending) for longer than `grace`, it aborts every FUSE connection marked in the untrusted
// group that has requests waiting (fusectl, os::FuseConnections::Abort; the marks outlive the
// decider, the supervisor reads them from its own copy of the group), at most once per grace.
// The held request fails, the stuck thread leaves, the decider is reaped and the supervisor
// goes on as after any death: it denies what the decider left pending and forks a fresh one,
// which records each abort (a `fuse_abort` daemon event, reported by "supervisor").
//
// What it cannot release: a thread stuck elsewhere (a hard NFS mount whose server is gone, a
// disk): nothing local to abort; the supervisor still waits for that death.
//
// As the decider's guard, it cannot tell which connection holds the decider, so an innocent
// FUSE filesystem with requests waiting at that moment is aborted too.
//
// Not thread-safe: the supervisor's single thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/os/fuse_control.h"
#include "lockd/os/process_exit.h"

namespace lockd {

struct StuckDeciderGuardOptions {
  // How long a decider may take to die before the connections are aborted. A decider that
  // is not stuck is reaped within milliseconds of its death; the execs waiting meanwhile wait
  // this long (plus the supervisor's period) more.
  std::chrono::milliseconds grace{1000};
};

// One abort (or failed abort) by the supervisor, carried to the next decider's record.
struct SupervisorFuseAbort {
  std::string connection;   // fusectl name
  std::string mount_point;  // may be empty
  std::uint64_t waiting = 0;
  std::int64_t dying_ms = 0;  // how long the decider had been dying
  std::int64_t unix_ns = 0;
  std::string error;  // empty when aborted
};

// One line for the supervisor's log and the fresh decider's fuse_abort record: "supervisor
// aborted FUSE connection 42 (/mnt/x, 1 request(s) waiting): decider 7 had been dying 1250 ms
// ...", or why it could not.
std::string DescribeSupervisorFuseAbort(pid_t decider, const SupervisorFuseAbort& abort);

class StuckDeciderGuard {
 public:
  using Clock = std::chrono::steady_clock;
  // life: the decider's state (os::ReadProcessLife in lockd); marked_fuse: the FUSE
  // filesystems marked in the untrusted group (os::MarkedFuseMounts). fuse must outlive this.
  StuckDeciderGuard(os::FuseConnections& fuse, std::function<os::ProcessLife(pid_t)> life,
                    std::function<hashdb::Result<std::vector<os::FuseMount>>()> marked_fuse,
                    StuckDeciderGuardOptions options = {});

  // A new decider to watch; forgets the last one's state (not its aborts: TakeAborts).
  void Watch(pid_t decider);
  // One check at `now` while the watched decider is not reaped. Returns the aborts tried in
  // this call (also kept for TakeAborts). Errors reading the marks come back as one entry with
  // an empty connection and the error.
  std::vector<SupervisorFuseAbort> Check(Clock::time_point now);
  // The aborts tried since the last call, for the next decider's record.
  std::vector<SupervisorFuseAbort> TakeAborts();

 private:
  os::FuseConnections& fuse_;
  std::function<os::ProcessLife(pid_t)> life_;
  std::function<hashdb::Result<std::vector<os::FuseMount>>()> marked_fuse_;
  const StuckDeciderGuardOptions options_;
  pid_t decider_ = 0;
  bool dying_ = false;
  Clock::time_point dying_since_{};
  bool aborted_once_ = false;
  Clock::time_point last_abort_{};
  std::vector<SupervisorFuseAbort> aborts_;
};

}  // namespace lockd
