#pragma once
// systemd's notification protocol without libsystemd: one datagram to $NOTIFY_SOCKET.

#include <chrono>
#include <optional>
#include <string>

#include "hashdb/result.h"

namespace lockd::os {

// Sends state (e.g. "READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET.
// Without the variable (not started by systemd) it does nothing and succeeds.
hashdb::Status SdNotify(const std::string& state);

// Half the watchdog interval from $WATCHDOG_USEC (when $WATCHDOG_PID is unset or ours), the
// period at which to send WATCHDOG=1; nullopt when no watchdog is configured.
std::optional<std::chrono::milliseconds> WatchdogPingInterval();

}  // namespace lockd::os
