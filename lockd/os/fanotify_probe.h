#pragma once
// Probes of what the kernel's fanotify offers lockd, for the posture report (`lockctl doctor`).
//
// Safety: the probes never place a permission-event mark. The permission probe only creates a
// FAN_CLASS_CONTENT group (with the daemon's flags) and closes it. The filesystem-mark probe
// places a FAN_MARK_FILESYSTEM mark for the notification-only FAN_OPEN event on a
// FAN_CLASS_NOTIF group and removes it at once; nothing waits on such a mark, so it cannot block
// any process.

#include <string>

namespace lockd::os {

struct ProbeResult {
  enum class State {
    kAvailable,
    kUnavailable,  // the kernel refused: not built in, too old, or not for this filesystem
    kUnknown,      // could not tell (e.g. not privileged: fanotify needs CAP_SYS_ADMIN)
  };
  State state = State::kUnknown;
  std::string detail;  // what was tried and what the kernel said
};

// fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
// FAN_UNLIMITED_MARKS): the group lockd itself creates. EINVAL means the kernel was built
// without CONFIG_FANOTIFY_ACCESS_PERMISSIONS; ENOSYS without fanotify; EPERM: not privileged.
ProbeResult ProbeFanotifyPermissionEvents();

// FAN_MARK_FILESYSTEM (Linux 5.1+) on the filesystem holding `dir`, placed and removed as
// described above.
ProbeResult ProbeFanotifyFilesystemMark(const std::string& dir = "/");

// fanotify mount notifications (FAN_REPORT_MNT, Linux 6.14+): a FAN_CLASS_NOTIF group is created
// and closed; no mark is placed.
ProbeResult ProbeFanotifyMountNotifications();

}  // namespace lockd::os
