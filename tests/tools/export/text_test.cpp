// CSV and HTML encodings of hostile outsider bytes, and the blocks-per-day chart.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tools/export/csv.h"
#include "tools/export/html.h"

using lockctl::exporttool::CsvField;
using lockctl::exporttool::CsvRow;
using lockctl::exporttool::DayCount;
using lockctl::exporttool::DisplayText;
using lockctl::exporttool::HexBytes;
using lockctl::exporttool::Html;

namespace {

// A strict RFC 4180 reader for the tests: rows end with CRLF, quoted fields double '"'.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t i = 0;
  bool quoted = false, in_quotes = false;
  while (i < text.size()) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        i += 2;
      } else if (c == '"') {
        in_quotes = false;
        ++i;
      } else {
        field += c;
        ++i;
      }
      continue;
    }
    if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
      ++i;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      quoted = false;
      ++i;
    } else if (c == '\r') {
      REQUIRE(i + 1 < text.size());
      REQUIRE(text[i + 1] == '\n');
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      quoted = false;
      i += 2;
    } else {
      REQUIRE_MESSAGE(c != '\n', "bare LF in CSV");
      REQUIRE_MESSAGE(c != '"', "quote inside an unquoted field");
      field += c;
      ++i;
    }
  }
  REQUIRE_MESSAGE(!in_quotes, "unterminated quoted field");
  REQUIRE_MESSAGE(field.empty(), "last row without CRLF");
  return rows;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

const std::vector<std::string> kHostile = {
    "/opt/app/normal",
    std::string("/tmp/new\nline,\"quoted\"\r\n=cmd|' /C calc'!A0"),
    "=HYPERLINK(\"http://evil\")",
    "+1+2",
    "-2",
    "@SUM(A1)",
    std::string("\t=1"),
    std::string("/bad/\xff\xfe\x80utf8"),
    "/bidi/\xe2\x80\xae"
    "exe.txt",  // U+202E right-to-left override
    std::string("/nul/in\0side", 12),
    "/esc/\x1b[31mred",
    "/back\\slash\\x41",
    "/取引/ピン.sh",
    "<script>alert(1)</script>&amp;'\"",
};

}  // namespace

TEST_CASE("export CSV: hostile paths stay one field each and path_hex gives the exact bytes") {
  std::string csv = CsvRow({"path", "path_hex", "n"});
  for (const auto& p : kHostile) csv += CsvRow({DisplayText(p), HexBytes(p), "7"});
  const auto rows = ParseCsv(csv);
  REQUIRE(rows.size() == kHostile.size() + 1);
  for (std::size_t i = 0; i < kHostile.size(); ++i) {
    const auto& row = rows[i + 1];
    REQUIRE(row.size() == 3);
    CHECK(Unhex(row[1]) == kHostile[i]);
    CHECK(row[2] == "7");
    // Never a raw control character, and never a cell a spreadsheet would run as a formula.
    for (unsigned char c : row[0]) CHECK((c >= 0x20 && c != 0x7f));
    CHECK(row[0].find_first_of("=+-@\t") != 0);
  }
  CHECK(rows[2][0].starts_with("/tmp/new\\x0aline,\"quoted\"\\x0d\\x0a=cmd"));
  CHECK(rows[3][0] == "'=HYPERLINK(\"http://evil\")");
  CHECK(rows[4][0] == "'+1+2");
  CHECK(rows[5][0] == "'-2");
  CHECK(rows[6][0] == "'@SUM(A1)");
  CHECK(rows[7][0] == "\\x09=1");  // the tab is escaped: the cell starts with a backslash
  CHECK(rows[8][0] == "/bad/\\xff\\xfe\\x80utf8");
  CHECK(rows[9][0] == "/bidi/\\u{202e}exe.txt");
  CHECK(rows[10][0] == "/nul/in\\x00side");
  CHECK(rows[11][0] == "/esc/\\x1b[31mred");
  CHECK(rows[12][0] == "/back\\\\slash\\\\x41");  // a literal backslash cannot fake an escape
  CHECK(rows[13][0] == "/取引/ピン.sh");
}

TEST_CASE("export CSV: quoting follows RFC 4180") {
  CHECK(CsvField("plain") == "plain");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("") == "");
  CHECK(CsvField("=1") == "\"'=1\"");  // guarded and quoted (OWASP)
  CHECK(CsvField("line\nbreak") == "line\\x0abreak");
  CHECK(CsvRow({"a", "b,c", ""}) == "a,\"b,c\",\r\n");
}

TEST_CASE("export HTML: outsider text can never open a tag, end an attribute or hide bytes") {
  CHECK(Html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(Html("a\"b'c&d") == "a&quot;b&#39;c&amp;d");
  CHECK(Html("/x\n<img src=x onerror=alert(1)>") == "/x\\x0a&lt;img src=x onerror=alert(1)&gt;");
  CHECK(Html("\xe2\x80\xae") == "\\u{202e}");
  CHECK(Html("\xff") == "\\xff");
  CHECK(Html("ピン") == "ピン");
  for (const auto& p : kHostile) {
    const std::string h = Html(p);
    CHECK(h.find('<') == std::string::npos);
    CHECK(h.find('>') == std::string::npos);
    CHECK(h.find('"') == std::string::npos);
    CHECK(h.find('\'') == std::string::npos);
    for (unsigned char c : h) CHECK((c >= 0x20 && c != 0x7f));
  }
}

TEST_CASE("export chart: days filled, bars scaled, svg self-contained") {
  using lockctl::exporttool::DailyBarChartSvg;
  using lockctl::exporttool::FillDays;
  const auto days = FillDays(
      {{"2026-11-27", 1, 0}, {"2026-11-25", 4, 2}, {"2026-11-27", 3, 0}, {"not-a-day", 9, 9}});
  REQUIRE(days.size() == 3);
  CHECK(days[0].day == "2026-11-25");
  CHECK(days[0].deny == 4);
  CHECK(days[0].would_deny == 2);
  CHECK(days[1].day == "2026-11-26");
  CHECK(days[1].deny == 0);
  CHECK(days[2].deny == 4);
  // Across a month end and capped to the most recent days.
  const auto long_run = FillDays({{"2026-01-30", 1, 0}, {"2026-03-02", 1, 0}}, 10);
  REQUIRE(long_run.size() == 10);
  CHECK(long_run.back().day == "2026-03-02");
  CHECK(long_run.front().day == "2026-02-21");

  const std::string svg = DailyBarChartSvg(days);
  CHECK(svg.starts_with("<svg "));
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("<title>2026-11-25: 4 denied, 2 would be denied</title>") != std::string::npos);
  CHECK(svg.find("<title>2026-11-26: 0 denied, 0 would be denied</title>") != std::string::npos);
  // The tallest day (6 events) fills the plot height: 260 - 28 - 44 = 188 px.
  CHECK(svg.find("height=\"125.3\"") != std::string::npos);  // 4 of 6
  CHECK(svg.find("height=\"62.7\"") != std::string::npos);   // 2 of 6
  CHECK(svg.find(">6</text>") != std::string::npos);         // y axis maximum
  CHECK(svg.find("http") == std::string::npos);
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("<script") == std::string::npos);
  const std::string none = DailyBarChartSvg({});
  CHECK(none.find("No blocked or would-block executions") != std::string::npos);
}
