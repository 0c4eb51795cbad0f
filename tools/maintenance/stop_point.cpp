#include "tools/maintenance/stop_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lockctl {

void StopPoint(std::string_view step) {
  const char* at = std::getenv(kStopAtEnv);
  if (at == nullptr || step != at) return;
  static constexpr char kMessage[] = "lockctl: LOCKCTL_TEST_STOP_AT: killing myself at step ";
  // Best effort, async-signal-safe output so the test sees where it stopped.
  (void)!::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)!::write(STDERR_FILENO, step.data(), step.size());
  (void)!::write(STDERR_FILENO, "\n", 1);
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);
}

}  // namespace lockctl
