#pragma once
// AuditLog: the daemon's audit log. Append() hands a record to a writer thread and returns at
// once; the thread writes batches through AuditFile (one write(2) per line, one fdatasync per
// batch) and then copies each written line to syslog.
//
// Never delays the caller: Append takes a mutex only long enough to push onto a bounded
// queue (the writer holds the same mutex only to swap the queue out, never during I/O). When
// the queue is full (the disk is stuck or slow, or a flood outruns it) the record is dropped
// and counted, and the writer records the loss as a `records_lost` record (count, reason
// "queue_full") as soon as it can write again; records lost to a write error are counted the
// same way (reason "write_error"). So the kernel's answer never waits for the audit log, and
// a gap is always visible in the log itself.
//
// Durability: a record is on disk once the batch holding it has been fdatasync'd; a kill -9
// loses the records still queued and at most tears the line being written (AuditFile
// repairs it on the next start).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "audit/record.h"
#include "hashdb/result.h"
#include "lockd/audit/audit_file.h"
#include "lockd/audit/syslog_sink.h"

namespace lockd::audit {

struct AuditLogOptions {
  AuditFileOptions file;
  // Records waiting for the writer. 1024 records of at most a few KiB each bound the memory
  // at a few MiB even with hostile path names, while absorbing bursts of thousands of denials
  // per second (a batch is written in milliseconds).
  std::size_t queue_capacity = 1024;
  std::optional<SyslogOptions> syslog;  // nullopt: no syslog copy
};

// Counters, for `lockctl status` and tests.
struct AuditLogStats {
  std::uint64_t appended = 0;      // records accepted by Append
  std::uint64_t dropped = 0;       // records refused by Append because the queue was full
  std::uint64_t written = 0;       // lines written to the file (recovery records included)
  std::uint64_t write_errors = 0;  // failed batches
  std::uint64_t syslog_failed = 0;
  std::string last_error;  // the last write error, for the caller to log
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

  // Blocks until every record appended before the call has been written (or failed). For
  // orderly shutdown and tests; never call it on the kernel's answer path.
  void Flush();

  AuditLogStats stats() const;

 private:
  AuditLog(AuditLogOptions options, std::unique_ptr<AuditFile> file,
           std::optional<SyslogSink> syslog);
  void Run();

  const AuditLogOptions options_;
  std::unique_ptr<AuditFile> file_;   // writer thread only
  std::optional<SyslogSink> syslog_;  // writer thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;     // writer: work or stop
  std::condition_variable drained_;  // Flush: a batch finished
  std::deque<Record> queue_;
  std::uint64_t enqueued_ = 0;       // records ever queued, for Flush
  std::uint64_t done_ = 0;           // ... of which handled by the writer
  std::uint64_t pending_drops_ = 0;  // dropped since the last records_lost record
  std::uint64_t pending_write_losses_ = 0;
  bool stop_ = false;
  AuditLogStats stats_;
  std::thread thread_;
};

}  // namespace lockd::audit
