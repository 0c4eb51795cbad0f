#pragma once
// AuditLog: the daemon's audit log. Append() hands a record to a writer thread and returns at
// once; the thread writes batches through AuditFile (one write(2) per line, one fdatasync per
// batch) and then copies each written line to syslog.
//
// Never delays the caller: Append takes a mutex only long enough to push onto a bounded
// queue (the writer holds the same mutex only to swap the queue out, never during I/O). When
// the queue is full (the disk is stuck or slow, or a flood outruns it) the record is dropped
// and counted, and the writer records the loss as a `records_lost` record as soon as it can
// write again (reason "queue_full"; how many, of which types, how many denials they stood
// for, between which times); records lost to a write error are recorded the same way
// (reason "write_error"). So the kernel's answer never waits for the audit log, and a gap is
// always a record in the chain, never only a counter.
//
// Repeats: AppendRepeatable folds repeated denials into `repeat` records (RepeatAggregator):
// the first of a key is queued as usual, later ones are only counted, and the writer writes
// the counts once per window. A flood of one denied program thus stays a few lines a minute
// and never evicts the first denials.
//
// Forwarding: the writer tells its AuditFile which records reached the syslog daemon, so
// that a rotation which deletes records nobody took says so in the chain (AuditFile).
//
// Durability: a record is on disk once the batch holding it has been fdatasync'd; a kill -9
// loses the records still queued and at most tears the line being written (AuditFile
// repairs it on the next start).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/record.h"
#include "hashdb/result.h"
#include "lockd/audit/audit_file.h"
#include "lockd/audit/repeat_aggregator.h"
#include "lockd/audit/syslog_sink.h"

namespace lockd::audit {

struct AuditLogOptions {
  AuditFileOptions file;
  // Records waiting for the writer. 1024 records of at most a few KiB each bound the memory
  // at a few MiB even with hostile path names, while absorbing bursts of thousands of denials
  // per second (a batch is written in milliseconds).
  std::size_t queue_capacity = 1024;
  std::optional<SyslogOptions> syslog;  // nullopt: no syslog copy
  RepeatAggregator::Options repeats;    // window and key bound for repeated denials
  // The writer's clock (tests): when repeats fall due.
  std::function<Clock::time_point()> now;
};

// Counters, for `lockctl status` and tests.
struct AuditLogStats {
  std::uint64_t appended = 0;      // records accepted by Append
  std::uint64_t dropped = 0;       // records refused by Append because the queue was full
  std::uint64_t written = 0;       // lines written to the file (recovery records included)
  std::uint64_t write_errors = 0;  // failed batches
  std::uint64_t syslog_failed = 0;
  std::uint64_t repeats_counted = 0;  // denials folded into repeat records
  std::uint64_t repeat_records = 0;   // repeat records handed to the writer
  std::string last_error;             // the last write error, for the caller to log
};

class AuditLog {
 public:
  // Opens the log (AuditFile::Open, which also repairs a torn tail) and starts the writer
  // thread. Fails if the file cannot be opened: the caller decides whether to run without.
  static hashdb::Result<std::unique_ptr<AuditLog>> Start(AuditLogOptions options);

  // Stops: writes everything queued, then joins the writer thread.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues a record; returns false (and counts it) when the queue is full. Thread-safe,
  // never waits for I/O.
  bool Append(Record record);

  // A deny or would_deny record that may be a repeat: counted (true, nothing queued) when its
  // key was seen within the window, else queued like Append. The record is built only when
  // it is written in full.
  bool AppendRepeatable(const RepeatOccurrence& occurrence,
                        const std::function<Record()>& make_record);

  // Hands every pending repeat count to the writer now (before daemon_stop).
  void FlushRepeats();

  // Blocks until every record appended before the call has been written (or failed). For
  // orderly shutdown and tests; never call it on the kernel's answer path.
  void Flush();

  AuditLogStats stats() const;

 private:
  // A queued record and the decisions it stands for (for the loss accounting).
  struct Item {
    Record record;
    std::string counts_as;        // "deny", "would_deny" or "" (not a decision)
    std::uint64_t decisions = 0;  // 1 for a deny record, the count of a repeat record
  };
  // Records lost and not yet recorded as records_lost.
  struct LossTally {
    std::uint64_t records = 0;
    std::map<std::string, std::uint64_t> by_type;
    std::uint64_t deny_decisions = 0;
    std::uint64_t would_deny_decisions = 0;
    Clock::time_point first{}, last{};
    void Add(const Item& item);
    void Merge(const LossTally& other);
    Record ToRecord(std::string_view reason) const;
  };
  static Item ItemOf(Record record);

  AuditLog(AuditLogOptions options, std::unique_ptr<AuditFile> file,
           std::optional<SyslogSink> syslog);
  bool PushLocked(Item item);  // mu_ held
  void Run();
  Clock::time_point Now() const;

  const AuditLogOptions options_;
  std::unique_ptr<AuditFile> file_;   // writer thread only
  std::optional<SyslogSink> syslog_;  // writer thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;     // writer: work or stop
  std::condition_variable drained_;  // Flush: a batch finished
  std::deque<Item> queue_;
  RepeatAggregator repeats_;
  std::vector<RepeatAggregator::Due> flushed_repeats_;  // FlushRepeats: for the writer's next batch
  std::uint64_t enqueued_ = 0;                          // records ever queued, for Flush
  std::uint64_t done_ = 0;                              // ... of which handled by the writer
  LossTally pending_drops_;  // dropped since the last records_lost record
  LossTally pending_write_losses_;
  std::uint64_t forwarded_from_ = 0;  // writer thread: the seq range sent to syslog in order
  std::uint64_t forwarded_through_ = 0;
  bool forwarding_broken_ = false;  // a send failed: later records are not forwarded
  bool stop_ = false;
  AuditLogStats stats_;
  std::thread thread_;
};

}  // namespace lockd::audit
