#include "lockd/os/tty.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "hashdb/unique_fd.h"

namespace lockd::os {

std::string TtyDevicePath(std::uint64_t tty_nr, const std::string& dev_root) {
  if (tty_nr == 0) return {};
  const auto dev = static_cast<dev_t>(tty_nr);
  const unsigned maj = major(dev);
  const unsigned min = minor(dev);
  if (maj == 136) return dev_root + "/pts/" + std::to_string(min);
  if (maj == 4 && min < 64) return dev_root + "/tty" + std::to_string(min);
  if (maj == 4 && min < 256) return dev_root + "/ttyS" + std::to_string(min - 64);
  if (maj == 5 && min == 1) return dev_root + "/console";
  return {};
}

hashdb::Status WriteToTerminal(std::uint64_t tty_nr, std::string_view text,
                               const std::string& dev_root, std::chrono::milliseconds patience) {
  const std::string path = TtyDevicePath(tty_nr, dev_root);
  if (path.empty()) {
    return hashdb::MakeError(hashdb::ErrorCode::kUnsupported,
                             "tty " + std::to_string(tty_nr) + ": not a known terminal device");
  }
  hashdb::UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError(path + ": fstat");
  if (!S_ISCHR(st.st_mode) || static_cast<std::uint64_t>(st.st_rdev) != tty_nr) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             path + ": not the character device of tty " + std::to_string(tty_nr));
  }
  if (::isatty(fd.get()) != 1) return hashdb::ErrnoError(path + ": not a terminal");
  // EAGAIN does not mean the terminal is full: a non-blocking write also fails at once while
  // another process holds the terminal's write lock, as the denied shell does while it prints
  // its own "Operation not permitted" at the very moment the notice is written. So try again
  // every 2 ms, and give up only after `patience` (a terminal stopped with ^S or nobody
  // reading it); a short write goes on with the rest.
  const auto deadline = std::chrono::steady_clock::now() + patience;
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return hashdb::ErrnoError(path + ": write");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return hashdb::MakeError(
          hashdb::ErrorCode::kIo,
          path + ": write: the terminal took " + std::to_string(text.size() - rest.size()) +
              " of " + std::to_string(text.size()) + " bytes within " +
              std::to_string(patience.count()) + " ms (stopped, or nobody reads it)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return {};
}

}  // namespace lockd::os
