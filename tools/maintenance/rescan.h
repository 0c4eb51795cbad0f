#pragma once
// The re-baseline of `lockctl maintenance finish`: which files the new database allows.
//
// Full (the default): a fresh scan of the baseline roots (with the baseline excludes), plus
// every file lockd learned during the window that the scan did not record (e.g. outside the
// roots), hashed now. What is no longer on disk under the roots is removed.
//
// Updater only (--updater-only): the current database's entries, plus the files the trusted
// updater wrote or changed during the window (learned with how "updater"), hashed now; nothing
// is removed and nothing else is looked at. Security: this trusts that the updater (itself
// allowlisted by digest, named in lockd's config) wrote only what it was meant to, and that no
// one else changed files under the roots during the window. Use it for vendor updates run
// through that updater; after anything done by hand, do the full rescan.
//
// Files are always hashed now, from the disk, never taken from the learned list's digests: the
// list says where to look, the disk says what is allowed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/entry.h"
#include "hashdb/result.h"
#include "hashdb/scanner.h"

namespace lockctl {

// One file of lockd's learned list, with every way it was seen during the window ("exec",
// "write", "updater": lockd/control/server.h).
struct LearnedFile {
  std::string path;
  std::vector<std::string> hows;
  bool Has(std::string_view how) const;
};

// Parses lockd's learned list (source_name for errors): lines
// "<sha256 hex or ->\t<how>\t<path as hex>\n"; a last line without "\n" (torn by a crash) is
// ignored. Files appear once, in the order first seen, with all their hows.
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
  bool updater_only = false;
  unsigned threads = 0;
  // Receives the full rescan's progress (with a first pass's count); not owned, may be null.
  hashdb::ScanReporter* reporter = nullptr;
};

struct RescanResult {
  std::vector<hashdb::FileEntry> entries;  // sorted by path, unique
  std::optional<hashdb::ScanResult> scan;  // the full scan's report (not for updater-only)
  std::size_t learned_added = 0;           // learned files recorded besides the scan
  std::vector<std::string> notes;          // learned files not taken, and why (for the log)
};

// current: the entries of the database in force (used by updater-only).
hashdb::Result<RescanResult> Rescan(const RescanOptions& options,
                                    const std::vector<hashdb::FileEntry>& current);

}  // namespace lockctl
