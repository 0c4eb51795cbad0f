#pragma once
// The fanotify group lockd decides through. Everything that calls fanotify_init, fanotify_mark
// or reads and answers fanotify events lives here.
//
// Security: the kernel allows every pending permission event when the group's fd is closed, so
// the owner of a FanotifyGroup must answer or deliberately release its events; the group is
// created with FAN_UNLIMITED_QUEUE because an overflowing queue lets accesses through.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

class PendingLedger;
struct OrphanReport;

// Which event kinds a mark asks for, in lockd's terms (mapped to FAN_* bits inside).
struct MarkMask {
  bool exec_permission = true;  // FAN_OPEN_EXEC_PERM: decide every exec
  // FAN_MODIFY | FAN_CLOSE_WRITE: learn that a file's content may have changed, so that the
  // decision cache drops it (see decision_cache.h for why both are needed).
  bool write_notifications = true;
  bool open_permission = false;  // FAN_OPEN_PERM: reserved for library/script coverage
};

enum class MarkKind {
  kFilesystem,  // FAN_MARK_FILESYSTEM: every mount of the superblock, in every namespace
  kMount,       // FAN_MARK_MOUNT: this one mount only (kernels without filesystem marks)
};

// One event as read from the group. fd is owned by the event (closed when it is destroyed).
struct FanotifyEvent {
  std::uint64_t mask = 0;
  pid_t pid = 0;
  hashdb::UniqueFd fd;  // invalid for FAN_Q_OVERFLOW, and when open_error is set
  // errno of the kernel's failed open of the file (FAN_REPORT_FD_ERROR groups only: e.g.
  // EWOULDBLOCK for a file under a lease): the kernel has denied a permission event itself, and
  // it must not be answered.
  int open_error = 0;

  bool is_exec_permission() const;
  bool is_open_permission() const;
  bool is_permission() const;  // needs an answer
  bool is_write_notification() const;
  bool is_close_write() const;  // FAN_CLOSE_WRITE: a file open for writing was closed
  bool is_overflow() const;
};

class FanotifyGroup {
 public:
  // fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
  // FAN_UNLIMITED_MARKS), event fds O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NONBLOCK (opening
  // an event's file never waits, e.g. on a lease break), and with no_atime O_NOATIME (reading
  // it never writes the inode's atime; for the group of local filesystems only: a FUSE server
  // is handed the open flags and may refuse O_NOATIME on a file it does not own). Needs
  // CAP_SYS_ADMIN.
  static hashdb::Result<FanotifyGroup> Create(bool no_atime = false);

  FanotifyGroup(FanotifyGroup&&) = default;
  FanotifyGroup& operator=(FanotifyGroup&&) = default;

  // Marks the filesystem that path lives on. Tries FAN_MARK_FILESYSTEM first and falls back to
  // a mount mark when the kernel or the filesystem refuses it (EINVAL, EOPNOTSUPP, EXDEV);
  // returns which kind was placed.
  hashdb::Result<MarkKind> Mark(const std::string& path, const MarkMask& mask);
  // Removes a mark placed by Mark. Errors are returned, not fatal: the group's close removes
  // every mark anyway.
  hashdb::Status Unmark(const std::string& path, MarkKind kind, const MarkMask& mask);

  // Tells the kernel to answer, by itself, every later exec permission event of the file behind
  // `event_fd` and, with `opens_too`, every later open permission event too (an inode ignore
  // mark, FAN_MARK_IGNORED_MASK; evictable where the kernel allows it, so the mark never pins
  // the inode in memory and goes with it). The kernel clears it on a write(2) or truncate of the
  // file (FS_MODIFY), never on a write through a shared mapping: only for files whose content
  // cannot change (kernel_cache.h).
  hashdb::Status IgnoreFile(int event_fd, bool opens_too) const;
  // Removes that mark: the file's events come to lockd again.
  hashdb::Status UnignoreFile(int event_fd) const;
  // Removes every inode mark of the group (every IgnoreFile): each file is decided by lockd
  // again from its next event.
  hashdb::Status ForgetIgnoredFiles() const;

  // From now on every permission event read is recorded in ledger (by fd number) and cleared
  // when answered, so that a supervisor can deny what a killed reader left pending
  // (pending_ledger.h). The ledger must outlive the group object; a permission event whose fd
  // does not fit in the ledger is denied at once by ReadEvents (it could not be recovered).
  void AttachLedger(PendingLedger* ledger) { ledger_ = ledger; }

  // One non-blocking read of queued events (empty when none). *maybe_more is set when the
  // read filled the buffer, so more may be queued (one read(2) per batch matters: on
  // virtualised machines each system call costs microseconds). Malformed metadata is an error
  // (the stream cannot be resynchronised).
  hashdb::Result<std::vector<FanotifyEvent>> ReadEvents(bool* maybe_more = nullptr);

  // Answers a permission event. Thread-safe (one write(2) each). The event fd stays open;
  // the caller closes it. ENOENT from the kernel (event already answered or group shutting
  // down) is returned as an error for the caller to count. The ledger slot is cleared after
  // the kernel took the answer (or said ENOENT), never before: a death in between leaves a
  // stale slot (a harmless ENOENT later), not an unanswered event missing from the ledger.
  // The caller must not close the event fd before answering: the kernel matches answers by fd
  // number, and a number reused while its event is pending would be ambiguous.
  hashdb::Status Respond(int event_fd, bool allow) const;

  // For the supervisor, after the reading process died and before another reads: denies every
  // permission event the dead reader had read and not answered. First each fd number in the
  // ledger, then, only when the reader died inside a read (PendingLedger::ReadInProgress), a
  // sweep writing a deny for every fd number 0 .. fd_limit-1 (the dead reader's RLIMIT_NOFILE,
  // at most PendingLedger::kCapacity), which catches an event read in the instant before it
  // was recorded. The kernel matches a response by the number the event
  // carried (fanotify_user.c, process_access_response), and while nobody reads the group every
  // event it holds as "read" is an orphan, so a deny for a number with no such event is just
  // ENOENT. Precondition: no live process reads or answers this group (a live reader's event
  // could otherwise be denied).
  // The logic is os::DenyOrphans (pending_ledger.h, unit-tested without a kernel).
  OrphanReport DenyOrphanedEvents(int fd_limit);

  int fd() const { return fd_.get(); }
  // Whether events whose file the kernel could not open arrive with open_error (Linux 6.13+)
  // rather than being dropped silently.
  bool reports_fd_errors() const { return reports_fd_errors_; }

 private:
  explicit FanotifyGroup(hashdb::UniqueFd fd) : fd_(std::move(fd)) {}
  // One write(2) of a response; 0 or errno.
  int WriteResponse(int event_fd, bool allow) const;
  hashdb::UniqueFd fd_;
  PendingLedger* ledger_ = nullptr;
  bool reports_fd_errors_ = false;
};

}  // namespace lockd::os
