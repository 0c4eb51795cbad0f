#include "lockd/os/fanotify_probe.h"

#include <fcntl.h>
#include <sys/fanotify.h>

#include <cerrno>
#include <cstring>

#include "hashdb/unique_fd.h"

namespace lockd::os {

namespace {

std::string Errno(int err) { return std::string(std::strerror(err)); }

ProbeResult InitFailure(const char* what, int err) {
  ProbeResult r;
  if (err == EPERM) {
    r.state = ProbeResult::State::kUnknown;
    r.detail = std::string(what) + ": not permitted (run as root: fanotify needs CAP_SYS_ADMIN)";
  } else if (err == ENOSYS) {
    r.state = ProbeResult::State::kUnavailable;
    r.detail = std::string(what) + ": the kernel has no fanotify (CONFIG_FANOTIFY)";
  } else if (err == EINVAL) {
    r.state = ProbeResult::State::kUnavailable;
    r.detail = std::string(what) + ": refused with EINVAL";
  } else {
    r.state = ProbeResult::State::kUnknown;
    r.detail = std::string(what) + ": " + Errno(err);
  }
  return r;
}

}  // namespace

ProbeResult ProbeFanotifyPermissionEvents() {
  hashdb::UniqueFd fd(::fanotify_init(
      FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS,
      O_RDONLY | O_LARGEFILE | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    ProbeResult r = InitFailure("fanotify_init(FAN_CLASS_CONTENT)", err);
    if (err == EINVAL) {
      r.detail += " (kernel built without CONFIG_FANOTIFY_ACCESS_PERMISSIONS)";
    }
    return r;
  }
  return {ProbeResult::State::kAvailable,
          "fanotify_init(FAN_CLASS_CONTENT | FAN_UNLIMITED_QUEUE) succeeded"};
}

ProbeResult ProbeFanotifyFilesystemMark(const std::string& dir) {
  hashdb::UniqueFd fd(
      ::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return InitFailure("fanotify_init(FAN_CLASS_NOTIF)", errno);
  // FAN_OPEN is a notification: the kernel queues it for us and never waits for an answer.
  if (::fanotify_mark(fd.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD,
                      dir.c_str()) != 0) {
    int err = errno;
    ProbeResult r;
    r.state = err == EPERM || err == EACCES || err == ENOENT ? ProbeResult::State::kUnknown
                                                             : ProbeResult::State::kUnavailable;
    r.detail = "fanotify_mark(FAN_MARK_FILESYSTEM) on " + dir + ": " + Errno(err);
    if (err == EINVAL) r.detail += " (kernel older than 5.1)";
    return r;
  }
  std::string detail = "fanotify_mark(FAN_MARK_FILESYSTEM) on " + dir + " accepted";
  if (::fanotify_mark(fd.get(), FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD,
                      dir.c_str()) != 0) {
    // Closing the group below removes the mark anyway.
    detail += " (explicit removal failed: " + Errno(errno) + "; removed by closing the group)";
  }
  return {ProbeResult::State::kAvailable, detail};
}

ProbeResult ProbeFanotifyMountNotifications() {
  constexpr unsigned kFanReportMnt = 0x00004000;  // Linux 6.14; Debian 12's headers lack it
  hashdb::UniqueFd fd(
      ::fanotify_init(FAN_CLASS_NOTIF | kFanReportMnt | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY));
  if (!fd.valid()) {
    ProbeResult r = InitFailure("fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_MNT)", errno);
    if (r.state == ProbeResult::State::kUnavailable) r.detail += " (Linux 6.14+)";
    return r;
  }
  return {ProbeResult::State::kAvailable,
          "fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_MNT) succeeded"};
}

}  // namespace lockd::os
