#include "audit/json_parse.h"

#include "audit/json_escape.h"

namespace lockd::audit {
namespace {

using hashdb::Error;
using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<JsonValue> ParseDocument() {
    JsonValue value;
    if (!ParseValue(value, 0)) return error_;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("unexpected bytes after the JSON value");
    return value;
  }

 private:
  Error Fail(const std::string& what) {
    error_ = MakeError(ErrorCode::kFormat, "byte " + std::to_string(pos_) + ": " + what);
    return error_;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) {
      Fail("expected " + std::string(word));
      return false;
    }
    pos_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue& out, int depth) {
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end, expected a value"), false;
    const char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"':
        out.type = JsonValue::Type::kString;
        return ParseString(out.string);
      case 't':
        out.type = JsonValue::Type::kBool;
        out.boolean = true;
        return Literal("true");
      case 'f':
        out.type = JsonValue::Type::kBool;
        out.boolean = false;
        return Literal("false");
      case 'n':
        out.type = JsonValue::Type::kNull;
        return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Fail("expected a value"), false;
    }
  }

  bool ParseObject(JsonValue& out, int depth) {
    if (depth > kMaxJsonDepth) return Fail("nesting too deep"), false;
    out.type = JsonValue::Type::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key string"), false;
      const std::size_t key_pos = pos_;
      std::string key;
      if (!ParseString(key)) return false;
      if (out.object.size() >= kMaxJsonMembers) return Fail("too many members"), false;
      if (out.Find(key) != nullptr) {
        pos_ = key_pos;
        return Fail("duplicate key \"" + key + "\""), false;
      }
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected ':'"), false;
      ++pos_;
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      out.object.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
      return Fail("expected ',' or '}'"), false;
    }
  }

  bool ParseArray(JsonValue& out, int depth) {
    if (depth > kMaxJsonDepth) return Fail("nesting too deep"), false;
    out.type = JsonValue::Type::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
    while (true) {
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      out.array.push_back(std::move(value));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
      return Fail("expected ',' or ']'"), false;
    }
  }

  bool ParseHex4(std::uint32_t& unit) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape"), false;
    unit = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_ + i];
      unit <<= 4;
      if (h >= '0' && h <= '9')
        unit |= h - '0';
      else if (h >= 'a' && h <= 'f')
        unit |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        unit |= h - 'A' + 10;
      else
        return Fail("bad hex digit in \\u escape"), false;
    }
    pos_ += 4;
    return true;
  }

  static void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return Fail("unterminated string"), false;
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return Fail("raw control character in string"), false;
      if (c != '\\') {
        const std::size_t n = DecodeUtf8(text_.substr(pos_), nullptr);
        if (n == 0) return Fail("invalid UTF-8 in string"), false;
        out.append(text_.data() + pos_, n);
        pos_ += n;
        continue;
      }
      ++pos_;
      if (pos_ >= text_.size()) return Fail("unterminated escape"), false;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t unit;
          if (!ParseHex4(unit)) return false;
          if (unit >= 0xdc00 && unit <= 0xdfff) return Fail("lone low surrogate"), false;
          if (unit >= 0xd800 && unit <= 0xdbff) {
            std::uint32_t low;
            if (text_.substr(pos_, 2) != "\\u") return Fail("lone high surrogate"), false;
            pos_ += 2;
            if (!ParseHex4(low)) return false;
            if (low < 0xdc00 || low > 0xdfff) return Fail("bad low surrogate"), false;
            unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          }
          AppendUtf8(out, unit);
          break;
        }
        default:
          --pos_;
          return Fail("bad escape"), false;
      }
    }
  }

  bool ParseNumber(JsonValue& out) {
    const std::size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') {
      return Fail("expected a digit"), false;
    }
    if (text_[pos_] == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9') {
      return Fail("leading zero in number"), false;
    }
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const std::uint64_t digit = text_[pos_] - '0';
      if (value > (UINT64_MAX - digit) / 10) {
        pos_ = start;
        return Fail("integer does not fit in 64 bits"), false;
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return Fail("audit records hold integers only"), false;
    }
    if (!negative) {
      out.type = JsonValue::Type::kUint;
      out.uint_value = value;
      return true;
    }
    if (value > static_cast<std::uint64_t>(INT64_MAX) + 1) {
      pos_ = start;
      return Fail("integer does not fit in 64 bits"), false;
    }
    out.type = JsonValue::Type::kInt;
    out.int_value = static_cast<std::int64_t>(0 - value);
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  Error error_;
};

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [k, v] : object) {
    if (k == key) return &v;
  }
  return nullptr;
}

hashdb::Result<JsonValue> ParseJson(std::string_view text) { return Parser(text).ParseDocument(); }

std::optional<std::string> FieldBytes(const JsonValue& object, std::string_view key) {
  const JsonValue* text = object.Find(key);
  if (text == nullptr || text->type != JsonValue::Type::kString) return std::nullopt;
  const JsonValue* hex = object.Find(std::string(key) + "_hex");
  if (hex == nullptr) return text->string;
  if (hex->type != JsonValue::Type::kString || hex->string.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string bytes;
  for (std::size_t i = 0; i < hex->string.size(); i += 2) {
    const int hi = nibble(hex->string[i]);
    const int lo = nibble(hex->string[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes += static_cast<char>(hi << 4 | lo);
  }
  return bytes;
}

}  // namespace lockd::audit
