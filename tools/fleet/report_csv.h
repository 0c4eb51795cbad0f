#pragma once
// The fleet report's CSV files (one table each; encoding as the export's, tools/export/csv.h:
// RFC 4180, CRLF, outsider bytes escaped readably with the exact bytes in a `_hex` column,
// formula guard). Columns: docs/compliance.md, "The fleet report".

#include <map>
#include <string>

#include "tools/fleet/aggregate.h"

namespace lockctl::fleet {

// File name -> content: terminals.csv, drift.csv, blocks_by_terminal.csv,
// blocks_by_digest.csv, sessions.csv, engineers.csv, failures.csv.
std::map<std::string, std::string> RenderFleetCsv(const FleetReport& report);

}  // namespace lockctl::fleet
