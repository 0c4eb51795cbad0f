#include "tools/export/csv.h"

#include <cstdio>

#include "audit/json_escape.h"

namespace lockctl::exporttool {

std::string DisplayText(std::string_view bytes) {
  std::string s;
  s.reserve(bytes.size());
  char buf[16];
  while (!bytes.empty()) {
    std::uint32_t cp = 0;
    const std::size_t n = lockd::audit::DecodeUtf8(bytes, &cp);
    if (n == 0 || cp < 0x20 || cp == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(bytes[0]));
      s += buf;
      bytes.remove_prefix(1);
      continue;
    }
    if (cp == '\\') {
      s += "\\\\";
    } else if (lockd::audit::IsUnsafeCodePoint(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
      s += buf;
    } else {
      s.append(bytes.data(), n);
    }
    bytes.remove_prefix(n);
  }
  return s;
}

std::string HexBytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

std::string CsvField(std::string_view text) {
  std::string value;
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    value = "'";
  }
  for (char c : text) {
    if (c == '\r') {
      value += "\\x0d";
    } else if (c == '\n') {
      value += "\\x0a";
    } else {
      value += c;
    }
  }
  if (value.find_first_of(",\" '\t") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string row;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) row += ',';
    row += CsvField(fields[i]);
  }
  return row + "\r\n";
}

}  // namespace lockctl::exporttool
