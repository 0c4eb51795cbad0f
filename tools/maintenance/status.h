#pragma once
// lockd's answer to `maintenance-status --json`, as lockctl maintenance finish needs it: is a
// window open, where is the list of files learned during it, which roots the baseline scans,
// and which database is in force.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockctl {

struct MaintenanceStatus {
  std::string state;  // "active" while a window is open
  std::string session;
  std::uint64_t learned_count = 0;      // lines by the session or the updater
  std::uint64_t not_learned_count = 0;  // lines by other processes
  std::uint64_t learned_dropped = 0;    // events lockd could not queue (the list is incomplete)
  std::string learned_list;  // path of the learned-files list (root-only, lockd writes it)
  std::vector<std::string> baseline_roots;
  std::vector<std::string> baseline_excludes;
  std::string database_path;  // the database in force
  std::uint64_t generation = 0;

  bool active() const { return state == "active"; }
};

// Parses the JSON text (source_name for errors). Missing members needed by finish are errors
// naming the member.
hashdb::Result<MaintenanceStatus> ParseMaintenanceStatus(std::string_view json,
                                                         const std::string& source_name);

}  // namespace lockctl
