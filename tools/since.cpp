#include "tools/since.h"

#include <chrono>
#include <cstdint>

namespace lockctl {

std::optional<lockd::audit::Clock::time_point> ParseSince(std::string_view text,
                                                          lockd::audit::Clock::time_point now) {
  if (auto t = lockd::audit::ParseTime(text)) return t;
  if (text.size() < 2 || text.size() > 10) return std::nullopt;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  std::uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  // n * unit < 10^9 * 86400 fits in 64 bits; compare in seconds before converting to the
  // clock's finer unit (which 10^9 days would overflow).
  const std::uint64_t ago = n * unit;
  const auto since_epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  if (since_epoch.count() <= 0 || ago >= static_cast<std::uint64_t>(since_epoch.count())) {
    return lockd::audit::Clock::time_point{};
  }
  return now - std::chrono::seconds(static_cast<std::int64_t>(ago));
}

}  // namespace lockctl
