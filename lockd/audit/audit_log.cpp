#include "lockd/audit/audit_log.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "lockd/audit/tail.h"

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
    : options_(std::move(options)),
      file_(std::move(file)),
      syslog_(std::move(syslog)),
      repeats_(options_.repeats) {
  thread_ = std::thread([this] { Run(); });
}

AuditLog::~AuditLog() {
  FlushRepeats();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

Clock::time_point AuditLog::Now() const { return options_.now ? options_.now() : Clock::now(); }

AuditLog::Item AuditLog::ItemOf(Record record) {
  Item item{std::move(record), "", 0};
  if (item.record.type() == "deny" || item.record.type() == "would_deny") {
    item.counts_as = item.record.type();
    item.decisions = 1;
  }
  return item;
}

void AuditLog::LossTally::Add(const Item& item) {
  const Clock::time_point t = item.record.time();
  if (records == 0 || t < first) first = t;
  if (records == 0 || t > last) last = t;
  ++records;
  ++by_type[item.record.type()];
  if (item.counts_as == "deny") deny_decisions += item.decisions;
  if (item.counts_as == "would_deny") would_deny_decisions += item.decisions;
}

void AuditLog::LossTally::Merge(const LossTally& o) {
  if (o.records == 0) return;
  if (records == 0 || o.first < first) first = o.first;
  if (records == 0 || o.last > last) last = o.last;
  records += o.records;
  for (const auto& [type, n] : o.by_type) by_type[type] += n;
  deny_decisions += o.deny_decisions;
  would_deny_decisions += o.would_deny_decisions;
}

Record AuditLog::LossTally::ToRecord(std::string_view reason) const {
  Record lost("records_lost");
  lost.AddUint("count", records);
  lost.AddBytes("reason", reason);
  std::string types;
  for (const auto& [type, n] : by_type) {
    if (!types.empty()) types += ',';
    types += type + ":" + std::to_string(n);
  }
  lost.AddBytes("types", types);
  lost.AddUint("deny_decisions", deny_decisions);
  lost.AddUint("would_deny_decisions", would_deny_decisions);
  lost.AddBytes("first_time", FormatTime(first));
  lost.AddBytes("last_time", FormatTime(last));
  return lost;
}

bool AuditLog::PushLocked(Item item) {
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped;
    pending_drops_.Add(item);
    return false;
  }
  queue_.push_back(std::move(item));
  ++enqueued_;
  ++stats_.appended;
  return true;
}

bool AuditLog::Append(Record record) {
  bool ok;
  {
    std::lock_guard lock(mu_);
    ok = PushLocked(ItemOf(std::move(record)));
  }
  if (ok) wake_.notify_one();
  return ok;
}

bool AuditLog::AppendRepeatable(const RepeatOccurrence& occurrence,
                                const std::function<Record()>& make_record) {
  bool ok;
  {
    std::lock_guard lock(mu_);
    if (repeats_.Note(occurrence) == RepeatAggregator::Action::kCounted) {
      ++stats_.repeats_counted;
      return true;
    }
    ok = PushLocked(ItemOf(make_record()));
    // Only a full record that is in the queue starts counting repeats: after a drop the next
    // occurrence tries to be a full record again.
    if (ok) repeats_.Started(occurrence);
  }
  if (ok) wake_.notify_one();
  return ok;
}

void AuditLog::FlushRepeats() {
  std::lock_guard lock(mu_);
  for (RepeatAggregator::Due& d : repeats_.TakeAll()) {
    flushed_repeats_.push_back(std::move(d));
    ++enqueued_;  // Flush waits for them too
  }
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
  std::vector<Item> batch;
  while (true) {
    LossTally drops;
    LossTally write_losses;
    bool stopping;
    std::size_t queued = 0;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stop_ || !queue_.empty() || !flushed_repeats_.empty(); };
      while (!ready()) {
        const auto next = repeats_.NextDue();
        if (!next) {
          wake_.wait(lock);
          continue;
        }
        const auto now = Now();
        if (*next <= now) break;
        // Bounded so that a test clock (options.now) is looked at again.
        wake_.wait_for(lock, std::min<Clock::duration>(*next - now, std::chrono::seconds(1)));
      }
      stopping = stop_;
      for (Item& item : queue_) batch.push_back(std::move(item));
      queued = queue_.size();
      queue_.clear();
      // Repeats after the records queued before them (a key's full record always comes first).
      queued += flushed_repeats_.size();
      std::vector<RepeatAggregator::Due> repeats = std::move(flushed_repeats_);
      flushed_repeats_.clear();
      for (RepeatAggregator::Due& d : repeats_.TakeDue(Now())) repeats.push_back(std::move(d));
      stats_.repeat_records += repeats.size();
      for (RepeatAggregator::Due& d : repeats) {
        batch.push_back(Item{std::move(d.record), std::move(d.of), d.count});
      }
      drops = std::exchange(pending_drops_, LossTally{});
      write_losses = std::exchange(pending_write_losses_, LossTally{});
    }
    const std::size_t caller_records = batch.size();
    // Losses are recorded after the records queued before them.
    std::vector<Record> records;
    records.reserve(batch.size() + 2);
    for (const Item& item : batch) records.push_back(item.record);
    if (drops.records > 0) records.push_back(drops.ToRecord("queue_full"));
    if (write_losses.records > 0) records.push_back(write_losses.ToRecord("write_error"));
    std::vector<std::string> lines;
    std::size_t done = 0;
    std::string error;
    if (!records.empty()) {
      auto status = file_->Append(records, &lines, &done);
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
        const bool sent = syslog_->Send(SyslogSeverity(type), line);
        const auto seq = LineSeq(line);
        if (!seq) continue;
        if (!sent) {
          forwarding_broken_ = true;
        } else if (!forwarding_broken_ &&
                   (forwarded_through_ == 0 || *seq == forwarded_through_ + 1)) {
          if (forwarded_from_ == 0) forwarded_from_ = *seq;
          forwarded_through_ = *seq;
        } else if (!forwarding_broken_) {
          forwarding_broken_ = true;  // a line written but not seen here (another writer)
        }
      }
      file_->SetForwarded(forwarded_from_, forwarded_through_);
    }
    {
      std::lock_guard lock(mu_);
      stats_.written += lines.size();
      if (syslog_) stats_.syslog_failed = syslog_->failed();
      if (!error.empty()) {
        ++stats_.write_errors;
        stats_.last_error = error;
        // Records of this batch that were not written are lost and recorded as such; a
        // records_lost record not written is merged back, so the next batch still reports
        // that loss.
        for (std::size_t i = std::min(done, caller_records); i < caller_records; ++i) {
          pending_write_losses_.Add(batch[i]);
        }
        std::size_t index = caller_records;
        if (drops.records > 0 && done <= index++) pending_drops_.Merge(drops);
        if (write_losses.records > 0 && done <= index) pending_write_losses_.Merge(write_losses);
      }
      done_ += queued;
    }
    drained_.notify_all();
    batch.clear();
    if (stopping) {
      std::lock_guard lock(mu_);
      if (queue_.empty() && flushed_repeats_.empty()) return;  // later drops are only counted
    }
  }
}

}  // namespace lockd::audit
