#include "lockd/stats.h"

namespace lockd {

void Stats::Count(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow:
      allowed.fetch_add(1, std::memory_order_relaxed);
      break;
    case Verdict::kDeny:
      denied.fetch_add(1, std::memory_order_relaxed);
      break;
    case Verdict::kWouldDeny:
      would_deny.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

void Stats::RecordDenial(const DecisionRecord& r) {
  DenialSummary s;
  s.time_unix_ns = r.time_unix_ns;
  s.verdict = r.verdict;
  s.reason = r.reason;
  s.pid = r.pid;
  s.exe = r.exe.substr(0, 4096);
  s.path = r.path.substr(0, 4096);
  s.digest = r.digest;
  std::lock_guard lock(mu_);
  recent_.push_back(std::move(s));
  while (recent_.size() > kRecentDenials) recent_.pop_front();
}

std::vector<DenialSummary> Stats::RecentDenials() const {
  std::lock_guard lock(mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace lockd
