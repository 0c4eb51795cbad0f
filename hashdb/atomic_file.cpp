#include "hashdb/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "hashdb/unique_fd.h"

namespace hashdb {

namespace {

std::string DirectoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write");
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> bytes,
                           mode_t mode, Replace replace) {
  if (path.empty() || path.back() == '/') {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a file path");
  }
  const std::string dir = DirectoryOf(path);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoError(dir + ": open directory");
  if (replace == Replace::kRefuse) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      return MakeError(ErrorCode::kConflict, path + ": already exists, not replaced");
    }
  }

  std::string templ = path + ".tmp.XXXXXX";
  std::vector<char> name(templ.begin(), templ.end());
  name.push_back('\0');
  UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(templ + ": create temporary file");
  const std::string tmp(name.data());

  auto fail = [&tmp](Error error) -> Status {
    ::unlink(tmp.c_str());
    return error;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(ErrnoError(tmp + ": fchmod"));
  if (Status s = WriteAll(fd.get(), bytes); !s.ok()) return fail(s.error().Wrap(tmp));
  if (::fsync(fd.get()) != 0) return fail(ErrnoError(tmp + ": fsync"));
  if (::close(fd.Release()) != 0) return fail(ErrnoError(tmp + ": close"));

  if (replace == Replace::kRefuse) {
    // RENAME_NOREPLACE closes the window between the lstat above and the rename.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST) {
        return fail(MakeError(ErrorCode::kConflict, path + ": already exists, not replaced"));
      }
      return fail(ErrnoError(path + ": rename from " + tmp));
    }
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(ErrnoError(path + ": rename from " + tmp));
  }
  if (::fsync(dir_fd.get()) != 0) {
    return ErrnoError(dir + ": fsync directory (new " + path +
                      " is in place but may not be durable)");
  }
  return {};
}

}  // namespace hashdb
