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
    counters_.superblocks = 0;
    return;
  }
  ++counters_.flushes;
  counters_.standing = 0;
}

void KernelCache::UpdateSuperblocks(const std::vector<SuperblockState>& superblocks) {
  std::set<std::uint64_t> now;
  for (const auto& sb : superblocks) {
    if (SuperblockQualifies(sb, scope_)) now.insert(sb.dev);
  }
  std::lock_guard lock(mu_);
  if (broken_) return;
  bool lost = false;
  for (auto dev : qualifying_) {
    if (now.count(dev) == 0) lost = true;
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

bool KernelCache::Offer(int event_fd, std::uint64_t dev, std::uint64_t epoch) {
  if (!any_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load(std::memory_order_acquire)) return false;
  if (qualifying_.count(dev) == 0) return false;
  if (counters_.standing >= max_files_) return false;
  if (!kernel_.IgnoreFile(event_fd).ok()) {
    ++counters_.failures;
    return false;
  }
  ++counters_.files;
  ++counters_.standing;
  return true;
}

KernelCache::Counters KernelCache::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace lockd
