#include "lockd/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "hashdb/atomic_file.h"

namespace lockd {

hashdb::Result<std::uint64_t> StateStore::HighestGeneration() const {
  const std::string path = GenerationPath();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::uint64_t{0};
    return hashdb::ErrnoError(path);
  }
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  const int err = errno;
  ::close(fd);
  if (n < 0) return hashdb::ErrnoError(path, err);
  std::string_view text(buf, static_cast<std::size_t>(n));
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             path + ": expected one decimal generation number");
  }
  return value;
}

hashdb::Status StateStore::SetHighestGeneration(std::uint64_t generation) const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return hashdb::ErrnoError("mkdir " + dir_);
  }
  const std::string text = std::to_string(generation) + "\n";
  auto status = hashdb::WriteFileAtomically(
      GenerationPath(),
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0600);
  if (!status.ok()) return status.error().Wrap(GenerationPath());
  return {};
}

namespace {
// A sysctl name as lockd writes it (os::Sysctl::PathOf accepts the same characters).
bool ValidSysctlName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}
}  // namespace

hashdb::Result<std::map<std::string, long>> StateStore::SavedSysctls() const {
  const std::string path = SysctlRecordPath();
  std::map<std::string, long> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    return hashdb::ErrnoError(path);
  }
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < 64 * 1024) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  const int err = errno;
  ::close(fd);
  if (n < 0) return hashdb::ErrnoError(path, err);
  std::size_t line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    long value = 0;
    const std::string_view v = eq == std::string_view::npos ? "" : line.substr(eq + 1);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (eq == std::string_view::npos || !ValidSysctlName(line.substr(0, eq)) || v.empty() ||
        ec != std::errc() || p != v.data() + v.size()) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                               path + " line " + std::to_string(line_no) +
                                   ": expected name=integer (a kernel setting and its value)");
    }
    out[std::string(line.substr(0, eq))] = value;
  }
  return out;
}

hashdb::Status StateStore::SaveSysctls(const std::map<std::string, long>& values) const {
  const std::string path = SysctlRecordPath();
  if (values.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return hashdb::ErrnoError("unlink " + path);
    return {};
  }
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return hashdb::ErrnoError("mkdir " + dir_);
  }
  std::string text;
  for (const auto& [name, value] : values) {
    if (!ValidSysctlName(name)) {
      return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                               path + ": not a kernel setting name: " + name);
    }
    text += name + "=" + std::to_string(value) + "\n";
  }
  auto status = hashdb::WriteFileAtomically(
      path,
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0600);
  if (!status.ok()) return status.error().Wrap(path);
  return {};
}

}  // namespace lockd
