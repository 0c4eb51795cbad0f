#include "tools/maintenance/staging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"

namespace lockctl {

std::string StagingPath(std::string_view state_dir, std::string_view name) {
  std::string dir(state_dir);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir != "/") dir += "/";
  return dir + kStagingSubdir + "/" + std::string(name);
}

hashdb::Status EnsureStagingDir(const std::string& state_dir) {
  const std::string dir = StagingPath(state_dir, "");
  const std::string shown = dir.substr(0, dir.size() - 1);
  if (::mkdir(shown.c_str(), 0700) != 0 && errno != EEXIST) {
    return hashdb::ErrnoError("create staging dir " + shown);
  }
  hashdb::UniqueFd fd(::open(shown.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid())
    return hashdb::ErrnoError("open staging dir " + shown +
                              " (must be a directory, not a symlink)");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError("fstat " + shown);
  if (st.st_uid != ::geteuid()) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             "staging dir " + shown + " is owned by uid " +
                                 std::to_string(st.st_uid) + ", expected " +
                                 std::to_string(::geteuid()) + ": refusing to stage there");
  }
  if ((st.st_mode & 07777) != 0700 && ::fchmod(fd.get(), 0700) != 0) {
    return hashdb::ErrnoError("chmod 0700 " + shown);
  }
  return {};
}

hashdb::Result<std::string> StageBytes(const std::string& path,
                                       std::span<const std::uint8_t> bytes) {
  if (auto st = hashdb::WriteFileAtomically(path, bytes, 0600); !st.ok()) return st.error();
  return hashdb::ToHex(hashdb::Sha256(bytes));
}

hashdb::Result<std::vector<std::uint8_t>> ReadWholeFile(const std::string& path,
                                                        std::uint64_t limit) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError("fstat " + path);
  if (!S_ISREG(st.st_mode)) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             path + ": larger than " + std::to_string(limit) + " bytes");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pread(fd.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return hashdb::ErrnoError("read " + path);
    if (n == 0) {
      return hashdb::MakeError(hashdb::ErrorCode::kConflict, path + ": shrank while being read");
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace lockctl
