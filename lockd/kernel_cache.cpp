#include "lockd/kernel_cache.h"

namespace lockd {

KernelCache::KernelCache(os::EventKernel& kernel, KernelCacheScope scope, std::size_t max_files)
    : kernel_(kernel), scope_(scope), max_files_(max_files) {
  std::lock_guard lock(mu_);
  FlushLocked();
  counters_.flushes = 0;
}

void KernelCache::FlushLocked() {
  // Without a flush the marks would outlive the reason they were placed for: count a failure
  // and never place another one (broken_: nothing qualifies from now on).
  if (!kernel_.ForgetIgnoredFiles().ok()) {
    ++counters_.failures;
    broken_ = true;
    qualifying_.clear();
    any_.store(false, std::memory_order_release);
    // Watched files keep their marks (the flush failed) and are still answered by OnOpen only
    // while no writer exists; a writer removes the mark one by one.
    counters_.superblocks = 0;
    return;
  }
  ++counters_.flushes;
  counters_.standing = 0;
  watched_.clear();
  any_watched_.store(false, std::memory_order_release);
}

void KernelCache::UpdateSuperblocks(const std::vector<SuperblockState>& superblocks) {
  std::map<std::uint64_t, bool> now;
  for (const auto& sb : superblocks) {
    if (SuperblockQualifies(sb, scope_)) now[sb.dev] = ImmutableFilesystemType(sb.fs_type);
  }
  std::lock_guard lock(mu_);
  if (broken_) return;
  bool lost = false;
  for (const auto& [dev, immutable] : qualifying_) {
    auto it = now.find(dev);
    if (it == now.end() || it->second != immutable) lost = true;
  }
  // Stop offering first (under the lock Offer takes), then remove what stands.
  qualifying_ = std::move(now);
  any_.store(!qualifying_.empty(), std::memory_order_release);
  counters_.superblocks = qualifying_.size();
  if (lost && counters_.standing > 0) FlushLocked();
}

void KernelCache::OnDatabaseSwap() {
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  if (counters_.standing > 0) FlushLocked();
}

bool KernelCache::Qualifies(std::uint64_t dev) const {
  if (!any_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  return qualifying_.count(dev) != 0;
}

bool KernelCache::Offer(int event_fd, const FileFacts& version, std::uint64_t epoch) {
  if (!any_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load(std::memory_order_acquire)) return false;
  auto sb = qualifying_.find(version.dev);
  if (sb == qualifying_.end()) return false;
  if (counters_.standing >= max_files_) return false;
  const bool immutable = sb->second;
  const std::pair<std::uint64_t, std::uint64_t> key{version.dev, version.ino};
  // Watched before the mark exists: a writer's open handled on the loop from now on removes it.
  if (!immutable) {
    watched_[key] = version;
    any_watched_.store(true, std::memory_order_release);
  }
  if (!kernel_.IgnoreFile(event_fd, immutable).ok()) {
    ++counters_.failures;
    if (!immutable) watched_.erase(key);
    return false;
  }
  ++counters_.files;
  ++counters_.standing;
  // A writer that opened before the watch began raised its open's event earlier, unseen: ask
  // the kernel now, and take the mark back if anyone holds the file open for writing.
  if (!immutable && kernel_.ProbeWriters(event_fd) != WriterState::kNone) {
    (void)kernel_.UnignoreFile(event_fd);
    watched_.erase(key);
    ++counters_.unwatched;
    return false;
  }
  return true;
}

KernelCache::OpenVerdict KernelCache::OnOpen(int event_fd, const FileFacts& now) {
  if (!any_watched_.load(std::memory_order_acquire)) return OpenVerdict::kNotWatched;
  std::lock_guard lock(mu_);
  auto it = watched_.find({now.dev, now.ino});
  if (it == watched_.end()) return OpenVerdict::kNotWatched;
  if (it->second.SameVersion(now) && kernel_.ProbeWriters(event_fd) == WriterState::kNone) {
    return OpenVerdict::kAllow;
  }
  // A writer (counted by the kernel before this open's event), or a changed version: the mark
  // goes before the open is answered. If the kernel refuses, every mark goes.
  if (!kernel_.UnignoreFile(event_fd).ok()) {
    FlushLocked();
    if (broken_) return OpenVerdict::kDeny;
  }
  watched_.erase(it);
  if (watched_.empty()) any_watched_.store(false, std::memory_order_release);
  ++counters_.unwatched;
  return OpenVerdict::kJudge;
}

KernelCache::Counters KernelCache::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace lockd
