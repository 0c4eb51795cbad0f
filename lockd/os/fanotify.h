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
  hashdb::UniqueFd fd;  // invalid for FAN_Q_OVERFLOW

  bool is_exec_permission() const;
  bool is_open_permission() const;
  bool is_permission() const;  // needs an answer
  bool is_write_notification() const;
  bool is_overflow() const;
};

class FanotifyGroup {
 public:
  // fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
  // FAN_UNLIMITED_MARKS), event fds O_RDONLY | O_LARGEFILE | O_CLOEXEC. Needs CAP_SYS_ADMIN.
  static hashdb::Result<FanotifyGroup> Create();

  FanotifyGroup(FanotifyGroup&&) = default;
  FanotifyGroup& operator=(FanotifyGroup&&) = default;

  // Marks the filesystem that path lives on. Tries FAN_MARK_FILESYSTEM first and falls back to
  // a mount mark when the kernel or the filesystem refuses it (EINVAL, EOPNOTSUPP, EXDEV);
  // returns which kind was placed.
  hashdb::Result<MarkKind> Mark(const std::string& path, const MarkMask& mask);
  // Removes a mark placed by Mark. Errors are returned, not fatal: the group's close removes
  // every mark anyway.
  hashdb::Status Unmark(const std::string& path, MarkKind kind, const MarkMask& mask);

  // One non-blocking read of queued events (empty when none). *maybe_more is set when the
  // read filled the buffer, so more may be queued (one read(2) per batch matters: on
  // virtualised machines each system call costs microseconds). Malformed metadata is an error
  // (the stream cannot be resynchronised).
  hashdb::Result<std::vector<FanotifyEvent>> ReadEvents(bool* maybe_more = nullptr);

  // Answers a permission event. Thread-safe (one write(2) each). The event fd stays open;
  // the caller closes it. ENOENT from the kernel (event already answered or group shutting
  // down) is returned as an error for the caller to count.
  hashdb::Status Respond(int event_fd, bool allow) const;

  int fd() const { return fd_.get(); }

 private:
  explicit FanotifyGroup(hashdb::UniqueFd fd) : fd_(std::move(fd)) {}
  hashdb::UniqueFd fd_;
};

}  // namespace lockd::os
