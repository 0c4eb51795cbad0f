#include "lockd/os/mount_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace lockd::os {

namespace {
// A mount table larger than this is refused rather than read without bound.
constexpr std::size_t kMaxMountInfoBytes = 64 * 1024 * 1024;
}  // namespace

hashdb::Result<MountWatcher> MountWatcher::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return hashdb::ErrnoError("open " + path);
  return MountWatcher(hashdb::UniqueFd(fd), path);
}

hashdb::Result<std::vector<MountEntry>> MountWatcher::Read() {
  std::string text;
  char buf[16384];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd_.get(), buf, sizeof(buf), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("read " + path_);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    offset += n;
    if (text.size() > kMaxMountInfoBytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat, path_ + ": larger than 64 MiB");
    }
  }
  auto mounts = ParseMountInfo(text);
  if (!mounts.ok()) return mounts.error().Wrap(path_);
  return mounts;
}

}  // namespace lockd::os
