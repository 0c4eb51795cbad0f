#include "lockd/os/file_probe.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

namespace lockd::os {

hashdb::Result<FileFacts> StatFd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return hashdb::ErrnoError("fstat");
  return FileFacts::FromStat(st);
}

WriterState ProbeWriters(int fd) {
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
    return WriterState::kNone;
  }
  return errno == EAGAIN ? WriterState::kPresent : WriterState::kUnknown;
}

}  // namespace lockd::os
