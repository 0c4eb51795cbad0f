#pragma once
// `lockctl db install FILE --token ...`: the golden-image flow's last step on the terminal. The
// file (built and signed on a workstation with `lockctl db build ... --token`) is verified
// against this terminal's trust dir before the token is even asked for, copied to a root-only
// staging path (lockd must read the bytes that were authorized), and installed by lockd with
// an authorization for act db_install bound to the file's SHA-256.

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/commands.h"
#include "tools/control_client.h"
#include "tools/token/token_options.h"

namespace lockctl {

// Databases larger than this are refused unread (a 1M-entry database is about 100 MB).
inline constexpr std::uint64_t kMaxInstallSize = 2ull << 30;

int RunDbInstall(const std::string& file, const TerminalOptions& terminal,
                 const TokenOptions& token, std::ostream& out, std::ostream& err);

}  // namespace lockctl
