#pragma once
// Difference between two allowlists, by path: what a re-baseline adds, removes and changes.
// Shown to the field engineer before a new database is signed, and to auditors.

#include <cstdint>
#include <vector>

#include "hashdb/database.h"
#include "hashdb/entry.h"

namespace hashdb {

struct ChangedEntry {
  FileEntry before;
  FileEntry after;  // same path, different digest
};

struct DatabaseDiff {
  std::vector<FileEntry> added;       // in path order
  std::vector<FileEntry> removed;     // in path order
  std::vector<ChangedEntry> changed;  // in path order
  std::uint64_t unchanged = 0;        // same path and digest (metadata may differ)

  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// Both inputs must be sorted by path (bytewise, as Database records and Scan results are) with
// unique paths; entries not sorted give an incomplete diff but never read out of bounds.
DatabaseDiff DiffEntries(const std::vector<FileEntry>& before, const std::vector<FileEntry>& after);

// Diff of two verified databases (records are in path order).
DatabaseDiff DiffDatabases(const Database& before, const Database& after);

// All records of a database, in path order, as FileEntry values.
std::vector<FileEntry> EntriesOf(const Database& db);

// For the next generation built from a rescan: flags as an interpreter every entry whose
// content was an interpreter in `current`, or whose path held an interpreter there (an
// updated interpreter that was flagged by `lockctl db build --interpreter`). Flags are only
// added: a file named like a policy interpreter is flagged by the writer anyway.
void CarryInterpreterFlags(const Database& current, std::vector<FileEntry>& entries);

}  // namespace hashdb
