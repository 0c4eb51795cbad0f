#pragma once
// What the export reads out of the audit log: blocked and would-block events, the history of
// database generations and the maintenance sessions, from the records documented in
// docs/audit-log.md. The raw lines stay in the bundle (audit/), so every figure here can be
// checked against them; this is a reading, not a second source of truth.
//
// Reading rules: lines that are not records (torn lines, damage) are counted and skipped (the
// chain verification in the bundle names them); members we do not know are ignored; numeric
// fields are accepted both as JSON numbers and as decimal strings (the daemon writes
// maintenance counts through Record::AddBytes).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/json_parse.h"
#include "audit/verify.h"

namespace lockctl::exporttool {

// A deny or would_deny record, or a repeat record standing for `count` of them (type is then
// the repeat's `of`, pid its last_pid, and first_time..last_time the span it counts).
struct BlockEvent {
  std::uint64_t seq = 0;
  std::string time;  // as recorded (RFC 3339 UTC)
  std::string type;  // "deny" or "would_deny"
  std::string reason, mode;
  std::string pid, uid;
  std::string exe;   // exact bytes (from exe_hex when present)
  std::string path;  // exact bytes
  bool path_truncated = false;
  std::string sha256;  // "" when the file was not hashed
  std::string generation;
  std::string cached;
  bool repeat = false;
  std::uint64_t count = 1;
  std::string first_time, last_time;  // = time for a single record
};

// The one reading of a record as counted denials, shared by the export, `lockctl log summary`
// and `lockctl fleet report` so that they all give the same figures: a deny or would_deny
// record is 1 denial at its time; a repeat record whose `of` is deny or would_deny is `count`
// denials from first_time to last_time (docs/audit-log.md, "Repeats"). nullopt for any other
// record, and for a repeat of something else. A repeat record without a readable `count`
// (a JSON number or decimal string) counts 0 and keeps repeat = true, so it is still listed.
// Security consequence: reading repeats as 1 would hide all but one denial of a flood.
std::optional<BlockEvent> ReadBlockEvent(const lockd::audit::JsonValue& record, std::uint64_t seq,
                                         const std::string& time, const std::string& type);

// Totals of counted denials (BlockEvent::count each), with how many of them came from repeat
// records and the span from the first denial (first_time) to the last (last_time; an event
// without first_time/last_time spans its time).
struct BlockTally {
  std::uint64_t deny = 0, would_deny = 0;
  std::uint64_t repeat_records = 0;   // repeat records added
  std::uint64_t in_repeats = 0;       // denials counted from repeat records
  std::string first_time, last_time;  // RFC 3339 UTC; "" when nothing was added

  void Add(const BlockEvent& b);
  std::uint64_t total() const { return deny + would_deny; }
};

// A db_load, db_refused or maintenance_finish record.
struct GenerationEvent {
  std::uint64_t seq = 0;
  std::string time, type;
  std::string generation;  // "" when the record has none (a refusal before reading it)
  std::string message;
  // maintenance_finish only:
  std::string session, token_id, holder, previous_generation, db_sha256, added, removed, changed;
};

struct LearnedFile {
  std::uint64_t seq = 0;
  std::string time, how, path, sha256, kind;
};

// One maintenance session, from its start to its end record (either may be outside the log).
struct MaintenanceSession {
  std::string session;
  std::uint64_t start_seq = 0;  // 0: the start record is not in the log
  std::string start_time, token_id, holder, organisation, key_id, minutes, ends, start_message;
  std::string end_type;  // "maintenance_finish", "maintenance_abort", "maintenance_expired",
                         // or "" while open (or when the end is not in the log)
  std::uint64_t end_seq = 0;
  std::string end_time, end_message, end_token_id, end_holder;
  std::string generation, previous_generation, db_sha256, added, removed, changed;  // finish
  std::vector<LearnedFile> learned;
};

// mode_change, trust_change, authz_refused and quarantine: acts an auditor asks about.
struct AuthorizedAct {
  std::uint64_t seq = 0;
  std::string time, type, message;
  std::vector<std::pair<std::string, std::string>> fields;  // other members, as text
};

struct AuditFacts {
  std::vector<BlockEvent> blocks;
  std::vector<GenerationEvent> generations;
  std::vector<MaintenanceSession> sessions;  // in order of first appearance
  std::vector<AuthorizedAct> acts;
  std::map<std::string, std::uint64_t> records_by_type;
  std::uint64_t records = 0;
  std::uint64_t unreadable_lines = 0;
  std::string first_time, last_time;  // of the records read
};

// Reads records from the files in chain order. Records before `since` (when set) are left out
// of blocks, generations, sessions and acts (not out of the counts by type).
AuditFacts ReadAuditFacts(const std::vector<lockd::audit::LogInput>& files,
                          std::optional<std::chrono::system_clock::time_point> since);

// A member as text: strings as their exact bytes (`<key>_hex` honoured), numbers in decimal,
// booleans as true/false; "" when absent.
std::string FieldText(const lockd::audit::JsonValue& record, std::string_view key);

}  // namespace lockctl::exporttool
