#include "lockd/os/event_kernel.h"

#include <sys/stat.h>

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
  // would wait on a permission event only it can answer).
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid) + "/exe").c_str(), &st) != 0) return std::nullopt;
  return FileFacts::FromStat(st);
}

}  // namespace lockd::os
