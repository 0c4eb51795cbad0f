#include "tools/export/html.h"

#include <algorithm>
#include <map>

#include "audit/record.h"
#include "tools/export/csv.h"

namespace lockctl::exporttool {

std::string Html(std::string_view bytes) {
  const std::string text = DisplayText(bytes);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<DayCount> FillDays(const std::vector<DayCount>& days, std::size_t max_days) {
  std::map<std::string, DayCount> by_day;
  for (const auto& d : days) {
    if (!lockd::audit::ParseTime(d.day) || d.day.size() != 10) continue;
    auto& slot = by_day[d.day];
    slot.day = d.day;
    slot.deny += d.deny;
    slot.would_deny += d.would_deny;
  }
  std::vector<DayCount> out;
  if (by_day.empty()) return out;
  auto t = *lockd::audit::ParseTime(by_day.begin()->first);
  const auto last = *lockd::audit::ParseTime(by_day.rbegin()->first);
  for (; t <= last; t += std::chrono::hours(24)) {
    const std::string day = lockd::audit::FormatTime(t).substr(0, 10);
    auto it = by_day.find(day);
    out.push_back(it == by_day.end() ? DayCount{day, 0, 0} : it->second);
  }
  if (out.size() > max_days) out.erase(out.begin(), out.end() - static_cast<long>(max_days));
  return out;
}

std::string DailyBarChartSvg(const std::vector<DayCount>& days, int width, int height) {
  const std::string head = "<svg class=\"chart\" width=\"" + std::to_string(width) +
                           "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
                           std::to_string(width) + " " + std::to_string(height) +
                           "\" role=\"img\" aria-label=\"";
  if (days.empty()) {
    return head + "No blocked executions\"><text x=\"20\" y=\"40\">No blocked or would-block " +
           "executions in this period.</text></svg>\n";
  }
  std::uint64_t max = 1;
  std::uint64_t total = 0;
  for (const auto& d : days) {
    max = std::max(max, d.deny + d.would_deny);
    total += d.deny + d.would_deny;
  }
  const int left = 56, right = 12, top = 28, bottom = 44;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const double slot = plot_w / static_cast<double>(days.size());
  const double bar = std::clamp(slot * 0.8, 1.0, 48.0);  // a lone day is not a wall
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  std::string s = head + "Blocks per day: " + std::to_string(total) + " events over " +
                  std::to_string(days.size()) + " days\">\n";
  // Legend and axes.
  s += "<rect x=\"" + std::to_string(left) +
       "\" y=\"6\" width=\"12\" height=\"12\" class=\"deny\"/>"
       "<text x=\"" +
       std::to_string(left + 16) +
       "\" y=\"16\">deny</text>"
       "<rect x=\"" +
       std::to_string(left + 70) +
       "\" y=\"6\" width=\"12\" height=\"12\" class=\"would\"/>"
       "<text x=\"" +
       std::to_string(left + 86) + "\" y=\"16\">would deny (audit mode)</text>\n";
  const std::string y0 = num(top + plot_h);
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + y0 + "\" x2=\"" +
       std::to_string(width - right) + "\" y2=\"" + y0 + "\" class=\"axis\"/>";
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(top) + "\" x2=\"" +
       std::to_string(left) + "\" y2=\"" + y0 + "\" class=\"axis\"/>\n";
  s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(top + 4) +
       "\" text-anchor=\"end\">" + std::to_string(max) + "</text>";
  s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + y0 +
       "\" text-anchor=\"end\">0</text>\n";
  const std::size_t label_every = std::max<std::size_t>(1, (days.size() + 7) / 8);
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto& d = days[i];
    const double x = left + slot * static_cast<double>(i) + (slot - bar) / 2;
    const double h_deny = plot_h * static_cast<double>(d.deny) / static_cast<double>(max);
    const double h_would = plot_h * static_cast<double>(d.would_deny) / static_cast<double>(max);
    s += "<g><title>" + d.day + ": " + std::to_string(d.deny) + " denied, " +
         std::to_string(d.would_deny) + " would be denied</title>";
    if (d.deny > 0) {
      s += "<rect class=\"deny\" x=\"" + num(x) + "\" y=\"" + num(top + plot_h - h_deny) +
           "\" width=\"" + num(bar) + "\" height=\"" + num(h_deny) + "\"/>";
    }
    if (d.would_deny > 0) {
      s += "<rect class=\"would\" x=\"" + num(x) + "\" y=\"" +
           num(top + plot_h - h_deny - h_would) + "\" width=\"" + num(bar) + "\" height=\"" +
           num(h_would) + "\"/>";
    }
    s += "</g>";
    if (i % label_every == 0 || i + 1 == days.size()) {
      s += "<text x=\"" + num(x + bar / 2) + "\" y=\"" + std::to_string(height - bottom + 16) +
           "\" text-anchor=\"middle\">" + d.day.substr(5) + "</text>";
    }
    s += "\n";
  }
  return s + "</svg>\n";
}

}  // namespace lockctl::exporttool
