#pragma once
// The reader of the untrusted group: the fanotify group FUSE and network filesystems are marked
// in (FilesystemMarker's untrusted_group; exec events only, UntrustedMarkMask), read by a thread
// of its own and judged by an ExecDecider of its own (its own workers), so that nothing such a
// filesystem's server does can hold a decision about any other file.
//
// Why: for every permission event the kernel opens the event's file for the listener inside the
// listener's read(2) of the group (fanotify_user.c, create_fd; on 6.18 there are no permission
// events without an fd: FAN_REPORT_FID is refused for permission classes, and O_PATH event fds
// too), and on FUSE that open is a FUSE_OPEN request to the server. A server that never answers
// it held lockd's only reader, and with it every decision on the terminal. With
// deny_untrusted_fs off, a server that never answers a FUSE_READ held the worker hashing its
// file, one worker per file, until no worker was left for anyone.
//
// Now such a server can hold only this reader and these workers, and only for a while: a
// guard thread checks every guard_period whether the reader has been inside one read (with
// the handling of what it read), or a worker inside one judgement, for longer than `stall_bound`;
// if so it ends every marked FUSE connection that has requests waiting (os::FuseConnections::Abort,
// fusectl): the kernel's open or read fails, the exec is denied (by the kernel when its open for
// lockd failed, by lockd as read-failed otherwise), and a `fuse_abort` daemon event is recorded. A
// network filesystem that does not answer (a hard NFS mount whose server is gone) holds only this
// reader and these workers until it answers: nothing local to abort.
//
// Events of this group are never cached, never triaged (execs only) and carry
// untrusted_filesystem (denied unread under deny_untrusted_fs).
//
// Thread-safety: Start and Stop from one thread (the daemon's); GuardOnce from the guard thread
// or a test.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hashdb/unique_fd.h"
#include "lockd/decision_sink.h"
#include "lockd/exec_decider.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/fuse_control.h"
#include "lockd/stats.h"

namespace lockd {

// A marked FUSE filesystem, for the guard (from FilesystemMarker::Marked).
using FuseMount = os::FuseMount;

struct UntrustedReaderOptions {
  // How long a FUSE server may hold lockd's open of a file, or a worker's read of it, before
  // its connection is aborted. The execs waiting on it wait this long at most (plus a period).
  std::chrono::milliseconds stall_bound{3000};
  std::chrono::milliseconds guard_period{250};
};

class UntrustedReader {
 public:
  using Clock = std::chrono::steady_clock;

  // kernel: over the untrusted group; decider: answers through that same kernel, with workers
  // of its own. fuse_mounts: the marked FUSE filesystems now. All must outlive the reader.
  UntrustedReader(os::EventKernel& kernel, ExecDecider& decider, os::FuseConnections& fuse,
                  std::function<std::vector<FuseMount>()> fuse_mounts, DecisionSink& sink,
                  Stats& stats, UntrustedReaderOptions options = {});
  ~UntrustedReader();
  UntrustedReader(const UntrustedReader&) = delete;
  UntrustedReader& operator=(const UntrustedReader&) = delete;

  // Starts the reader and the guard threads. False (with the reason logged by the caller) when
  // the stop eventfd cannot be made.
  hashdb::Status Start();
  // Stops the reader after it has read and submitted what is queued now (the marks are removed
  // first by the caller, so nothing new arrives), then answers every judgement (the decider's
  // Shutdown), then stops the guard, which keeps aborting stuck connections until then.
  void Stop();

  // One read of the group: every permission event is submitted to the decider (own events
  // allowed at once). Returns whether more may be queued.
  bool ReadOnce();
  // One pass of the guard at `now`: the number of connections aborted.
  std::size_t GuardOnce(Clock::time_point now);

 private:
  void ReadLoop();
  void GuardLoop();

  os::EventKernel& kernel_;
  ExecDecider& decider_;
  os::FuseConnections& fuse_;
  std::function<std::vector<FuseMount>()> fuse_mounts_;
  DecisionSink& sink_;
  Stats& stats_;
  const UntrustedReaderOptions options_;
  const pid_t self_;

  // steady-clock nanoseconds when the current ReadOnce began; 0 outside one.
  std::atomic<std::int64_t> reading_since_ns_{0};
  std::optional<Clock::time_point> last_abort_;  // guard only
  hashdb::UniqueFd stop_reader_;                 // eventfd
  std::atomic<bool> stop_guard_{false};
  std::thread reader_;
  std::thread guard_;
};

}  // namespace lockd
