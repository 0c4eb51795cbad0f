#include "lockd/os/mount_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace lockd::os {

namespace {

// A mount table larger than this is refused rather than read without bound.
constexpr std::size_t kMaxMountInfoBytes = 64 * 1024 * 1024;

hashdb::Result<MountTable> ReadAndParse(int fd, const std::string& path) {
  std::string text;
  char buf[16384];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("read " + path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    offset += n;
    if (text.size() > kMaxMountInfoBytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat, path + ": larger than 64 MiB");
    }
  }
  auto table = ParseMountInfo(text);
  if (!table.ok()) return table.error().Wrap(path);
  return table;
}

}  // namespace

hashdb::Result<MountTable> ReadMountInfoFile(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  return ReadAndParse(fd.get(), path);
}

hashdb::Result<MountWatcher> MountWatcher::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return hashdb::ErrnoError("open " + path);
  return MountWatcher(hashdb::UniqueFd(fd), path);
}

hashdb::Result<MountTable> MountWatcher::Read() { return ReadAndParse(fd_.get(), path_); }

}  // namespace lockd::os
