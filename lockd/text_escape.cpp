#include "lockd/text_escape.h"

namespace lockd {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

std::string EscapeLogValue(std::string_view raw, std::size_t max_bytes) {
  const bool cut = raw.size() > max_bytes;
  if (cut) raw = raw.substr(0, max_bytes);
  std::string out;
  out.reserve(raw.size() + 8);
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (cut) out.append("...");
  return out;
}

}  // namespace lockd
