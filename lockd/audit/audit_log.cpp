#include "lockd/audit/audit_log.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace lockd::audit {

hashdb::Result<std::unique_ptr<AuditLog>> AuditLog::Start(AuditLogOptions options) {
  auto file = AuditFile::Open(options.file);
  if (!file) return file.error();
  std::optional<SyslogSink> syslog;
  if (options.syslog) {
    auto sink = SyslogSink::Create(*options.syslog);
    if (!sink) return sink.error();
    syslog.emplace(std::move(*sink));
  }
  if (options.queue_capacity == 0) options.queue_capacity = 1;
  return std::unique_ptr<AuditLog>(
      new AuditLog(std::move(options), std::move(*file), std::move(syslog)));
}

AuditLog::AuditLog(AuditLogOptions options, std::unique_ptr<AuditFile> file,
                   std::optional<SyslogSink> syslog)
    : options_(std::move(options)), file_(std::move(file)), syslog_(std::move(syslog)) {
  thread_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool AuditLog::Append(Record record) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.queue_capacity) {
      ++stats_.dropped;
      ++pending_drops_;
      return false;
    }
    queue_.push_back(std::move(record));
    ++enqueued_;
    ++stats_.appended;
  }
  wake_.notify_one();
  return true;
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = enqueued_;
  wake_.notify_one();
  drained_.wait(lock, [&] { return done_ >= target; });
}

AuditLogStats AuditLog::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void AuditLog::Run() {
  std::vector<Record> batch;
  while (true) {
    std::uint64_t drops = 0;
    std::uint64_t write_losses = 0;
    bool stopping;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      stopping = stop_;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      drops = std::exchange(pending_drops_, 0);
      write_losses = std::exchange(pending_write_losses_, 0);
    }
    const std::size_t caller_records = batch.size();
    // Losses are recorded after the records queued before them.
    if (drops > 0) {
      Record lost("records_lost");
      lost.AddUint("count", drops);
      lost.AddBytes("reason", "queue_full");
      batch.push_back(std::move(lost));
    }
    if (write_losses > 0) {
      Record lost("records_lost");
      lost.AddUint("count", write_losses);
      lost.AddBytes("reason", "write_error");
      batch.push_back(std::move(lost));
    }
    std::vector<std::string> lines;
    std::size_t done = 0;
    std::string error;
    if (!batch.empty()) {
      auto status = file_->Append(batch, &lines, &done);
      if (!status) error = status.error().message;
    }
    if (syslog_) {
      for (const std::string& line : lines) {
        // The type is the third member of every line: {"seq":N,"time":"...","type":"X"
        const auto t = line.find("\"type\":\"");
        const auto e = t == std::string::npos ? t : line.find('"', t + 8);
        const std::string_view type = e == std::string::npos
                                          ? std::string_view()
                                          : std::string_view(line).substr(t + 8, e - t - 8);
        syslog_->Send(SyslogSeverity(type), line);
      }
    }
    {
      std::lock_guard lock(mu_);
      stats_.written += lines.size();
      if (syslog_) stats_.syslog_failed = syslog_->failed();
      if (!error.empty()) {
        ++stats_.write_errors;
        stats_.last_error = error;
        // Records of this batch that were not written are lost: the caller's count as
        // write losses; a records_lost record not written is counted again, so the next batch
        // still reports that loss.
        pending_write_losses_ += caller_records - std::min(done, caller_records);
        std::size_t index = caller_records;
        if (drops > 0 && done <= index++) pending_drops_ += drops;
        if (write_losses > 0 && done <= index) pending_write_losses_ += write_losses;
      }
      done_ += caller_records;
    }
    drained_.notify_all();
    batch.clear();
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return;  // drops noted after this point are only counted
    }
  }
}

}  // namespace lockd::audit
