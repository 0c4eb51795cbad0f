#include "hashdb/small_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "hashdb/unique_fd.h"

namespace hashdb {

Result<std::string> ReadSmallFd(int fd, const std::string& name, std::size_t limit) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + name);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      return MakeError(ErrorCode::kFormat,
                       name + ": larger than " + std::to_string(limit) + " bytes");
    }
  }
}

Result<std::string> ReadSmallFile(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    Error e = ErrnoError("open " + path);
    if (e.errno_value == ENOENT) e.code = ErrorCode::kNotFound;
    return e;
  }
  return ReadSmallFd(fd.get(), path, limit);
}

}  // namespace hashdb
