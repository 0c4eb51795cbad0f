#pragma once
// Operational log of the daemon: one line per message on stderr, with the syslog priority
// prefix ("<3>") that journald turns into the record's priority. Thread-safe: each message is
// one write(2). Decisions do not go through here but through a DecisionSink (decision_sink.h).

#include <string>
#include <string_view>

namespace lockd {

enum class LogLevel { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

// "error", "warning", "info", "debug"; nullopt-like false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel& out);
std::string_view LogLevelName(LogLevel level);

// Messages above this level are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

void Log(LogLevel level, std::string_view message);
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogWarning(std::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

// Writes one already formatted line (a newline is appended) to stderr in a single write.
void WriteStderrLine(std::string_view line);

}  // namespace lockd
