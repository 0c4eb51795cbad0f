#pragma once
// Escaping of bytes from the outside (file paths, process names) for one-line logs and JSON.
// A path on Linux is any bytes but '\0' and may hold newlines, quotes, terminal escape
// sequences or invalid UTF-8; an attacker chooses it. Escaped output is printable ASCII only.

#include <string>
#include <string_view>

namespace lockd {

// For key="value" log fields: printable ASCII except '"' and '\' as is; '"' -> \", '\' -> \\,
// everything else -> \xNN. The result is never longer than 4x the input, and is cut at
// max_bytes of input (marked with "...").
std::string EscapeLogValue(std::string_view raw, std::size_t max_bytes = 4096);
// JSON strings: see audit/json_escape.h (one encoder for the whole project).

}  // namespace lockd
