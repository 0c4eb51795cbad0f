#pragma once
// fleet-report.html: one self-contained page for the auditor, like the export's report.html
// (tools/export/report.h): no JavaScript, no loads from anywhere, a Content-Security-Policy of
// default-src 'none', every string from a bundle through exporttool::Html(). Long tables are
// cut at a stated number of rows; the CSV files (report_csv.h) always hold every row.

#include <string>
#include <vector>

#include "tools/fleet/aggregate.h"

namespace lockctl::fleet {

struct FleetReportContext {
  std::string trust_dir;            // anchors the bundles' signatures were checked with
  std::string db_trust_dir;         // anchors the databases were checked with; "" when none
  std::string generated_at;         // RFC 3339
  std::vector<std::string> inputs;  // the arguments given (bundles or directories)
};

// Rows shown in the page before "... N more: see FILE.csv".
inline constexpr std::size_t kHtmlTopRows = 100;
inline constexpr std::size_t kHtmlSessionRows = 2000;
inline constexpr std::size_t kHtmlTerminalRows = 20000;
inline constexpr std::size_t kHtmlDigestsPerChange = 20;

std::string RenderFleetHtml(const FleetReport& report, const FleetReportContext& context);

}  // namespace lockctl::fleet
