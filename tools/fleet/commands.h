#pragma once
// `lockctl fleet report`: one report over many terminals' export bundles, made offline
// (tools/fleet/; what it shows and its files: docs/compliance.md, "The fleet report").

#include <ostream>
#include <string>
#include <vector>

namespace lockctl {

struct FleetReportArgs {
  // Bundles (directories or .tar files) and directories of bundles. A directory holding
  // MANIFEST.sha256 is a bundle; any other directory is read one level deep: each
  // sub-directory and each *.tar file in it is a bundle (in name order).
  std::vector<std::string> inputs;
  std::string trust;     // required: anchors every bundle's signature must verify with
  std::string db_trust;  // optional: anchors the databases are checked with too
  std::string out;       // a new or empty directory for fleet-report.html and the CSV files
};

// Bundles are read and verified one at a time and reduced as they go (memory does not grow
// with the number of bundles, see tools/fleet/aggregate.h). Exit 0: the report is written and
// every bundle verified; 1: written, and some bundles failed verification (each named on err
// and in the report); 2: usage or I/O error (nothing written).
int RunFleetReport(const FleetReportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace lockctl
