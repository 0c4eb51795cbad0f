#pragma once
// AuditFile: the synchronous audit log writer. It appends records as hash-chained JSON lines
// to one file (default /var/log/lockd/audit.jsonl), rotates it by size keeping the chain
// across files, and recovers from a crash's torn last line. Used directly by tools (one
// record at a time) and by AuditLog's writer thread (a batch at a time).
//
// Every Append runs under an exclusive flock(2) on "<path>.lock" and first re-reads the
// file's tail whenever the file is not exactly as this object left it (another writer, a
// crash, a short write, a rotation by someone else), so several processes can append to one
// log and the chain stays consecutive.
//
// Durability: each line (with its newline) is one write(2) on an O_APPEND descriptor; after
// each Append call the file is fdatasync'd (when options.sync). A crash can therefore leave
// at most a torn (unterminated) final line, which the next writer terminates with a newline
// and acknowledges with a `torn_record` record carrying the fragment's length and SHA-256;
// the verifier accepts exactly such acknowledged fragments (docs/audit-log.md, "Crashes").
//
// Rotation never deletes records silently: before the oldest rotated file is deleted, a
// `rotation_drop` record naming it, its seq and time range, the hashes where its range hangs
// on the chain, the denials it held and how many of its records were neither exported
// (`<path>.exported`, written by lockctl export) nor forwarded to syslog (SetForwarded) is
// written to the chain (rotation_drop.h). A verifier then tells declared drops from removals.
//
// Not thread-safe: one thread per object (AuditLog serializes through its writer thread).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "audit/record.h"
#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/audit/rotation_drop.h"

namespace lockd::audit {

struct AuditFileOptions {
  std::string path = "/var/log/lockd/audit.jsonl";
  // Rotate before a line would take the file past this size (0: never rotate). Rotation
  // renames path.N-1 -> path.N ... path -> path.1 and deletes what would become path.keep+1.
  std::uint64_t max_bytes = 16 * 1024 * 1024;
  int keep = 10;       // rotated files kept (>= 1)
  bool sync = true;    // fdatasync after each Append call
  mode_t mode = 0640;  // of new log files; the directory is created 0750 if missing
};

// The end of the chain: the last record's seq and the hash of its line. seq 0 with
// kGenesisPrev means nothing has been written yet.
struct ChainHead {
  std::uint64_t seq = 0;
  std::string hash = kGenesisPrev;
};

class AuditFile {
 public:
  // Opens (creating if needed) the log and its lock file and reads the chain head from the
  // file's tail (or from path.1 when the file is empty, as after a rotation). Fails with the
  // path and reason when the directory or files cannot be created or read.
  static hashdb::Result<std::unique_ptr<AuditFile>> Open(AuditFileOptions options);

  AuditFile(const AuditFile&) = delete;
  AuditFile& operator=(const AuditFile&) = delete;

  // Appends the records in order with consecutive seq numbers, after any recovery records
  // (torn_record, chain_restart). `written` (if not null) receives every line written by this
  // call, recovery records included; `records_done` the number of the caller's records
  // written. On error the records not written are lost (the caller should count them) and the
  // next call resynchronises from the file.
  hashdb::Status Append(std::span<const Record> records, std::vector<std::string>* written,
                        std::size_t* records_done = nullptr);
  hashdb::Status Append(const Record& record) {
    return Append(std::span<const Record>(&record, 1), nullptr);
  }

  // The chain head after the last successful Append or Open (what this object knows; another
  // process may have appended since).
  const ChainHead& head() const { return head_; }
  const AuditFileOptions& options() const { return options_; }

  // The records this process's syslog copy sent, in order and without a gap (0, 0: none); a
  // rotation counts them as saved.
  void SetForwarded(std::uint64_t from, std::uint64_t through) {
    forwarded_from_ = from;
    forwarded_through_ = through;
  }

 private:
  explicit AuditFile(AuditFileOptions options) : options_(std::move(options)) {}
  // Makes fd_ the current file and head_ the chain head on disk; queues recovery records.
  hashdb::Status Resync(std::vector<Record>& recovery);
  hashdb::Status OpenCurrent();
  // Rotates; first writes the rotation_drop record for the file it deletes (into *written).
  hashdb::Status Rotate(std::vector<std::string>* written);
  // Formats the record at the chain head (an oversized one becomes oversized_record), rotates
  // first when the line would not fit, and writes it.
  hashdb::Status WriteRecord(const Record& record, std::vector<std::string>* written);
  hashdb::Status WriteLine(const std::string& line);

  AuditFileOptions options_;
  hashdb::UniqueFd lock_fd_;
  hashdb::UniqueFd fd_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t end_ = 0;         // size of the file after our last write
  bool in_sync_ = false;          // fd_, end_ and head_ match the file as we left it
  bool have_head_ = false;        // head_ was read from disk or written by us
  bool pending_newline_ = false;  // the file ends in a torn fragment: the next write ends it
  ChainHead head_;
  std::uint64_t forwarded_from_ = 0;
  std::uint64_t forwarded_through_ = 0;
};

}  // namespace lockd::audit
