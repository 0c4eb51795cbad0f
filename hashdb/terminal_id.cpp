#include "hashdb/terminal_id.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>

#include "hashdb/digest.h"
#include "hashdb/keys.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace {
constexpr std::size_t kIdBytes = 16;

bool IsId(std::string_view s) {
  if (s.size() != 2 * kIdBytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

Result<std::string> LoadTerminalId(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    Error e = ErrnoError("open " + path);
    if (e.errno_value == ENOENT) e.code = ErrorCode::kNotFound;
    return e;
  }
  char buf[2 * kIdBytes + 2];
  std::size_t size = 0;
  while (size < sizeof buf) {
    ssize_t n = ::read(fd.get(), buf + size, sizeof buf - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path);
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  std::string_view text(buf, size);
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!IsId(text)) {
    return MakeError(ErrorCode::kFormat,
                     path + ": expected a terminal id of 32 lower-case hex digits");
  }
  return std::string(text);
}

Result<std::string> LoadOrCreateTerminalId(const std::string& path) {
  auto existing = LoadTerminalId(path);
  if (existing.ok() || existing.error().code != ErrorCode::kNotFound) return existing;

  std::array<std::uint8_t, kIdBytes> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "random terminal id: " + OpenSslErrors());
  }
  const std::string id = ToHex(raw.data(), raw.size());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + id.substr(0, 8);
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) return ErrnoError("create " + tmp);
    const std::string content = id + "\n";
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
        ::fsync(fd.get()) != 0) {
      Error e = ErrnoError("write " + tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  // link(2) fails with EEXIST if another process created the id first; then theirs wins.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return LoadTerminalId(path);
    return ErrnoError("link " + path, link_errno);
  }
  UniqueFd dir(::open(DirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return id;
}

}  // namespace hashdb
