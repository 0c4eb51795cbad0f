#include "lockd/os/tty.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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
                               const std::string& dev_root) {
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
  const ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n < 0) return hashdb::ErrnoError(path + ": write");
  return {};
}

}  // namespace lockd::os
