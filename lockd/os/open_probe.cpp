#include "lockd/os/open_probe.h"

#include <unistd.h>

#include <cerrno>

#include "lockd/os/process_info.h"

namespace lockd::os {

hashdb::Result<std::size_t> ReadHead(int fd, std::span<std::uint8_t> buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("reading the head of an opened file");
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

std::string ProcessExe(pid_t pid, const std::string& proc_root) {
  return ReadLink(proc_root + "/" + std::to_string(pid) + "/exe");
}

}  // namespace lockd::os
