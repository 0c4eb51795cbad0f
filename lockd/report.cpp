#include "lockd/report.h"

namespace lockd {

void Report(DecisionSink& sink, LogLevel level, DaemonEventKind kind, std::string message,
            std::uint64_t generation, std::vector<std::pair<std::string, std::string>> fields) {
  DaemonEvent event(NowUnixNs(), kind, std::move(message), generation, std::move(fields));
  event.level = level;
  sink.OnDaemonEvent(event);
}

}  // namespace lockd
