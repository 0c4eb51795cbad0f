#pragma once
// RepeatAggregator: folds repeated denials into counted `repeat` records, so that a loop of
// denied execs (thousands a second) costs the audit log a few lines a minute instead of one
// line per exec, and the first denials stay in the log (docs/audit-log.md, "Repeats").
//
// The key of a denial is (record type, reason, mode, uid, path bytes, sha256). The first
// denial of a key is written as a full record (the caller writes it; Note returns kWrite).
// Later denials of the same key are counted; once `window` has passed since the first one
// counted, TakeDue returns one `repeat` record for them (count, first_time, last_time, and the
// pid and exe of the last one) and the counting starts again. A key without a denial for a
// whole window is forgotten, so the next denial of it is a full record again.
//
// Nothing is ever dropped here: a key pushed out because `max_keys` are tracked hands its
// pending count to the next TakeDue, and TakeAll returns every pending count (at stop).
// Security consequence: every denial is either its own record or counted in exactly one
// repeat record, so `deny records + repeat counts (+ records_lost)` equals the daemon's
// count of denials; what is given up is the pid and exe of each repeat but the last.
//
// Pure: the caller passes the time (the event time for Note, the writer's clock for
// TakeDue). Not thread-safe (AuditLog holds its mutex around every call).

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/record.h"
#include "hashdb/digest.h"

namespace lockd::audit {

// What identifies a repeat, and what the repeat record reports of the last occurrence.
struct RepeatOccurrence {
  std::string type;  // "deny" or "would_deny"
  std::string reason;
  std::string mode;
  std::int64_t uid = -1;
  std::string path;  // raw bytes
  std::optional<hashdb::Digest> digest;
  Clock::time_point time;  // when it happened
  std::int64_t pid = 0;    // of this occurrence
  std::string exe;         // raw bytes
};

class RepeatAggregator {
 public:
  struct Options {
    std::chrono::nanoseconds window = std::chrono::seconds(10);
    std::size_t max_keys = 4096;
  };
  enum class Action {
    kWrite,    // a new key: write the full record, then call Started(occurrence)
    kCounted,  // a repeat: counted, nothing to write now
  };

  RepeatAggregator() : RepeatAggregator(Options{}) {}
  explicit RepeatAggregator(Options options) : options_(options) {}

  // Counts the occurrence if its key is tracked (kCounted); kWrite otherwise (nothing
  // changes: the caller writes the full record and, once it is queued, calls Started).
  Action Note(const RepeatOccurrence& occurrence);
  // The full record of this occurrence was queued: later ones of its key are repeats.
  void Started(const RepeatOccurrence& occurrence);

  struct Due {
    Record record;
    std::string of;  // "deny" or "would_deny"
    std::uint64_t count = 0;
  };
  // The repeat records due at `now`: keys counted for a whole window, keys pushed out by
  // max_keys. Forgets keys idle for a window.
  std::vector<Due> TakeDue(Clock::time_point now);
  // Every pending count as a repeat record (at stop); the keys stay tracked.
  std::vector<Due> TakeAll();
  // When TakeDue next has something to return (or to forget); nullopt: nothing tracked.
  std::optional<Clock::time_point> NextDue() const;

  std::size_t tracked() const { return entries_.size(); }
  std::uint64_t counted() const { return counted_; }  // repeats counted, ever

  // The key of an occurrence (unique for distinct (type, reason, mode, uid, digest, path)).
  static std::string Key(const RepeatOccurrence& occurrence);
  // The repeat record of `count` occurrences from first to last (last holds the reported
  // facts).
  static Due MakeRecord(const RepeatOccurrence& last, std::uint64_t count, Clock::time_point first);

 private:
  struct Entry {
    RepeatOccurrence last;  // the key's facts and the last occurrence's pid, exe, time
    std::uint64_t count = 0;
    Clock::time_point first;                 // of the pending count
    Clock::time_point last_write;            // the full record or the last repeat record
    std::list<std::string>::iterator order;  // in lru_
  };
  void Touch(Entry& entry, const std::string& key);

  Options options_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // keys, least recently seen first
  std::vector<Due> evicted_;    // repeat records of keys pushed out, for the next TakeDue
  std::uint64_t counted_ = 0;
};

}  // namespace lockd::audit
