#include "lockd/os/file_probe.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace lockd::os {

FileFacts FactsFromStat(const struct stat& st) {
  FileFacts f;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.size = st.st_size;
  f.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  f.mode = st.st_mode;
  return f;
}

hashdb::Result<FileFacts> StatFd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return hashdb::ErrnoError("fstat");
  return FactsFromStat(st);
}

WriterState ProbeWriters(int fd) {
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
    return WriterState::kNone;
  }
  return errno == EAGAIN ? WriterState::kPresent : WriterState::kUnknown;
}

}  // namespace lockd::os
