#include "lockd/decision_cache.h"

namespace lockd {

DecisionCache::DecisionCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

std::uint64_t DecisionCache::Begin() {
  std::lock_guard lock(mu_);
  return seq_;
}

std::optional<CachedJudgement> DecisionCache::Lookup(const FileFacts& now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(Key{now.dev, now.ino});
  if (it == entries_.end()) {
    ++misses_;
    return std::nullopt;
  }
  if (!it->second.facts.SameVersion(now)) {
    entries_.erase(it);
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  return it->second;
}

bool DecisionCache::InvalidatedSinceLocked(const Key& key, std::uint64_t ticket) const {
  if (ticket <= floor_) return true;
  auto it = tombstones_.find(key);
  return it != tombstones_.end() && it->second >= ticket;
}

bool DecisionCache::InvalidatedSince(std::uint64_t dev, std::uint64_t ino, std::uint64_t ticket) {
  std::lock_guard lock(mu_);
  return InvalidatedSinceLocked(Key{dev, ino}, ticket);
}

bool DecisionCache::Insert(const CachedJudgement& judgement, std::uint64_t ticket) {
  if (judgement.reason != Reason::kAllowlisted && judgement.reason != Reason::kNotInAllowlist) {
    return false;
  }
  std::lock_guard lock(mu_);
  const Key key{judgement.facts.dev, judgement.facts.ino};
  if (InvalidatedSinceLocked(key, ticket)) return false;
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    // Evict an arbitrary entry: the cost of a wrong eviction is one re-hash.
    entries_.erase(entries_.begin());
  }
  entries_[key] = judgement;
  return true;
}

void DecisionCache::Invalidate(std::uint64_t dev, std::uint64_t ino) {
  std::lock_guard lock(mu_);
  const Key key{dev, ino};
  entries_.erase(key);
  const std::uint64_t seq = seq_++;
  if (tombstones_.size() >= kMaxTombstones && tombstones_.find(key) == tombstones_.end()) {
    // Forget individual tombstones; every judgement that started before now is refused.
    tombstones_.clear();
    floor_ = seq;
  } else {
    tombstones_[key] = seq;
  }
}

void DecisionCache::Clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  // Judgements in flight were made against the old database: refuse their inserts too.
  tombstones_.clear();
  floor_ = seq_++;
}

void DecisionCache::ForgetDevice(std::uint64_t dev) {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [dev](const auto& kv) { return kv.first.dev == dev; });
  // A judgement in flight for a file of that device is refused too.
  floor_ = seq_++;
}

std::size_t DecisionCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}
std::uint64_t DecisionCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}
std::uint64_t DecisionCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace lockd
