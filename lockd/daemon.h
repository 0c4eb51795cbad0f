#pragma once
// The daemon's life: startup as one ordered list of steps, the event loop, teardown steps that
// always run. main.cpp only parses the command line and calls RunDaemon.
//
// Startup: config -> signals -> load and verify the database (no valid database: log why,
// exit non-zero, never pretend to enforce) -> fanotify group -> decider and workers -> marks
// on every selected filesystem -> control socket -> READY=1 -> event loop.
// Teardown (in reverse, always): STOPPING=1 -> control socket closed -> marks removed ->
// events already queued answered -> workers drained -> group closed.

#include <memory>
#include <string>

namespace lockd {

class DecisionSink;

struct DaemonOptions {
  std::string config_path;
  // Extra sink next to stderr (the audit log, issue 6). May be null.
  std::shared_ptr<DecisionSink> extra_sink;
};

// Returns the process exit status: 0 after a clean stop, 1 when startup failed.
int RunDaemon(const DaemonOptions& options);

}  // namespace lockd
