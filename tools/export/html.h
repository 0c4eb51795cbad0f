#pragma once
// HTML pieces for the export's report.html: escaping outsider text, and the blocks-per-day
// chart as inline SVG (no JavaScript, fonts, images or style sheets from anywhere: the report
// must open offline and load nothing).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lockctl::exporttool {

// Outsider bytes as HTML text or attribute value: first the readable escape of csv.h's
// DisplayText (so newlines, control and bidirectional characters and invalid UTF-8 are shown
// as \xHH / \u{XXXX}, never passed to the browser), then & < > " ' as character references.
// The result can never open a tag, end an attribute or start a script.
std::string Html(std::string_view bytes);

struct DayCount {
  std::string day;  // "YYYY-MM-DD" (UTC)
  std::uint64_t deny = 0;
  std::uint64_t would_deny = 0;
};

// Counts per day from the first to the last day present, days without events filled with
// zeros; at most max_days (the most recent ones). days need not be sorted or unique.
std::vector<DayCount> FillDays(const std::vector<DayCount>& days, std::size_t max_days = 366);

// A stacked bar chart (deny and would_deny per day) as an <svg> element with a <title> per
// bar, axis labels and a legend; width and height in CSS pixels. An empty input gives an svg
// saying that nothing was blocked.
std::string DailyBarChartSvg(const std::vector<DayCount>& days, int width = 760, int height = 260);

}  // namespace lockctl::exporttool
