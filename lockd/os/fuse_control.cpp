#include "lockd/os/fuse_control.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "lockd/os/sysctl.h"

namespace lockd::os {

namespace {
// FUSE_CTL_SUPER_MAGIC (fs/fuse/control.c).
constexpr long kFusectlMagic = 0x65735543;
}  // namespace

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
