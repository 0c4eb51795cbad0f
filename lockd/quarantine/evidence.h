#pragma once
// What a quarantine archive (quarantine.h) says about its sample, built without I/O: the deny
// records of the audit log that name the file, and the manifest JSON that goes into the
// archive next to the sample's bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockd::quarantine {

// A deny or would_deny record (docs/audit-log.md) that names the quarantined file.
struct DenyRecordRef {
  std::uint64_t seq = 0;
  std::string time;    // RFC 3339, as written
  std::string type;    // "deny" or "would_deny"
  std::string reason;  // e.g. "not-in-allowlist"
  std::string path;    // raw bytes
  std::string sha256;  // "" when the record has none
  std::string exe;     // raw bytes
  std::int64_t pid = -1;
  std::int64_t uid = -1;
  bool by_path = false;    // its path is the file's path
  bool by_digest = false;  // its sha256 is the file's digest (the same content elsewhere)
};

// The record on one audit log line when it is a deny or would_deny record whose path equals
// path or whose sha256 equals digest_hex (64 lower-case hex). nullopt for every other line,
// including lines that are not records (the chain is `lockctl log verify`'s business).
std::optional<DenyRecordRef> MatchDenyRecord(std::string_view line, std::string_view path,
                                             std::string_view digest_hex);

// Keeps the matches of a stream of lines: the first kMaxListedRecords in log order and the
// count of all, and the first and last time any matching record was written.
class DenyRecordCollector {
 public:
  static constexpr std::size_t kMaxListedRecords = 1000;
  DenyRecordCollector(std::string path, std::string digest_hex)
      : path_(std::move(path)), digest_hex_(std::move(digest_hex)) {}
  void AddLine(std::string_view line);

  const std::vector<DenyRecordRef>& records() const { return records_; }
  std::uint64_t total() const { return total_; }
  const std::string& first_seen() const { return first_seen_; }  // "" when none
  const std::string& last_seen() const { return last_seen_; }

 private:
  std::string path_;
  std::string digest_hex_;
  std::vector<DenyRecordRef> records_;
  std::uint64_t total_ = 0;
  std::string first_seen_, last_seen_;
};

// The sample's facts from fstat of the descriptor it was read through, and its digest.
struct SampleFacts {
  std::string path;    // as given (absolute), raw bytes
  std::string sha256;  // lower-case hex of the bytes archived
  std::uint64_t size = 0;
  std::uint32_t mode = 0;  // st_mode
  std::uint64_t uid = 0, gid = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t ino = 0, dev = 0;
};

struct Manifest {
  SampleFacts sample;
  std::string member;          // the sample's name inside the archive
  std::string quarantined_at;  // RFC 3339
  std::string terminal_id;
  bool remove_requested = false;
  std::vector<std::string> audit_logs;  // the files searched for deny records, oldest first
  std::string audit_error;              // why they could not all be read ("" when they were)
  std::vector<DenyRecordRef> deny_records;
  std::uint64_t deny_records_total = 0;
  std::string first_seen, last_seen;  // of the deny records; "" when none
};

// The manifest as one JSON object and a newline (members: docs/runbook.md, "Forensics").
// Raw bytes go through the project's JSON string writer (a `_hex` twin when not UTF-8).
std::string ManifestJson(const Manifest& manifest);

}  // namespace lockd::quarantine
