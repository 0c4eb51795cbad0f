#include "lockd/audit/audit_sink.h"

#include <chrono>

namespace lockd::audit {
namespace {

Clock::time_point FromUnixNs(std::int64_t ns) {
  if (ns == 0) return Clock::now();
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

std::string_view EventType(DaemonEventKind kind) {
  switch (kind) {
    case DaemonEventKind::kStarted:
      return "daemon_start";
    case DaemonEventKind::kStopping:
      return "daemon_stop";
    case DaemonEventKind::kDatabaseLoaded:
      return "db_load";
    case DaemonEventKind::kDatabaseRefused:
      return "db_refused";
    case DaemonEventKind::kQueueOverflow:
      return "queue_overflow";
    case DaemonEventKind::kError:
      return "daemon_error";
    case DaemonEventKind::kModeChange:
      return "mode_change";
    case DaemonEventKind::kMaintenanceStart:
      return "maintenance_start";
    case DaemonEventKind::kMaintenanceFinish:
      return "maintenance_finish";
    case DaemonEventKind::kMaintenanceAbort:
      return "maintenance_abort";
    case DaemonEventKind::kMaintenanceExpired:
      return "maintenance_expired";
    case DaemonEventKind::kMaintenanceLearned:
      return "maintenance_learned";
    case DaemonEventKind::kMaintenanceNotLearned:
      return "maintenance_not_learned";
    case DaemonEventKind::kTrustChange:
      return "trust_change";
    case DaemonEventKind::kAuthorizationRefused:
      return "authz_refused";
    case DaemonEventKind::kDecider:
      return "decider_restart";
    case DaemonEventKind::kQuarantine:
      return "quarantine";
    case DaemonEventKind::kFuseAbort:
      return "fuse_abort";
  }
  return "daemon_error";
}

}  // namespace

hashdb::Result<std::shared_ptr<AuditSink>> AuditSink::Start(AuditLogOptions options) {
  auto log = AuditLog::Start(std::move(options));
  if (!log) return log.error();
  return std::shared_ptr<AuditSink>(new AuditSink(std::move(*log)));
}

Record AuditSink::ToRecord(const DecisionRecord& d) {
  Record r(d.verdict == Verdict::kDeny ? "deny" : "would_deny");
  r.set_time(FromUnixNs(d.time_unix_ns));
  r.AddBytes("reason", ReasonName(d.reason));
  r.AddBytes("mode", EffectiveModeName(d.mode));
  r.AddInt("pid", d.pid).AddInt("ppid", d.ppid).AddInt("uid", d.uid);
  r.AddBytes("exe", d.exe).AddBytes("path", d.path);
  if (d.digest) r.AddDigest("sha256", *d.digest);
  r.AddUint("dev", d.dev).AddUint("ino", d.ino).AddUint("generation", d.db_generation);
  r.AddBool("cached", d.from_cache);
  return r;
}

Record AuditSink::ToRecord(const DaemonEvent& e) {
  Record r(EventType(e.kind));
  r.set_time(FromUnixNs(e.time_unix_ns));
  r.AddBytes("message", e.message);
  if (e.db_generation != 0) r.AddUint("generation", e.db_generation);
  for (const auto& [key, value] : e.fields) r.AddBytes(key, value);
  return r;
}

RepeatOccurrence AuditSink::RepeatOf(const DecisionRecord& d) {
  RepeatOccurrence o;
  o.type = d.verdict == Verdict::kDeny ? "deny" : "would_deny";
  o.reason = ReasonName(d.reason);
  o.mode = EffectiveModeName(d.mode);
  o.uid = d.uid;
  o.path = d.path;
  o.digest = d.digest;
  o.time = FromUnixNs(d.time_unix_ns);
  o.pid = d.pid;
  o.exe = d.exe;
  return o;
}

void AuditSink::OnDecision(const DecisionRecord& record) {
  if (record.verdict == Verdict::kAllow) return;
  log_->AppendRepeatable(RepeatOf(record), [&] { return ToRecord(record); });
}

void AuditSink::OnDaemonEvent(const DaemonEvent& event) {
  // The counts of repeats go before the stop record, so a log ends with everything counted.
  if (event.kind == DaemonEventKind::kStopping) log_->FlushRepeats();
  log_->Append(ToRecord(event));
  // A stopping daemon's record must reach the disk before the process exits.
  if (event.kind == DaemonEventKind::kStopping) log_->Flush();
}

}  // namespace lockd::audit
