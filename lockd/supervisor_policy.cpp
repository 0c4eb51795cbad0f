#include "lockd/supervisor_policy.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstring>

#include "audit/json_escape.h"
#include "lockd/decision_sink.h"
#include "lockd/text_escape.h"

namespace lockd {

DeciderEnd ClassifyDeciderEnd(int wait_status, bool was_ready, bool stop_requested,
                              bool ever_ready) {
  if (stop_requested) return DeciderEnd::kStopped;
  if (!was_ready && !ever_ready && WIFEXITED(wait_status)) return DeciderEnd::kStartupFailed;
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

std::chrono::milliseconds RestartPolicy::OnCrash(Clock::time_point now) {
  while (!recent_.empty() && now - recent_.front() >= options_.window) recent_.pop_front();
  recent_.push_back(now);
  const int k = static_cast<int>(recent_.size());
  ++restarts_;
  if (k > options_.max_restarts) return options_.max_delay;
  if (k <= 1) return std::chrono::milliseconds(0);
  auto delay = options_.base_delay;
  for (int i = 2; i < k && delay < options_.max_delay; ++i) delay *= 2;
  return std::min(delay, options_.max_delay);
}

std::string RenderDownStatus(const DownStatus& s, bool json) {
  const std::int64_t down_s =
      std::max<std::int64_t>(0, (s.now_unix_ns - s.down_since_unix_ns) / 1000000000);
  if (json) {
    std::string out = "{\"state\":\"decider-down\"";
    auto num = [&](const char* k, std::int64_t v) {
      out += ",\"" + std::string(k) + "\":" + std::to_string(v);
    };
    auto str = [&](const char* k, const std::string& v) {
      out += ",\"" + std::string(k) + "\":";
      audit::AppendJsonString(out, v);
    };
    num("supervisor_pid", s.supervisor_pid);
    num("last_decider_pid", s.last_decider_pid);
    str("how_ended", s.how_ended);
    str("failure", s.failure);
    str("down_since", FormatTimeUtc(s.down_since_unix_ns));
    num("down_seconds", down_s);
    num("decider_restarts", s.restarts);
    out += std::string(",\"crash_loop\":") + (s.crash_loop ? "true" : "false");
    num("next_restart_ms", s.next_restart_ms);
    num("denied_while_down", static_cast<std::int64_t>(s.denied_while_down));
    return out + "}\n";
  }
  std::string out =
      "state: DECIDER DOWN: every exec and checked open on the marked filesystems "
      "is denied until a decider runs again\n";
  out += "supervisor: " + std::to_string(s.supervisor_pid) + "\n";
  out += "last decider: " + std::to_string(s.last_decider_pid) + " (" + s.how_ended + ")\n";
  if (!s.failure.empty()) out += "its last words: " + EscapeLogValue(s.failure) + "\n";
  out += "down since: " + FormatTimeUtc(s.down_since_unix_ns) + " (" + std::to_string(down_s) +
         " s)\n";
  out += "decider restarts: " + std::to_string(s.restarts) +
         (s.crash_loop ? " (crash loop: retrying every " : " (next attempt in ") +
         std::to_string(s.next_restart_ms) + " ms)\n";
  out += "denied while down: " + std::to_string(s.denied_while_down) + "\n";
  return out;
}

}  // namespace lockd
