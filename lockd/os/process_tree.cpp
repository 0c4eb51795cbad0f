#include "lockd/os/process_tree.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

namespace lockd::os {

namespace {

// Up to 4 KiB of a /proc file; "" when it cannot be read.
std::string ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

template <typename T>
bool Number(std::string_view text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

std::optional<ProcNode> ParseProcStat(std::string_view stat) {
  ProcNode node;
  const auto open = stat.find(" (");
  const auto close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  if (!Number(stat.substr(0, open), node.pid)) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  // Fields from 3 (state) on; ppid is 4, starttime 22.
  for (int field = 3; field <= 22; ++field) {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    std::size_t end = rest.find(' ');
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view value = rest.substr(0, end);
    if (value.empty()) return std::nullopt;
    if (field == 4 && !Number(value, node.ppid)) return std::nullopt;
    if (field == 22 && !Number(value, node.start_time)) return std::nullopt;
    rest.remove_prefix(end);
  }
  return node;
}

std::optional<ProcNode> ProcFs::Read(pid_t pid) const {
  if (pid <= 0) return std::nullopt;
  const std::string base = root_ + "/" + std::to_string(pid);
  auto node = ParseProcStat(ReadProcFile(base + "/stat"));
  if (!node || node->pid != pid) return std::nullopt;
  std::string text = ReadProcFile(base + "/sessionid");
  if (text.empty()) {
    // Gone between the two reads (or a kernel without audit, where no process has the file):
    // a process that vanished must not pass for one without a login session.
    static const bool audit = ::access("/proc/self/sessionid", F_OK) == 0;
    if (audit) return std::nullopt;
    return node;
  }
  if (text.back() == '\n') text.pop_back();
  std::uint32_t session = 0;
  if (Number(std::string_view(text), session) && session != 0xffffffffu) {
    node->login_session = session;
  }
  return node;
}

}  // namespace lockd::os
