#include "lockd/watch_policy.h"

#include <algorithm>

#include "lockd/os/mountinfo.h"

namespace lockd {

std::string DescribeWatch(const WatchList& watch) {
  if (!watch) return "every local filesystem";
  std::string out;
  for (const auto& w : *watch) out += (out.empty() ? "" : ", ") + w;
  return out;
}

hashdb::Result<WatchChoice> ChooseWatch(const hashdb::Policy& policy,
                                        const std::optional<std::vector<std::string>>& config_watch,
                                        const std::string& config_source) {
  WatchList signed_watch;
  if (!policy.watch.empty()) signed_watch = policy.watch;
  if (!config_watch) return WatchChoice{signed_watch, "signed policy"};
  if (policy.mode == hashdb::Mode::kAudit) return WatchChoice{config_watch, config_source};

  auto refuse = [&](const std::string& why) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kInvalidArgument,
        config_source + ": watch: " + why +
            " (the database is in enforce mode; lockd.toml may only widen "
            "the signed policy's watch: remove the key to use the signed one)");
  };
  if (!signed_watch) {
    return refuse("[" + DescribeWatch(config_watch) +
                  "] would narrow the signed policy's watch, which is every local filesystem");
  }
  for (const auto& s : *signed_watch) {
    const bool covered =
        std::any_of(config_watch->begin(), config_watch->end(),
                    [&](const std::string& c) { return os::PathIsAtOrBelow(s, c); });
    if (!covered) {
      return refuse("[" + DescribeWatch(config_watch) + "] does not cover the signed watch path " +
                    s);
    }
  }
  return WatchChoice{config_watch, config_source};
}

}  // namespace lockd
