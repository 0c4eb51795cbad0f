#pragma once
// The daemon's text configuration (/etc/lockd/lockd.toml): operational settings only. Nothing
// here can weaken enforcement: the mode and coverage come from the signed database's policy
// section. A file with an unknown key or a bad value is refused whole, naming file, line and
// reason, so a typo never silently falls back to a default.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"
#include "lockd/kernel_cache_scope.h"
#include "lockd/log.h"

namespace lockd {

inline constexpr char kDefaultConfigPath[] = "/etc/lockd/lockd.toml";

struct Config {
  std::string source = "(defaults)";  // file the settings came from, for messages
  std::string database = "/var/lib/lockd/allowlist.lockdb";
  std::string trust_dir = "/etc/lockd/trust";
  // Holds lockd's own state, such as the highest database generation accepted.
  std::string state_dir = "/var/lib/lockd";
  std::string control_socket = "/run/lockd/control.sock";
  // Threads that hash and decide; 0 means one per CPU, at least 2.
  unsigned workers = 0;
  LogLevel log_level = LogLevel::kInfo;
  // When set, the filesystems of these paths, and of every mount at or below them (including
  // ones mounted later), are marked. When unset, the signed policy's watch is used. With the
  // database in enforce mode a set list must be the same as or wider than the signed one, or
  // lockd does not start (lockd/watch_policy.h): this file can never narrow enforcement.
  std::optional<std::vector<std::string>> watch;
  // The hash-chained audit log (docs/audit-log.md). Always written: it is the auditor's record.
  std::string audit_log = "/var/log/lockd/audit.jsonl";
  // Syslog facility for the copy of every audit record sent to the local syslog socket
  // (/dev/log, journald or rsyslog) for fleets that forward logs to a SIEM; "none": no copy.
  std::string syslog_facility = "authpriv";
  // Updater programs (absolute paths) whose writes during a maintenance window are learned as
  // "updater" when the program's own digest is in the database in force: `lockctl maintenance
  // finish --updater-only` accepts those without a full rescan.
  std::vector<std::string> trusted_updaters;
  // What `lockctl maintenance finish` rescans (absolute paths), and fnmatch(3) patterns of
  // trees it skips (hashdb::PathExcluded: "/run" is the whole /run tree). The default root is
  // installer/install.sh's baseline of a whole system; the default excludes leave out the
  // pseudo filesystems and every tree an ordinary user can write to (/home, /tmp, /var/tmp,
  // /dev/shm, /run/user: the last two lie in /dev and /run and are named so that they stay out
  // if those are dropped): nothing found there is learned into the allowlist.
  std::vector<std::string> baseline_roots{"/"};
  std::vector<std::string> baseline_excludes{"/proc", "/sys",     "/dev",     "/run",     "/home",
                                             "/tmp",  "/var/tmp", "/dev/shm", "/run/user"};

  // Which superblocks' allowlisted files lockd leaves to the kernel after their first allow
  // (lockd/kernel_cache.h): "read-only" every read-only local-storage superblock (default),
  // "immutable" only filesystem types that cannot be written at all (squashfs, erofs, ...),
  // "off" none.
  KernelCacheScope kernel_cache = KernelCacheScope::kReadOnly;

  unsigned EffectiveWorkers() const;
};

// Parses TOML text; source_name is used in messages ("lockd.toml:7: ...").
hashdb::Result<Config> ParseConfig(std::string_view text, const std::string& source_name);
// Reads and parses a file (at most 1 MiB).
hashdb::Result<Config> LoadConfig(const std::string& path);

}  // namespace lockd
