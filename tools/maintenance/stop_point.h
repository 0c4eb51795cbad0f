#pragma once
// Test hook for crash-safety tests: when the environment variable LOCKCTL_TEST_STOP_AT names
// step, the process kills itself with SIGKILL right there, as a power cut or an `kill -9`
// would. The steps of `lockctl maintenance finish` are: "scanned", "built", "staged",
// "challenged" (challenge received, authorization not yet sent) and "sent" (lockd answered).
//
// Harmless in production: it only ever makes lockctl stop earlier, never skip a check or do
// anything it would not otherwise do; whoever can set lockctl's environment can kill it anyway.

#include <string_view>

namespace lockctl {

inline constexpr char kStopAtEnv[] = "LOCKCTL_TEST_STOP_AT";

// SIGKILLs the process when $LOCKCTL_TEST_STOP_AT equals step; otherwise returns.
void StopPoint(std::string_view step);

}  // namespace lockctl
