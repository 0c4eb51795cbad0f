#include "lockd/os/sealed_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace lockd::os {

namespace {

int CreateMemfd() {
#ifdef MFD_NOEXEC_SEAL
  // With vm.memfd_noexec=2 a memfd that could be made executable is refused.
  int fd = ::memfd_create("lockd-database", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
  if (fd >= 0 || errno != EINVAL) return fd;
#endif
  return ::memfd_create("lockd-database", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

}  // namespace

hashdb::Result<hashdb::UniqueFd> SealedCopy(const std::string& path, std::uint64_t max_bytes) {
  hashdb::UniqueFd src(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!src.valid()) return hashdb::ErrnoError(path);
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return hashdb::ErrnoError(path);
  if (!S_ISREG(st.st_mode)) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  hashdb::UniqueFd dst(CreateMemfd());
  if (!dst.valid()) return hashdb::ErrnoError("memfd_create for a copy of " + path);
  // Copy until EOF (the file may change size while we copy; what we copied is what will be
  // verified).
  std::uint64_t copied = 0;
  for (;;) {
    ssize_t n = ::sendfile(dst.get(), src.get(), nullptr, 1 << 20);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return hashdb::ErrnoError("copy " + path);
    if (n == 0) break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > max_bytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat, path + ": grew beyond the limit");
    }
  }
  if (::fcntl(dst.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) !=
      0) {
    return hashdb::ErrnoError("seal copy of " + path);
  }
  return dst;
}

}  // namespace lockd::os
