#include "lockd/os/event_kernel.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lockd/os/file_probe.h"
#include "lockd/os/open_probe.h"

namespace lockd::os {

hashdb::Result<std::vector<FanotifyEvent>> LinuxEventKernel::ReadEvents(bool* maybe_more) {
  return group_.ReadEvents(maybe_more);
}

hashdb::Status LinuxEventKernel::Respond(int event_fd, bool allow) {
  return group_.Respond(event_fd, allow);
}

int LinuxEventKernel::PollFd() const { return group_.fd(); }

hashdb::Status LinuxEventKernel::IgnoreFile(int event_fd, bool opens_too) {
  return group_.IgnoreFile(event_fd, opens_too);
}

hashdb::Status LinuxEventKernel::UnignoreFile(int event_fd) {
  return group_.UnignoreFile(event_fd);
}

hashdb::Status LinuxEventKernel::ForgetIgnoredFiles() { return group_.ForgetIgnoredFiles(); }

hashdb::Result<FileFacts> LinuxEventKernel::Stat(int fd) { return StatFd(fd); }

WriterState LinuxEventKernel::ProbeWriters(int fd) { return os::ProbeWriters(fd); }

hashdb::Result<std::size_t> LinuxEventKernel::ReadHead(int fd, std::span<std::uint8_t> buf) {
  return os::ReadHead(fd, buf);
}

std::string LinuxEventKernel::FdPath(int fd) { return os::FdPath(fd); }

ProcessFacts LinuxEventKernel::Process(pid_t pid) { return ReadProcessFacts(pid); }

std::string LinuxEventKernel::ExecutablePath(pid_t pid) { return ProcessExe(pid); }

std::optional<FileFacts> LinuxEventKernel::ExecutableFacts(pid_t pid) {
  // stat, never open: the loop thread must not open files (an open on a marked filesystem
  // would wait on a permission event only it can answer). The cached attributes
  // (AT_STATX_DONT_SYNC): a FUSE or network filesystem would otherwise ask its server.
  struct statx stx {};
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  if (::statx(AT_FDCWD, link.c_str(), AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &stx) != 0) {
    return std::nullopt;
  }
  struct stat st {};
  st.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  st.st_ino = stx.stx_ino;
  st.st_mode = stx.stx_mode;
  st.st_uid = stx.stx_uid;
  st.st_size = static_cast<off_t>(stx.stx_size);
  st.st_mtim = {static_cast<time_t>(stx.stx_mtime.tv_sec), stx.stx_mtime.tv_nsec};
  st.st_ctim = {static_cast<time_t>(stx.stx_ctime.tv_sec), stx.stx_ctime.tv_nsec};
  return FileFacts::FromStat(st);
}

hashdb::Result<hashdb::UniqueFd> LinuxEventKernel::OpenExecutable(pid_t pid) {
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  hashdb::UniqueFd fd(::open(link.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + link);
  return fd;
}

hashdb::Result<ProcessImage> LinuxEventKernel::ReadProcessImage(pid_t pid) {
  return os::ReadProcessImage(pid);
}

bool LinuxEventKernel::ImageAlive(const ProcessImage& image) {
  return os::ProcessImageAlive(image.environ.get());
}

Resolved LinuxEventKernel::ResolveForProcess(const ProcessImage& image, const std::string& path) {
  return os::ResolveForProcess(image.dir.get(), path);
}

Resolved LinuxEventKernel::ResolveInSearchPath(const ProcessImage& image, const std::string& name,
                                               const std::string& path_var) {
  return os::ResolveInSearchPath(image.dir.get(), name, path_var);
}

}  // namespace lockd::os
