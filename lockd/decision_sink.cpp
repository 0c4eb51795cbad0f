#include "lockd/decision_sink.h"

#include <time.h>

#include <cstdio>

#include "lockd/log.h"
#include "lockd/text_escape.h"

namespace lockd {

std::string_view DaemonEventName(DaemonEventKind kind) {
  switch (kind) {
    case DaemonEventKind::kStarted:
      return "started";
    case DaemonEventKind::kStopping:
      return "stopping";
    case DaemonEventKind::kDatabaseLoaded:
      return "database-loaded";
    case DaemonEventKind::kDatabaseRefused:
      return "database-refused";
    case DaemonEventKind::kQueueOverflow:
      return "queue-overflow";
    case DaemonEventKind::kError:
      return "error";
    case DaemonEventKind::kModeChange:
      return "mode-change";
    case DaemonEventKind::kMaintenanceStart:
      return "maintenance-start";
    case DaemonEventKind::kMaintenanceFinish:
      return "maintenance-finish";
    case DaemonEventKind::kMaintenanceAbort:
      return "maintenance-abort";
    case DaemonEventKind::kMaintenanceExpired:
      return "maintenance-expired";
    case DaemonEventKind::kMaintenanceLearned:
      return "maintenance-learned";
    case DaemonEventKind::kMaintenanceNotLearned:
      return "maintenance-not-learned";
    case DaemonEventKind::kTrustChange:
      return "trust-change";
    case DaemonEventKind::kAuthorizationRefused:
      return "authorization-refused";
    case DaemonEventKind::kDecider:
      return "decider-restart";
    case DaemonEventKind::kQuarantine:
      return "quarantine";
    case DaemonEventKind::kFuseAbort:
      return "fuse-abort";
  }
  return "error";
}

std::int64_t NowUnixNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string FormatTimeUtc(std::int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1000000000);
  tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(unix_ns % 1000000000));
  return buf;
}

std::string StderrDecisionSink::FormatDecision(const DecisionRecord& r) {
  std::string line = "lockd: decision verdict=";
  line.append(VerdictName(r.verdict));
  line.append(" reason=").append(ReasonName(r.reason));
  line.append(" mode=").append(EffectiveModeName(r.mode));
  line.append(" time=").append(FormatTimeUtc(r.time_unix_ns));
  line.append(" pid=").append(std::to_string(r.pid));
  line.append(" ppid=").append(std::to_string(r.ppid));
  line.append(" uid=").append(std::to_string(r.uid));
  line.append(" exe=\"").append(EscapeLogValue(r.exe)).append("\"");
  line.append(" path=\"").append(EscapeLogValue(r.path)).append("\"");
  line.append(" digest=").append(r.digest ? hashdb::ToHex(*r.digest) : std::string("-"));
  line.append(" dev=").append(std::to_string(r.dev));
  line.append(" ino=").append(std::to_string(r.ino));
  line.append(" generation=").append(std::to_string(r.db_generation));
  line.append(" cached=").append(r.from_cache ? "1" : "0");
  return line;
}

std::string StderrDecisionSink::FormatEvent(const DaemonEvent& e) {
  std::string line = "lockd: event kind=";
  line.append(DaemonEventName(e.kind));
  line.append(" time=").append(FormatTimeUtc(e.time_unix_ns));
  line.append(" generation=").append(std::to_string(e.db_generation));
  line.append(" message=\"").append(EscapeLogValue(e.message)).append("\"");
  for (const auto& [key, value] : e.fields) {
    line.append(" ").append(key).append("=\"").append(EscapeLogValue(value)).append("\"");
  }
  return line;
}

void StderrDecisionSink::OnDecision(const DecisionRecord& record) {
  // A deny is a warning for journald; an allowed would-deny is a notice.
  const char* prio = record.verdict == Verdict::kDeny ? "<4>" : "<5>";
  WriteStderrLine(prio + FormatDecision(record));
}

void StderrDecisionSink::OnDaemonEvent(const DaemonEvent& event) {
  const bool bad = event.kind == DaemonEventKind::kDatabaseRefused ||
                   event.kind == DaemonEventKind::kQueueOverflow ||
                   event.kind == DaemonEventKind::kError;
  const std::string priority = event.level
                                   ? "<" + std::to_string(static_cast<int>(*event.level)) + ">"
                               : bad ? "<3>"
                                     : "<5>";
  WriteStderrLine(priority + FormatEvent(event));
}

void FanOutDecisionSink::OnDecision(const DecisionRecord& record) {
  for (auto& s : sinks_) s->OnDecision(record);
}

void FanOutDecisionSink::OnDaemonEvent(const DaemonEvent& event) {
  for (auto& s : sinks_) s->OnDaemonEvent(event);
}

}  // namespace lockd
