#include "lockd/audit/repeat_aggregator.h"

#include <algorithm>

namespace lockd::audit {

std::string RepeatAggregator::Key(const RepeatOccurrence& o) {
  // Every part but the last is free of NUL bytes (our own names, a number, hex), so the
  // NUL-separated concatenation with the raw path last is unique.
  std::string key = o.type;
  key.push_back('\0');
  key += o.reason;
  key.push_back('\0');
  key += o.mode;
  key.push_back('\0');
  key += std::to_string(o.uid);
  key.push_back('\0');
  key += o.digest ? hashdb::ToHex(*o.digest) : std::string("-");
  key.push_back('\0');
  key += o.path;
  return key;
}

RepeatAggregator::Due RepeatAggregator::MakeRecord(const RepeatOccurrence& last,
                                                   std::uint64_t count, Clock::time_point first) {
  Record r("repeat");
  r.set_time(last.time);
  r.AddBytes("of", last.type);
  r.AddUint("count", count);
  r.AddBytes("first_time", FormatTime(first));
  r.AddBytes("last_time", FormatTime(last.time));
  r.AddBytes("reason", last.reason);
  r.AddBytes("mode", last.mode);
  r.AddInt("uid", last.uid);
  r.AddBytes("path", last.path);
  if (last.digest) r.AddDigest("sha256", *last.digest);
  r.AddInt("last_pid", last.pid);
  r.AddBytes("exe", last.exe);
  return Due{std::move(r), last.type, count};
}

void RepeatAggregator::Touch(Entry& entry, const std::string& key) {
  lru_.erase(entry.order);
  entry.order = lru_.insert(lru_.end(), key);
}

RepeatAggregator::Action RepeatAggregator::Note(const RepeatOccurrence& o) {
  const std::string key = Key(o);
  auto it = entries_.find(key);
  if (it == entries_.end()) return Action::kWrite;
  Entry& e = it->second;
  if (e.count == 0) e.first = o.time;
  ++e.count;
  ++counted_;
  e.last.time = o.time;
  e.last.pid = o.pid;
  e.last.exe = o.exe;
  Touch(e, key);
  return Action::kCounted;
}

void RepeatAggregator::Started(const RepeatOccurrence& o) {
  std::string key = Key(o);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    // Raced with another writer of the same key: the full record stands for this one.
    it->second.last_write = o.time;
    Touch(it->second, key);
    return;
  }
  if (options_.max_keys > 0 && entries_.size() >= options_.max_keys && !lru_.empty()) {
    // Push out the key seen least recently; its pending count is reported, never lost.
    auto old = entries_.find(lru_.front());
    if (old->second.count > 0) {
      evicted_.push_back(MakeRecord(old->second.last, old->second.count, old->second.first));
    }
    lru_.pop_front();
    entries_.erase(old);
  }
  Entry e;
  e.last = o;
  e.last_write = o.time;
  e.order = lru_.insert(lru_.end(), key);
  entries_.emplace(std::move(key), std::move(e));
}

std::vector<RepeatAggregator::Due> RepeatAggregator::TakeDue(Clock::time_point now) {
  std::vector<Due> due = std::move(evicted_);
  evicted_.clear();
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    // A clock that went back makes everything due rather than nothing.
    if (e.count > 0 && (now - e.first >= options_.window || now < e.first)) {
      due.push_back(MakeRecord(e.last, e.count, e.first));
      e.count = 0;
      e.last_write = now;
    } else if (e.count == 0 && (now - std::max(e.last.time, e.last_write) >= options_.window ||
                                now < e.last_write)) {
      lru_.erase(e.order);
      it = entries_.erase(it);
      continue;
    }
    ++it;
  }
  return due;
}

std::vector<RepeatAggregator::Due> RepeatAggregator::TakeAll() {
  std::vector<Due> all = std::move(evicted_);
  evicted_.clear();
  for (auto& [key, e] : entries_) {
    if (e.count == 0) continue;
    all.push_back(MakeRecord(e.last, e.count, e.first));
    e.count = 0;
  }
  return all;
}

std::optional<Clock::time_point> RepeatAggregator::NextDue() const {
  if (!evicted_.empty()) return Clock::time_point::min();
  std::optional<Clock::time_point> next;
  for (const auto& [key, e] : entries_) {
    const Clock::time_point at = e.count > 0
                                     ? e.first + options_.window
                                     : std::max(e.last.time, e.last_write) + options_.window;
    if (!next || at < *next) next = at;
  }
  return next;
}

}  // namespace lockd::audit
