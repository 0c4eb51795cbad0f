#include "lockd/os/fuse_control.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "lockd/os/fanotify_marks.h"
#include "lockd/os/mount_watcher.h"
#include "lockd/os/mountinfo.h"
#include "lockd/os/sysctl.h"

namespace lockd::os {

namespace {
// FUSE_CTL_SUPER_MAGIC (fs/fuse/control.c).
constexpr long kFusectlMagic = 0x65735543;
}  // namespace

hashdb::Result<std::vector<FuseMount>> MarkedFuseMounts(int group_fd) {
  auto marks = ReadGroupMarks(group_fd);
  if (!marks.ok()) return marks.error();
  auto table = ReadMountInfoFile("/proc/self/mountinfo");
  std::map<dev_t, const MountEntry*> by_dev;
  std::map<int, const MountEntry*> by_id;
  if (table.ok()) {
    for (const auto& m : table->mounts) {
      by_dev.emplace(m.dev(), &m);  // the first mount of a superblock names it
      by_id.emplace(m.mount_id, &m);
    }
  }
  std::vector<FuseMount> fuse;
  std::set<dev_t> seen;
  auto add = [&](dev_t dev, const MountEntry* m) {
    if (m != nullptr && ClassifyFilesystem(m->fs_type) != FsClass::kFuse) return;
    if (!seen.insert(dev).second) return;
    fuse.push_back({static_cast<std::uint64_t>(dev), m != nullptr ? m->mount_point : ""});
  };
  for (const auto& [dev, mask] : marks->filesystems) {
    auto it = by_dev.find(dev);
    add(dev, it == by_dev.end() ? nullptr : it->second);
  }
  for (const auto& [id, mask] : marks->mounts) {
    // A mount mark names a mount id; without the mount in this namespace its superblock is
    // unknown (nothing to abort by).
    if (auto it = by_id.find(id); it != by_id.end()) add(it->second->dev(), it->second);
  }
  return fuse;
}

std::string FuseConnectionName(std::uint64_t st_dev) {
  const auto dev = static_cast<dev_t>(st_dev);
  // The kernel's dev_t: MINORBITS = 20 (include/linux/kdev_t.h).
  const std::uint64_t kdev = (static_cast<std::uint64_t>(major(dev)) << 20) | minor(dev);
  return std::to_string(kdev);
}

hashdb::Status LinuxFuseConnections::EnsureMounted() {
  struct statfs st {};
  if (::statfs(dir_.c_str(), &st) != 0) return hashdb::ErrnoError("statfs " + dir_);
  if (st.f_type == kFusectlMagic) return {};
  if (::mount("fusectl", dir_.c_str(), "fusectl", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0 &&
      errno != EBUSY) {
    return hashdb::ErrnoError("mount fusectl on " + dir_);
  }
  return {};
}

std::optional<std::uint64_t> LinuxFuseConnections::Waiting(std::uint64_t st_dev) {
  if (!EnsureMounted().ok()) return std::nullopt;
  auto text = ReadKernelFile(dir_ + "/" + FuseConnectionName(st_dev) + "/waiting");
  if (!text.ok() || !*text || (*text)->empty()) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull((*text)->c_str(), &end, 10);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<std::uint64_t>(n);
}

hashdb::Status LinuxFuseConnections::Abort(std::uint64_t st_dev) {
  if (auto mounted = EnsureMounted(); !mounted.ok()) return mounted;
  const std::string path = dir_ + "/" + FuseConnectionName(st_dev) + "/abort";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      return hashdb::MakeError(hashdb::ErrorCode::kNotFound, path + ": no such FUSE connection");
    }
    return hashdb::ErrnoError("open " + path);
  }
  const ssize_t n = ::write(fd, "1", 1);
  const int err = errno;
  ::close(fd);
  if (n != 1) return hashdb::ErrnoError("write " + path, err);
  return {};
}

}  // namespace lockd::os
