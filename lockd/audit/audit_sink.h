#pragma once
// AuditSink: the audit log plugged into the daemon's one emission point (DecisionSink,
// lockd/decision_sink.h). Denials and would-denials become `deny` / `would_deny` records,
// repeats of a denial within the aggregation window are counted into `repeat` records
// (AuditLog::AppendRepeatable), daemon events become `daemon_start`, `daemon_stop`, `db_load`,
// `db_refused`, `queue_overflow` and `daemon_error` records (fields: docs/audit-log.md). Allowed
// execs are not recorded (they are counted in the status).
//
// Thread-safe and non-blocking as DecisionSink requires: it only builds the record and hands
// it to AuditLog::Append (a bounded queue; a full queue drops and counts, and the loss is
// recorded in the log as `records_lost`).

#include <memory>

#include "hashdb/result.h"
#include "lockd/audit/audit_log.h"
#include "lockd/decision_sink.h"

namespace lockd::audit {

class AuditSink : public DecisionSink {
 public:
  // Opens the log and starts its writer (AuditLog::Start).
  static hashdb::Result<std::shared_ptr<AuditSink>> Start(AuditLogOptions options);

  void OnDecision(const DecisionRecord& record) override;
  void OnDaemonEvent(const DaemonEvent& event) override;

  // The records of a decision and of an event, as the sink appends them (for tests and for
  // tools that write events synchronously through AuditFile).
  static Record ToRecord(const DecisionRecord& record);
  static Record ToRecord(const DaemonEvent& event);
  // What makes a decision a repeat of an earlier one (type, reason, mode, uid, path, sha256).
  static RepeatOccurrence RepeatOf(const DecisionRecord& record);

  AuditLog& log() { return *log_; }

 private:
  explicit AuditSink(std::unique_ptr<AuditLog> log) : log_(std::move(log)) {}
  std::unique_ptr<AuditLog> log_;
};

}  // namespace lockd::audit
