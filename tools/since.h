#pragma once
// `--since TIME` of `lockctl log show` and `lockctl export`: one parser, so both commands take
// the same forms.

#include <optional>
#include <string_view>

#include "audit/record.h"

namespace lockctl {

// What --since accepts, for error messages and help.
inline constexpr const char* kSinceForms =
    "an RFC 3339 UTC time (2026-11-27T08:00:00Z), a date (2026-11-27) or a duration ago (30s, "
    "15m, 12h, 7d)";

// The point in time text names: an RFC 3339 UTC time or a date as the audit log writes them
// (audit/record.h ParseTime), or a duration before now: 1 to 9 decimal digits and a unit,
// s (seconds), m (minutes), h (hours) or d (days). A duration reaching before 1970 gives
// 1970-01-01 (everything). nullopt for anything else.
std::optional<lockd::audit::Clock::time_point> ParseSince(std::string_view text,
                                                          lockd::audit::Clock::time_point now);

}  // namespace lockctl
