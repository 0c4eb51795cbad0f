#pragma once
// Output helpers for lockctl: paths and other outsider-chosen bytes printed safely, as text
// lines or as JSON. A path may hold newlines, terminal escape sequences or invalid UTF-8.
//
// JSON strings follow the audit log's rules (docs/audit-log.md, "Strings";
// audit/json_escape.h): valid UTF-8 is kept readable, every control character is escaped,
// and a value that is not valid UTF-8 has its bad bytes replaced by U+FFFD and is accompanied
// by a `<key>_hex` member holding the exact bytes in hex. So `"path"` is for reading and
// `"path_hex"`, when present, is the truth.

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/json_escape.h"
#include "hashdb/digest.h"

namespace lockctl {

// For one-line text output: printable ASCII as is, except '\' -> "\\"; every other byte (control
// characters, newlines, DEL, bytes >= 0x80) -> "\xNN". Unambiguous and terminal-safe.
std::string EscapeText(std::string_view raw);

// JSON strings: the project's one writer (audit/json_escape.h), named here for lockctl's code.
// JsonString: a JSON string literal with quotes (see above; bad bytes become U+FFFD).
// JsonBytesMember: `"key":"value"` and, when value is not valid UTF-8, `,"key_hex":"..."`.
using lockd::audit::JsonBytesMember;
using lockd::audit::JsonString;

// "1.23 GB", "456.0 MB", "12 B" (decimal units, as disk and throughput figures usually are).
std::string HumanBytes(double bytes);

// "2026-11-27T16:04:13Z"
std::string IsoTimeUtc(std::int64_t unix_seconds);

}  // namespace lockctl
