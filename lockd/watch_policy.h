#pragma once
// Where lockd enforces: the signed policy's `watch`, and what lockd.toml may add to it. Pure
// (tested without root in tests/lockd/watch_policy_test.cpp); the daemon checks at start that
// every chosen path exists and is canonical on disk.
//
// Rule (issue 12 item 9): an unsigned file can never narrow enforcement.
//  - lockd.toml without `watch`: the signed policy's watch (empty: every local filesystem).
//  - lockd.toml with `watch`, database in enforce mode: accepted only when it is the same as or
//    wider than the signed watch, that is when the signed watch is not empty and every signed
//    path is at or below one of lockd.toml's paths (component-wise). Then lockd.toml's list is
//    used: it covers every filesystem the signed one covers (the filesystem holding a signed
//    path is either mounted at or below a lockd.toml path or holds that path too). A signed
//    watch that is empty (every local filesystem) cannot be widened: any lockd.toml `watch` is
//    refused. Refused means lockd does not start, naming the file and the key: loud, never
//    a quiet narrowing.
//  - database in audit mode: nothing is denied, so lockd.toml's watch is used as given (it can
//    only narrow what is reported, never what is enforced).

#include <optional>
#include <string>
#include <vector>

#include "hashdb/policy.h"
#include "hashdb/result.h"
#include "lockd/mount_selection.h"

namespace lockd {

struct WatchChoice {
  WatchList watch;     // nullopt: every local filesystem
  std::string source;  // "signed policy" or the config file's path, for messages
};

// The watch list lockd marks, or an error "<config_source>: watch: ..." explaining why the
// config's list is refused. `config_watch` is Config::watch (nullopt when the key is absent).
hashdb::Result<WatchChoice> ChooseWatch(const hashdb::Policy& policy,
                                        const std::optional<std::vector<std::string>>& config_watch,
                                        const std::string& config_source);

// Human-readable list: "every local filesystem" or the paths separated by ", ".
std::string DescribeWatch(const WatchList& watch);

}  // namespace lockd
