#pragma once
// What a rotation deletes, described so that the chain can say so (the `rotation_drop` record,
// docs/audit-log.md): AuditFile writes it into the log before it deletes the oldest rotated
// file, so records are never rotated away silently, and in particular never ones that were
// not yet exported or forwarded to syslog (`unsaved`).
//
// The marks of what was taken: `lockctl export` writes "<log>.exported" (the seq and hash of
// the head it exported, ExportMark); the daemon's writer knows which records its syslog copy
// sent (AuditFile::SetForwarded).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/record.h"
#include "hashdb/result.h"

namespace lockd::audit {

// The records of one log file, read with a light scan of our own line format (the file is
// about to be deleted; the verifier is what judges a chain). Lines that are not records are
// counted in `other_lines`.
struct DroppedFile {
  std::string name;  // file name without directory, as it was when deleted
  std::uint64_t bytes = 0;
  std::uint64_t records = 0;
  std::uint64_t other_lines = 0;
  std::uint64_t first_seq = 0, last_seq = 0;
  std::string first_time, last_time;
  std::string first_prev;  // the prev of its first record: where the dropped range hangs on
  std::string last_hash;   // the hash of its last line: the prev of the next file's first record
  std::uint64_t deny_decisions = 0;  // deny records + the counts of deny repeats
  std::uint64_t would_deny_decisions = 0;
};

// Scans the file at path (refusing one over 1 GiB).
hashdb::Result<DroppedFile> DescribeDroppedFile(const std::string& path);

// What was taken off the terminal: records up to `exported_through` by an export, and
// forwarded_from..forwarded_through by the syslog copy (0: none).
struct TakenMarks {
  std::uint64_t exported_through = 0;
  std::uint64_t forwarded_from = 0;
  std::uint64_t forwarded_through = 0;
};

// How many of the seqs first..last are covered by neither mark.
std::uint64_t UnsavedRecords(std::uint64_t first, std::uint64_t last, const TakenMarks& marks);

// The rotation_drop record for a file about to be deleted.
Record RotationDropRecord(const DroppedFile& file, const TakenMarks& marks);

// The export mark: "<log>.exported", one line "SEQ HASH\n".
std::string ExportMarkPath(const std::string& log_path);
// The seq in the mark; 0 when there is none or it cannot be read.
std::uint64_t ReadExportMark(const std::string& log_path);
// Writes the mark atomically (never lowering a higher seq already there).
hashdb::Status WriteExportMark(const std::string& log_path, std::uint64_t seq,
                               std::string_view hash);

// The raw text of member `key` in one of our lines (a JSON string's content without quotes, or
// a number), nullopt when absent. Only for lines in the writer's own format.
std::optional<std::string_view> LineMember(std::string_view line, std::string_view key);

}  // namespace lockd::audit
