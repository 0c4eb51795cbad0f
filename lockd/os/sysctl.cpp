#include "lockd/os/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "hashdb/unique_fd.h"

namespace lockd::os {

namespace {

// Every sysctl lockd reads is a short line; a bigger "value" is not a sysctl we understand.
constexpr std::size_t kMaxValueBytes = 4096;

bool ValidComponentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

hashdb::Result<std::string> Sysctl::PathOf(std::string_view name) const {
  std::string path = root_;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view part =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) {
      return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                               "sysctl name '" + std::string(name) + "' has an empty component");
    }
    for (char c : part) {
      if (!ValidComponentChar(c)) {
        return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                                 "sysctl name '" + std::string(name) +
                                     "': expected components of [A-Za-z0-9_-] separated by '.'");
      }
    }
    path += '/';
    path += part;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

hashdb::Result<std::optional<std::string>> ReadKernelFile(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return hashdb::ErrnoError(path);
  }
  std::string value;
  char buf[512];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError(path + ": read");
    }
    if (n == 0) break;
    value.append(buf, static_cast<std::size_t>(n));
    if (value.size() > kMaxValueBytes) {
      return hashdb::MakeError(
          hashdb::ErrorCode::kFormat,
          path + ": value longer than " + std::to_string(kMaxValueBytes) + " bytes");
    }
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\t')) {
    value.pop_back();
  }
  return std::optional<std::string>(std::move(value));
}

hashdb::Result<std::optional<std::string>> Sysctl::Read(std::string_view name) const {
  auto path = PathOf(name);
  if (!path.ok()) return path.error();
  return ReadKernelFile(*path);
}

hashdb::Result<std::optional<long>> Sysctl::ReadInt(std::string_view name) const {
  auto text = Read(name);
  if (!text.ok()) return text.error();
  if (!text->has_value()) return std::optional<long>();
  const std::string& s = **text;
  long value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             std::string(name) + ": expected one integer, read '" + s + "'");
  }
  return std::optional<long>(value);
}

hashdb::Status Sysctl::Write(std::string_view name, std::string_view value) const {
  auto path = PathOf(name);
  if (!path.ok()) return path.error();
  hashdb::UniqueFd fd(::open(path->c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    hashdb::Error e = hashdb::ErrnoError(*path);
    if (errno == ENOENT) e.code = hashdb::ErrorCode::kNotFound;
    return e;
  }
  std::string line(value);
  line += '\n';
  // /proc/sys handlers take the whole value in one write; a short write is a failure.
  ssize_t n;
  do {
    n = ::write(fd.get(), line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return hashdb::ErrnoError(*path + ": write '" + std::string(value) + "'");
  if (static_cast<std::size_t>(n) != line.size()) {
    return hashdb::MakeError(hashdb::ErrorCode::kIo, *path + ": short write");
  }
  return {};
}

hashdb::Result<MemfdNoexecResult> SetMemfdNoexec(const Sysctl& sysctl) {
  MemfdNoexecResult r;
  auto before = sysctl.ReadInt(kMemfdNoexecName);
  if (!before.ok()) return before.error();
  if (!before->has_value()) {
    r.outcome = MemfdNoexecResult::Outcome::kUnsupported;
    r.message =
        "vm.memfd_noexec is not available (added in Linux 6.3): executable memfds cannot be "
        "refused on this kernel, and fanotify cannot see memfd execution";
    return r;
  }
  r.before = **before;
  if (**before >= kMemfdNoexecEnforced) {
    r.outcome = MemfdNoexecResult::Outcome::kAlreadySet;
    r.message = "vm.memfd_noexec is already " + std::to_string(**before);
    return r;
  }
  if (auto s = sysctl.Write(kMemfdNoexecName, std::to_string(kMemfdNoexecEnforced)); !s.ok()) {
    return s.error().Wrap("setting vm.memfd_noexec=2");
  }
  auto after = sysctl.ReadInt(kMemfdNoexecName);
  if (!after.ok()) return after.error().Wrap("reading vm.memfd_noexec back");
  if (!after->has_value() || **after < kMemfdNoexecEnforced) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kConflict,
        "vm.memfd_noexec: wrote 2 but it reads back as " +
            (after->has_value() ? std::to_string(**after) : std::string("absent")));
  }
  r.outcome = MemfdNoexecResult::Outcome::kSet;
  r.message = "vm.memfd_noexec " + std::to_string(**before) + " -> " + std::to_string(**after);
  return r;
}

}  // namespace lockd::os
