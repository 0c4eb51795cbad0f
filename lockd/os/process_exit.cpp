#include "lockd/os/process_exit.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>

#include "hashdb/unique_fd.h"

namespace lockd::os {

namespace {

// The value after "Key:" on its line (leading tabs and spaces skipped), or empty.
std::string_view Field(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::string_view line =
        text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view v = line.substr(key.size() + 1);
      while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) v.remove_prefix(1);
      return v;
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return {};
}

// Whether the hex signal mask `v` has SIGKILL (bit SIGKILL - 1).
bool HasKill(std::string_view v) {
  std::uint64_t mask = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), mask, 16);
  return ec == std::errc() && p != v.data() && (mask & (std::uint64_t{1} << (SIGKILL - 1))) != 0;
}

}  // namespace

ProcessLife ParseProcessLife(std::string_view status_text) {
  const std::string_view state = Field(status_text, "State");
  if (state.empty()) return ProcessLife::kGone;
  if (state.front() == 'Z' || state.front() == 'X') return ProcessLife::kDying;
  if (HasKill(Field(status_text, "SigPnd")) || HasKill(Field(status_text, "ShdPnd"))) {
    return ProcessLife::kDying;
  }
  return ProcessLife::kAlive;
}

ProcessLife ReadProcessLife(pid_t pid, const std::string& proc_root) {
  const std::string path = proc_root + "/" + std::to_string(pid) + "/status";
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ProcessLife::kGone;
  std::string text;
  char buf[4096];
  // status is a few KiB; more than 64 KiB is not a status file.
  while (text.size() < (64u << 10)) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return ParseProcessLife(text);
}

}  // namespace lockd::os
