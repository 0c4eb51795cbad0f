#include "lockd/supervisor_policy.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstring>

namespace lockd {

DeciderEnd ClassifyDeciderEnd(int wait_status, bool was_ready, bool stop_requested) {
  if (stop_requested) return DeciderEnd::kStopped;
  if (!was_ready && WIFEXITED(wait_status)) return DeciderEnd::kStartupFailed;
  return DeciderEnd::kCrashed;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    std::string s = "signal " + std::to_string(sig);
    if (const char* name = ::strsignal(sig); name != nullptr) s += std::string(" (") + name + ")";
    if (WCOREDUMP(wait_status)) s += ", core dumped";
    return s;
  }
  return "wait status " + std::to_string(wait_status);
}

int ExitCodeFor(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::optional<std::chrono::milliseconds> RestartPolicy::OnCrash(Clock::time_point now) {
  while (!recent_.empty() && now - recent_.front() >= options_.window) recent_.pop_front();
  recent_.push_back(now);
  const int k = static_cast<int>(recent_.size());
  if (k > options_.max_restarts) return std::nullopt;
  ++restarts_;
  if (k <= 1) return std::chrono::milliseconds(0);
  auto delay = options_.base_delay;
  for (int i = 2; i < k && delay < options_.max_delay; ++i) delay *= 2;
  return std::min(delay, options_.max_delay);
}

}  // namespace lockd
