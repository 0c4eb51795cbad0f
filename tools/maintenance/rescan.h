#pragma once
// The re-baseline of `lockctl maintenance finish`: which files the new database allows.
//
// Only what the maintenance session wrote or ran (or a trusted updater wrote) is learned (issue
// 12 item 4). lockd's learned list says, for every file written or run during the window, who
// did it: "session" (the engineer's session and its descendants), "updater", "other" (any
// other process) or "unknown" (gone before lockd could tell; lockd/maintenance/session.h).
//
// Full (the default): a fresh scan of the baseline roots (with the baseline excludes, each a
// tree). A file whose path and content are in the database in force stays. A file that is new
// or changed is taken only when no process outside the session ("other") wrote or ran it
// during the window, and
//   - the session (or the updater) ran these very bytes (an exec line with its digest), or
//   - no writer that lockd could not judge ("unknown": it had exited) wrote it, and the
//     session wrote these very bytes (a write line with its digest, at any path: a file
//     written under a temporary name and renamed counts) or wrote this path while lockd's
//     list is complete (no event dropped);
// otherwise it is NOT learned: a new file is left out, a changed one keeps its old entry. The
// same goes for learned files outside the roots (hashed now). What is no longer on disk under
// the roots is removed.
//
// Updater only (--updater-only): the current database's entries, plus the files the trusted
// updater wrote or changed during the window (learned with how "updater") that nobody outside
// the session also wrote, hashed now; nothing is removed and nothing else is looked at.
// Security: this trusts that the updater (itself allowlisted by digest, named in lockd's
// config) wrote only what it was meant to. Use it for vendor updates run through that
// updater; after anything done by hand, do the full rescan.
//
// Files are always hashed now, from the disk, never taken from the learned list's digests: the
// list says who wrote what, the disk says what is allowed.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/entry.h"
#include "hashdb/result.h"
#include "hashdb/scanner.h"

namespace lockctl {

// One line of lockd's learned list: a file written or run during the window, and by whom.
struct LearnedWriter {
  std::optional<hashdb::Digest> digest;  // of what lockd saw, when it hashed it
  std::string how;                       // exec, open, write, updater
  std::string by;                        // session, updater, other, unknown
  pid_t pid = 0;
  long uid = -1;
  std::string exe;   // raw bytes; "" unknown
  std::string path;  // raw bytes, as lockd saw it
  bool Learned() const { return by == "session" || by == "updater"; }
};

// Every line of one path, in the order lockd wrote them.
struct LearnedFile {
  std::string path;
  std::vector<LearnedWriter> writers;
  bool Has(std::string_view how) const;        // some line with this how
  bool HasBy(std::string_view by) const;       // some line by this kind of writer
  const LearnedWriter* FirstOutsider() const;  // the first other/unknown line, or nullptr
  const LearnedWriter* FirstLearned() const;   // the first session/updater line, or nullptr
};

// Parses lockd's learned list (source_name for errors): lines
// "<sha256|->\t<how>\t<by>\t<pid>\t<uid|->\t<exe hex|->\t<path hex>\n"
// (lockd/maintenance/learned_list.h); a last line without "\n" (torn by a crash) is ignored.
// Files appear once, in the order first seen, with all their lines.
hashdb::Result<std::vector<LearnedFile>> ParseLearnedList(std::string_view text,
                                                          const std::string& source_name);

// The entry for one file as the scanner would record it (hashdb/file_hasher.h: never through a
// symlink, a FIFO or device never opened, hashed under a read lease or with before/after
// version checks). nullopt with *why set when the file is not recorded: vanished, a symlink, not
// a regular file, not code, kept changing.
hashdb::Result<std::optional<hashdb::FileEntry>> EntryForFile(const std::string& path,
                                                              std::string* why);

struct RescanOptions {
  std::vector<std::string> roots;
  std::vector<std::string> excludes;
  std::vector<LearnedFile> learned;
  // false when lockd dropped events during the window (maintenance-status learned_dropped):
  // a path written by the session then proves nothing about its content (another write may
  // be missing), only digests do.
  bool learned_complete = true;
  bool updater_only = false;
  unsigned threads = 0;
  // Receives the full rescan's progress (with a first pass's count); not owned, may be null.
  hashdb::ScanReporter* reporter = nullptr;
};

// A file on disk that the new database does not take, and why.
struct NotLearned {
  hashdb::FileEntry entry;                // as it is on disk now
  std::optional<hashdb::FileEntry> kept;  // its entry in force, kept (a changed file)
  std::vector<LearnedWriter> writers;     // every line of its path (may be empty)
  std::string why;
};

struct RescanResult {
  std::vector<hashdb::FileEntry> entries;  // sorted by path, unique
  std::optional<hashdb::ScanResult> scan;  // the full scan's report (not for updater-only)
  std::size_t learned_added = 0;           // learned files recorded besides the scan
  std::vector<std::string> notes;          // learned files not taken, and why (for the log)
  // Who wrote or ran each new or changed file taken: the diff shows it.
  std::map<std::string, LearnedWriter> taken_from;
  std::vector<NotLearned> not_learned;  // sorted by path
};

// current: the entries of the database in force.
hashdb::Result<RescanResult> Rescan(const RescanOptions& options,
                                    const std::vector<hashdb::FileEntry>& current);

}  // namespace lockctl
