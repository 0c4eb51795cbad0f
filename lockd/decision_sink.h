#pragma once
// The one place where decisions and daemon events leave lockd. The decider answers the kernel
// first and then hands a DecisionRecord to the DecisionSink; the daemon reports lifecycle
// events (start, stop, database loaded or refused) the same way. Implementations:
// StderrDecisionSink (one structured line on stderr, which journald stores) and, plugged in
// next to it with FanOutDecisionSink, the hash-chained audit log (lockd/audit/).
//
// Contract for implementations: thread-safe (called from every worker); must not block for
// long (never on disk I/O or the network in the caller's thread), since workers call it
// between answering one event and taking the next; must not throw.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/digest.h"
#include "lockd/decision.h"
#include "lockd/log.h"
#include "lockd/mode.h"

namespace lockd {

struct DecisionRecord {
  std::int64_t time_unix_ns = 0;
  Verdict verdict = Verdict::kDeny;
  Reason reason = Reason::kNotInAllowlist;
  EffectiveMode mode = EffectiveMode::kEnforce;
  bool from_cache = false;
  // An exec (FAN_OPEN_EXEC_PERM), or a plain open judged as a load of code (a library, a script
  // read by an interpreter).
  bool exec = true;
  pid_t pid = 0;
  pid_t ppid = -1;
  long uid = -1;
  // Controlling terminal (ProcessFacts::tty_nr), 0 = none: where the deny notice goes.
  std::uint64_t tty_nr = 0;
  std::string exe;  // the executing process's executable (raw bytes)
  // In maintenance mode: whose process this is (lockd/maintenance/session.h ByName), judged
  // while it waited for the answer; "" otherwise.
  std::string maintenance_by;
  std::string path;  // the file, from /proc/self/fd/N of the event fd (raw bytes)
  std::optional<hashdb::Digest> digest;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t db_generation = 0;
};

enum class DaemonEventKind {
  kStarted,
  kStopping,
  kDatabaseLoaded,
  kDatabaseRefused,
  kQueueOverflow,  // the kernel's event queue overflowed: accesses may have been allowed
  kError,
  // Token-authorized acts and maintenance (docs/audit-log.md lists the fields of each).
  kModeChange,             // audit "mode_change"
  kMaintenanceStart,       // audit "maintenance_start"
  kMaintenanceFinish,      // audit "maintenance_finish"
  kMaintenanceAbort,       // audit "maintenance_abort"
  kMaintenanceExpired,     // audit "maintenance_expired": the window ended by itself
  kMaintenanceLearned,     // audit "maintenance_learned": one new or changed file, once per session
  kMaintenanceNotLearned,  // audit "maintenance_not_learned": written or run during the window
                           // by a process outside the maintenance session; never learned
  kTrustChange,            // audit "trust_change"
  kAuthorizationRefused,   // audit "authz_refused": which check failed
  kDecider,                // audit "decider_restart": the supervisor started a fresh decider
  kQuarantine,             // audit "quarantine": a file copied into a forensic archive
  kFuseAbort,              // audit "fuse_abort": a FUSE connection that held lockd was ended
                           // (untrusted_reader.h)
};
std::string_view DaemonEventName(DaemonEventKind kind);

struct DaemonEvent {
  DaemonEvent() = default;
  DaemonEvent(std::int64_t time, DaemonEventKind k, std::string msg, std::uint64_t generation,
              std::vector<std::pair<std::string, std::string>> extra = {})
      : time_unix_ns(time),
        kind(k),
        message(std::move(msg)),
        db_generation(generation),
        fields(std::move(extra)) {}

  std::int64_t time_unix_ns = 0;
  DaemonEventKind kind = DaemonEventKind::kError;
  std::string message;  // human readable, may contain paths (raw bytes)
  std::uint64_t db_generation = 0;
  // Structured fields for the audit record, in order (e.g. {"token_id", "T-0042"},
  // {"holder", "..."}). Values are raw bytes; the audit log escapes them. Keys are
  // [a-z_]+ and must not be seq, time, type, prev, message or generation.
  std::vector<std::pair<std::string, std::string>> fields;
  // The journal priority of its line (Report); unset: error for refusals, overflows and errors,
  // notice otherwise.
  std::optional<LogLevel> level;
};

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void OnDecision(const DecisionRecord& record) = 0;
  virtual void OnDaemonEvent(const DaemonEvent& event) = 0;
};

// One line per record on stderr:
//   lockd: decision verdict=deny reason=not-in-allowlist mode=enforce time=... pid=... ppid=...
//   uid=... exe="..." path="..." digest=... dev=... ino=... generation=... cached=0
// Values from the outside are escaped (text_escape.h), so a hostile file name cannot forge a
// second line or a field.
class StderrDecisionSink : public DecisionSink {
 public:
  void OnDecision(const DecisionRecord& record) override;
  void OnDaemonEvent(const DaemonEvent& event) override;
  static std::string FormatDecision(const DecisionRecord& record);
  static std::string FormatEvent(const DaemonEvent& event);
};

// Forwards to several sinks in order (stderr first, then the audit log).
class FanOutDecisionSink : public DecisionSink {
 public:
  void Add(std::shared_ptr<DecisionSink> sink) { sinks_.push_back(std::move(sink)); }
  void OnDecision(const DecisionRecord& record) override;
  void OnDaemonEvent(const DaemonEvent& event) override;

 private:
  std::vector<std::shared_ptr<DecisionSink>> sinks_;
};

// RFC 3339 UTC with nanoseconds: 2026-11-27T16:04:14.123456789Z.
std::string FormatTimeUtc(std::int64_t unix_ns);
std::int64_t NowUnixNs();

}  // namespace lockd
