#include "lockd/os/process_info.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

namespace lockd::os {

namespace {

// Reads up to 4 KiB of a small /proc file.
std::string ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Value of "Key:\t..." in /proc/<pid>/status, first number.
template <typename T>
bool StatusNumber(std::string_view status, std::string_view key, T& out) {
  std::size_t pos = 0;
  while (pos < status.size()) {
    std::size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view v = line.substr(key.size() + 1);
      while (!v.empty() && (v[0] == ' ' || v[0] == '\t')) v.remove_prefix(1);
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      return ec == std::errc();
    }
    pos = end + 1;
  }
  return false;
}

// tty_nr, the 7th field of /proc/<pid>/stat. The 2nd field (comm, in parentheses) may hold
// spaces and ')', so fields are counted from the last ')'.
bool StatTtyNr(std::string_view stat, std::uint64_t& out) {
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = stat.substr(close + 1);
  // state ppid pgrp session tty_nr
  for (int field = 3; field <= 7; ++field) {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    std::size_t end = rest.find(' ');
    if (end == std::string_view::npos) end = rest.size();
    if (field == 7) {
      long long v = 0;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + end, v);
      if (ec != std::errc() || p != rest.data() + end) return false;
      // The kernel prints the encoded device number as a signed int.
      out = static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
      return true;
    }
    rest.remove_prefix(end);
  }
  return false;
}

}  // namespace

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  if (n <= 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string FdPath(int fd) { return ReadLink("/proc/self/fd/" + std::to_string(fd)); }

ProcessFacts ReadProcessFacts(pid_t pid, const std::string& proc_root) {
  ProcessFacts facts;
  facts.pid = pid;
  const std::string base = proc_root + "/" + std::to_string(pid);
  const std::string status = ReadSmallFile(base + "/status");
  pid_t ppid = -1;
  if (StatusNumber(status, "PPid", ppid)) facts.ppid = ppid;
  long uid = -1;
  if (StatusNumber(status, "Uid", uid)) facts.uid = uid;
  facts.exe = ReadLink(base + "/exe");
  std::uint64_t tty = 0;
  if (StatTtyNr(ReadSmallFile(base + "/stat"), tty)) facts.tty_nr = tty;
  return facts;
}

}  // namespace lockd::os
