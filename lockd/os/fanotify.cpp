#include "lockd/os/fanotify.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "lockd/os/pending_ledger.h"

namespace lockd::os {

namespace {

std::uint64_t ToKernelMask(const MarkMask& mask) {
  std::uint64_t m = 0;
  if (mask.exec_permission) m |= FAN_OPEN_EXEC_PERM;
  if (mask.open_permission) m |= FAN_OPEN_PERM;
  if (mask.write_notifications) m |= FAN_MODIFY | FAN_CLOSE_WRITE;
  return m;
}

// Events are small; 64 KiB holds a few thousand per read.
constexpr std::size_t kReadBufferSize = 64 * 1024;

// FAN_EVENT_NEXT, the same step, without the macro's cast through char* (which clang's
// -Wcast-align refuses). The group reports no info records (FAN_REPORT_FD_ERROR changes only the
// fd field), so every event is the bare 24-byte metadata and stays aligned in the aligned read
// buffer.
const fanotify_event_metadata* NextEvent(const fanotify_event_metadata* meta, ssize_t& len) {
  len -= meta->event_len;
  return reinterpret_cast<const fanotify_event_metadata*>(reinterpret_cast<std::uintptr_t>(meta) +
                                                          meta->event_len);
}

// Linux 6.13's FAN_REPORT_FD_ERROR, missing from older userspace headers.
constexpr unsigned kFanReportFdError = 0x00002000;

}  // namespace

bool FanotifyEvent::is_exec_permission() const { return (mask & FAN_OPEN_EXEC_PERM) != 0; }
bool FanotifyEvent::is_open_permission() const { return (mask & FAN_OPEN_PERM) != 0; }
bool FanotifyEvent::is_permission() const {
  return (mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM | FAN_ACCESS_PERM)) != 0;
}
bool FanotifyEvent::is_write_notification() const {
  return (mask & (FAN_MODIFY | FAN_CLOSE_WRITE)) != 0;
}
bool FanotifyEvent::is_close_write() const { return (mask & FAN_CLOSE_WRITE) != 0; }
bool FanotifyEvent::is_overflow() const { return (mask & FAN_Q_OVERFLOW) != 0; }

hashdb::Result<FanotifyGroup> FanotifyGroup::Create(bool no_atime) {
  constexpr unsigned kBase =
      FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS;
  // O_NONBLOCK: opening the event's file must never wait. Without it an unprivileged user's
  // write lease on a file they own stalls the read for lease-break-time (45 s) while the
  // kernel breaks the lease, and every decision with it; with it the open fails at once and the
  // kernel denies that one access. (Reads of regular files ignore O_NONBLOCK.)
  // O_NOATIME (no_atime): lockd's reads (the head sniff, an inline hash on the event loop
  // thread) never write the inode: an atime update starts a journal handle on ext4, which waits
  // while a busy journal commits.
  const unsigned event_flags =
      O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NONBLOCK | (no_atime ? O_NOATIME : 0);
  // FAN_REPORT_FD_ERROR (Linux 6.13): such an event is then delivered with the error in place
  // of the fd (already denied by the kernel) instead of vanishing; older kernels refuse the
  // flag (EINVAL) and get the plain group.
  int fd = ::fanotify_init(kBase | kFanReportFdError, event_flags);
  const bool fd_errors = fd >= 0;
  if (fd < 0 && errno == EINVAL) fd = ::fanotify_init(kBase, event_flags);
  if (fd < 0) return hashdb::ErrnoError("fanotify_init (needs CAP_SYS_ADMIN)");
  FanotifyGroup group{hashdb::UniqueFd(fd)};
  group.reports_fd_errors_ = fd_errors;
  return group;
}

hashdb::Result<MarkKind> FanotifyGroup::Mark(const std::string& path, const MarkMask& mask) {
  const std::uint64_t m = ToKernelMask(mask);
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, m, AT_FDCWD, path.c_str()) ==
      0) {
    return MarkKind::kFilesystem;
  }
  const int err = errno;
  if (err != EINVAL && err != EOPNOTSUPP && err != EXDEV) {
    return hashdb::ErrnoError("fanotify_mark(FAN_MARK_FILESYSTEM) " + path, err);
  }
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_MOUNT, m, AT_FDCWD, path.c_str()) == 0) {
    return MarkKind::kMount;
  }
  return hashdb::ErrnoError("fanotify_mark(FAN_MARK_MOUNT) " + path);
}

hashdb::Status FanotifyGroup::Unmark(const std::string& path, MarkKind kind, const MarkMask& mask) {
  const unsigned type = kind == MarkKind::kFilesystem ? FAN_MARK_FILESYSTEM : FAN_MARK_MOUNT;
  if (::fanotify_mark(fd_.get(), FAN_MARK_REMOVE | type, ToKernelMask(mask), AT_FDCWD,
                      path.c_str()) != 0) {
    return hashdb::ErrnoError("fanotify_mark(FAN_MARK_REMOVE) " + path);
  }
  return {};
}

