#include "lockd/os/mount_notifier.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lockd/os/mount_namespaces.h"

namespace lockd::os {

namespace {

// include/uapi/linux/fanotify.h of Linux 6.14; Debian 12's headers (6.1) lack them.
constexpr unsigned kFanReportMnt = 0x00004000;
constexpr unsigned kFanMarkMntns = 0x00000110;
constexpr std::uint64_t kFanMntAttach = 0x01000000;
constexpr std::uint64_t kFanMntDetach = 0x02000000;
constexpr std::uint8_t kFanEventInfoTypeMnt = 7;

struct InfoMnt {
  fanotify_event_info_header hdr;
  std::uint64_t mnt_id;
};

}  // namespace

std::vector<MountChange> ParseMountEvents(std::span<const std::uint8_t> bytes) {
  std::vector<MountChange> out;
  std::size_t at = 0;
  while (bytes.size() - at >= sizeof(fanotify_event_metadata)) {
    fanotify_event_metadata meta;
    std::memcpy(&meta, bytes.data() + at, sizeof meta);
    if (meta.event_len < sizeof meta || meta.event_len > bytes.size() - at ||
        meta.vers != FANOTIFY_METADATA_VERSION) {
      break;
    }
    MountChange change;
    change.pid = meta.pid;
    change.attached = (meta.mask & kFanMntAttach) != 0;
    std::size_t info = at + meta.metadata_len;
    const std::size_t end = at + meta.event_len;
    while (end - info >= sizeof(fanotify_event_info_header)) {
      fanotify_event_info_header hdr;
      std::memcpy(&hdr, bytes.data() + info, sizeof hdr);
      if (hdr.len < sizeof hdr || hdr.len > end - info) break;
      if (hdr.info_type == kFanEventInfoTypeMnt && hdr.len >= sizeof(InfoMnt)) {
        InfoMnt mnt;
        std::memcpy(&mnt, bytes.data() + info, sizeof mnt);
        change.unique_id = mnt.mnt_id;
      }
      info += hdr.len;
    }
    if ((meta.mask & (kFanMntAttach | kFanMntDetach)) == 0) change.unique_id = 0;
    out.push_back(change);
    at += meta.event_len;
  }
  return out;
}

hashdb::Result<MountNotifier> MountNotifier::Create() {
  int fd = ::fanotify_init(FAN_CLASS_NOTIF | kFanReportMnt | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
  if (fd < 0) {
    if (errno == EINVAL) {
      return hashdb::MakeError(hashdb::ErrorCode::kUnsupported,
                               "fanotify mount notifications (FAN_REPORT_MNT) are not in this "
                               "kernel (Linux 6.14+)");
    }
    return hashdb::ErrnoError("fanotify_init(FAN_REPORT_MNT)");
  }
  return MountNotifier(hashdb::UniqueFd(fd));
}

hashdb::Status MountNotifier::Watch(pid_t pid) {
  auto ns = OpenMountNamespace(pid);
  if (!ns.ok()) return ns.error();
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | kFanMarkMntns, kFanMntAttach | kFanMntDetach,
                      ns->get(), nullptr) != 0) {
    return hashdb::ErrnoError("fanotify_mark(FAN_MARK_MNTNS) of the mount namespace of pid " +
                              std::to_string(pid));
  }
  return {};
}

hashdb::Result<std::vector<MountChange>> MountNotifier::Read() {
  std::vector<MountChange> out;
  alignas(fanotify_event_metadata) std::uint8_t buf[8192];
  for (int round = 0; round < 64; ++round) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return hashdb::ErrnoError("read fanotify mount events");
    }
    if (n == 0) break;
    auto changes =
        ParseMountEvents(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
    out.insert(out.end(), changes.begin(), changes.end());
  }
  return out;
}

}  // namespace lockd::os
