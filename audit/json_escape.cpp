#include "audit/json_escape.h"

#include "hashdb/digest.h"

namespace lockd::audit {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendU16Escape(std::string& out, std::uint32_t unit) {
  out += "\\u";
  out += kHexDigits[(unit >> 12) & 0xf];
  out += kHexDigits[(unit >> 8) & 0xf];
  out += kHexDigits[(unit >> 4) & 0xf];
  out += kHexDigits[unit & 0xf];
}

}  // namespace

std::size_t DecodeUtf8(std::string_view bytes, std::uint32_t* code_point) {
  if (bytes.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(bytes[0]);
  std::size_t len;
  std::uint32_t cp;
  std::uint32_t min;
  if (b0 < 0x80) {
    if (code_point) *code_point = b0;
    return 1;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (bytes.size() < len) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  if (code_point) *code_point = cp;
  return len;
}

bool IsValidUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t n = DecodeUtf8(bytes, nullptr);
    if (n == 0) return false;
    bytes.remove_prefix(n);
  }
  return true;
}

bool IsUnsafeCodePoint(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

bool AppendJsonString(std::string& out, std::string_view bytes) {
  bool valid = true;
  out += '"';
  while (!bytes.empty()) {
    std::uint32_t cp = 0;
    const std::size_t n = DecodeUtf8(bytes, &cp);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD for one invalid byte
      valid = false;
      bytes.remove_prefix(1);
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (IsUnsafeCodePoint(cp)) {
          AppendU16Escape(out, cp);  // every unsafe code point is in the BMP
        } else {
          out.append(bytes.data(), n);
        }
    }
    bytes.remove_prefix(n);
  }
  out += '"';
  return valid;
}

std::string JsonString(std::string_view bytes) {
  std::string out;
  AppendJsonString(out, bytes);
  return out;
}

std::string JsonBytesMember(std::string_view key, std::string_view value) {
  std::string out = JsonString(key) + ":";
  if (!AppendJsonString(out, value)) {
    out += "," + JsonString(std::string(key) + "_hex") + ":\"" +
           hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()) + "\"";
  }
  return out;
}

}  // namespace lockd::audit