hashdb::Status FanotifyGroup::IgnoreFile(int event_fd, bool opens_too) const {
  constexpr unsigned kEvictable = 0x200;  // FAN_MARK_EVICTABLE (Linux 5.19)
  const std::uint64_t mask = FAN_OPEN_EXEC_PERM | (opens_too ? FAN_OPEN_PERM : 0);
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | kEvictable, mask, event_fd,
                      nullptr) == 0) {
    return {};
  }
  if (errno == EINVAL && ::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, mask,
                                         event_fd, nullptr) == 0) {
    return {};
  }
  return hashdb::ErrnoError("fanotify_mark(FAN_MARK_IGNORED_MASK)");
}

hashdb::Status FanotifyGroup::UnignoreFile(int event_fd) const {
  if (::fanotify_mark(fd_.get(), FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK,
                      FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM, event_fd, nullptr) != 0 &&
      errno != ENOENT) {
    return hashdb::ErrnoError("fanotify_mark(FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK)");
  }
  return {};
}

hashdb::Status FanotifyGroup::ForgetIgnoredFiles() const {
  // FAN_MARK_FLUSH without FAN_MARK_MOUNT or FAN_MARK_FILESYSTEM: the inode marks only.
  if (::fanotify_mark(fd_.get(), FAN_MARK_FLUSH, 0, AT_FDCWD, nullptr) != 0) {
    return hashdb::ErrnoError("fanotify_mark(FAN_MARK_FLUSH) of the inode marks");
  }
  return {};
}

hashdb::Result<std::vector<FanotifyEvent>> FanotifyGroup::ReadEvents(bool* maybe_more) {
  alignas(fanotify_event_metadata) static thread_local char buffer[kReadBufferSize];
  std::vector<FanotifyEvent> events;
  if (maybe_more != nullptr) *maybe_more = false;
  // Inside this bracket a death may leave read events unrecorded (pending_ledger.h).
  struct ReadBracket {
    PendingLedger* ledger;
    explicit ReadBracket(PendingLedger* l) : ledger(l) {
      if (ledger != nullptr) ledger->BeginRead();
    }
    ~ReadBracket() {
      if (ledger != nullptr) ledger->EndRead();
    }
  } bracket(ledger_);
  ssize_t n = -1;
  do {
    n = ::read(fd_.get(), buffer, sizeof(buffer));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    // EAGAIN: nothing queued. Also EWOULDBLOCK (the same number) when the kernel could not open
    // the first event's file without blocking (a lease: event fds are O_NONBLOCK); the kernel
    // then denies that event itself and the next read goes on with the rest.
    if (errno == EAGAIN) return events;
    return hashdb::ErrnoError("read fanotify events");
  }
  auto* meta = reinterpret_cast<const fanotify_event_metadata*>(buffer);
  ssize_t len = n;
  while (FAN_EVENT_OK(meta, len)) {
    if (meta->vers != FANOTIFY_METADATA_VERSION) {
      // Close every fd of this read: the stream cannot be trusted any more.
      for (; FAN_EVENT_OK(meta, len); meta = NextEvent(meta, len)) {
        if (meta->fd >= 0) ::close(meta->fd);
      }
      return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                               "fanotify metadata version " + std::to_string(meta->vers) +
                                   ", expected " + std::to_string(FANOTIFY_METADATA_VERSION));
    }
    FanotifyEvent ev;
    ev.mask = meta->mask;
    ev.pid = meta->pid;
    if (meta->fd >= 0) {
      ev.fd.Reset(meta->fd);
    } else if (meta->fd != FAN_NOFD && reports_fd_errors_) {
      // The kernel could not open the file for us (FAN_REPORT_FD_ERROR): a permission event is
      // already denied by the kernel and must not be answered.
      ev.open_error = -meta->fd;
    }
    meta = NextEvent(meta, len);
    if (ledger_ != nullptr && ev.is_permission() && ev.fd.valid() &&
        !ledger_->Record(ev.fd.get(), ev.pid)) {
      // Cannot happen while RLIMIT_NOFILE <= kCapacity; if it did, an event that a crash
      // would leave hanging is worse than one deny.
      (void)WriteResponse(ev.fd.get(), false);
      continue;
    }
    events.push_back(std::move(ev));
  }
  // The kernel stops copying when the next event does not fit; a read that left less than
  // room for a large event may have left some queued.
  if (maybe_more != nullptr) *maybe_more = n > static_cast<ssize_t>(sizeof(buffer)) - 4096;
  return events;
}

int FanotifyGroup::WriteResponse(int event_fd, bool allow) const {
  fanotify_response response{};
  response.fd = event_fd;
  response.response = allow ? FAN_ALLOW : FAN_DENY;
  for (;;) {
    ssize_t n = ::write(fd_.get(), &response, sizeof(response));
    if (n == static_cast<ssize_t>(sizeof(response))) return 0;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? errno : EIO;
  }
}

hashdb::Status FanotifyGroup::Respond(int event_fd, bool allow) const {
  const int err = WriteResponse(event_fd, allow);
  // Taken (or unknown to the kernel): nothing is pending on this number any more.
  if (ledger_ != nullptr && (err == 0 || err == ENOENT)) ledger_->Clear(event_fd);
  if (err != 0) return hashdb::ErrnoError("write fanotify response", err);
  return {};
}

OrphanReport FanotifyGroup::DenyOrphanedEvents(int fd_limit) {
  return DenyOrphans(
      ledger_, [this](int fd) { return WriteResponse(fd, false); }, fd_limit);
}

}  // namespace lockd::os
