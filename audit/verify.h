#pragma once
// Verification of an audit log chain (one file or several rotated files in order): every
// line is a record of the right shape, seq numbers are consecutive, and each record's prev is
// the SHA-256 of the previous record's exact line bytes. The first break is reported with
// its file, line number, seq and reason.
//
// What a chain proves: no record between the first and the last one verified was removed,
// inserted, edited or reordered. It cannot show that records were cut off at the end, or
// that the oldest files were removed, unless an anchor (a head hash recorded elsewhere
// earlier: in syslog/a SIEM, an export bundle) is given: then the record with that hash must
// still be in the chain.
//
// Crashes: a line that is not a record is accepted only when the record right after it is a
// torn_record acknowledging it (its length and SHA-256), as AuditFile writes after a crash;
// an unterminated, unparseable final line of the last file is a torn tail (the crash has not
// been repaired yet) and is reported, not counted as a break. See docs/audit-log.md.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hashdb/result.h"

namespace lockd::audit {

struct LogInput {
  std::string name;   // for messages (the path)
  std::string bytes;  // the whole file
};

struct ChainPlace {
  std::string file;
  std::uint64_t line = 0;            // 1-based
  std::optional<std::uint64_t> seq;  // when the line is a record
};

struct ChainBreak {
  ChainPlace place;
  std::string reason;
};

struct TornLine {
  ChainPlace place;
  std::uint64_t bytes = 0;
  bool acknowledged = false;  // false: the final line of the last file, not yet repaired
};

// A rotation_drop record: the writer deleted a rotated file and said so in the chain.
struct DeclaredDrop {
  ChainPlace place;  // of the rotation_drop record
  std::string file;
  std::uint64_t records = 0;
  std::uint64_t first_seq = 0, last_seq = 0;  // 0: the file held no record
  std::string first_prev, last_hash;
  std::uint64_t unsaved = 0;  // records neither exported nor forwarded when deleted
};

// Decisions of one verdict the chain accounts for: its own records, the counts of its repeat
// records, and the denials named by records_lost and rotation_drop records.
struct DecisionTally {
  std::uint64_t records = 0;
  std::uint64_t repeated = 0;
  std::uint64_t lost = 0;
  std::uint64_t rotated_away = 0;
  std::uint64_t total() const { return records + repeated + lost; }  // within the files read
};

struct VerifyOptions {
  bool require_genesis = false;      // the first record must be seq 1 with prev of zeros
  std::vector<std::string> anchors;  // line hashes that must occur in the chain
};

struct VerifyReport {
  std::uint64_t records = 0;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  bool starts_at_genesis = false;  // first record has seq 1 and prev of 64 zeros
  std::string first_prev;          // prev of the first record (what precedes the files)
  std::string head_hash;           // SHA-256 of the last record's line (64 zeros: no record)
  ChainPlace head;                 // where the last record is
  std::vector<TornLine> torn;
  std::optional<ChainBreak> broken;          // the first break; nullopt when the chain verifies
  std::vector<DeclaredDrop> declared_drops;  // in chain order
  // A declared drop ends right before the first record read, with that record's prev as its
  // last hash: the files before it were rotated away and the chain says so.
  bool drops_reach_chain = false;
  DecisionTally deny;
  DecisionTally would_deny;

  bool ok() const { return !broken; }
};

// Verifies the files' contents, in chain order (oldest first).
VerifyReport VerifyLogs(std::span<const LogInput> files, const VerifyOptions& options = {});

// Reads and verifies the files at paths (oldest first). Fails only when a file cannot be read
// (the error names it); a file over 1 GiB is refused.
hashdb::Result<VerifyReport> VerifyLogFiles(const std::vector<std::string>& paths,
                                            const VerifyOptions& options = {});

// Reads a whole log file (refusing more than 1 GiB).
hashdb::Result<std::string> ReadLogFile(const std::string& path);

// The files of a rotated log, oldest first: base.N ... base.2, base.1, base (the ones that
// exist). Fails with kNotFound when none exists.
hashdb::Result<std::vector<std::string>> DiscoverLogFiles(const std::string& base);

}  // namespace lockd::audit
