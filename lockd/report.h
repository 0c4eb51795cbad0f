#pragma once
// Report: the one way the daemon tells of something that happened to it (a database loaded or
// refused, a start, a stop). One call, one event: the audit log records it and the journal gets
// exactly one line (the stderr sink's "lockd: event kind=..." at `level`), never a second
// plain log line saying the same.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lockd/decision_sink.h"
#include "lockd/log.h"

namespace lockd {

void Report(DecisionSink& sink, LogLevel level, DaemonEventKind kind, std::string message,
            std::uint64_t generation = 0,
            std::vector<std::pair<std::string, std::string>> fields = {});

}  // namespace lockd
