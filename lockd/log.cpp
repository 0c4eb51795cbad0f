#include "lockd/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace lockd {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel& out) {
  if (text == "error") {
    out = LogLevel::kError;
  } else if (text == "warning") {
    out = LogLevel::kWarning;
  } else if (text == "info") {
    out = LogLevel::kInfo;
  } else if (text == "debug") {
    out = LogLevel::kDebug;
  } else {
    return false;
  }
  return true;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void WriteStderrLine(std::string_view line) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  std::size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(STDERR_FILENO, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

void Log(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  std::string line = "<" + std::to_string(static_cast<int>(level)) + ">lockd: ";
  line.append(LogLevelName(level));
  line.append(": ");
  // Messages may carry paths from the outside: keep each message on one line.
  for (char c : message) line.push_back(c == '\n' ? ' ' : c);
  WriteStderrLine(line);
}

}  // namespace lockd
