#pragma once
// A strict JSON parser for audit records (RFC 8259), used by the verifier and by
// `lockctl log show`. It accepts exactly what it must to read a record and refuses anything
// that could make two readers disagree about a record's content: duplicate keys, invalid
// UTF-8, lone surrogates, raw control characters, trailing bytes, numbers that are not
// integers or do not fit in 64 bits, and nesting deeper than kMaxJsonDepth, more than
// kMaxJsonMembers members.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hashdb/result.h"

namespace lockd::audit {

inline constexpr int kMaxJsonDepth = 16;
// Members per object and elements per array; bounds the work a hostile line can cause.
inline constexpr std::size_t kMaxJsonMembers = 256;

struct JsonValue {
  enum class Type { kNull, kBool, kInt, kUint, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::int64_t int_value = 0;    // kInt: negative integers
  std::uint64_t uint_value = 0;  // kUint: non-negative integers
  std::string string;            // kString: the decoded bytes (valid UTF-8)
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in document order, keys unique

  // Member of an object by key, or nullptr.
  const JsonValue* Find(std::string_view key) const;
};

// Parses one complete JSON text. The error message says what was expected and at which byte
// offset ("byte 17: expected ':'").
hashdb::Result<JsonValue> ParseJson(std::string_view text);

// The exact bytes of a field written with Record::AddBytes: the `<key>_hex` member when present
// (the original was not valid UTF-8), else the string itself. nullopt when the key is absent,
// not a string, or the hex is malformed. (Truncation is not undone: see `<key>_truncated`.)
std::optional<std::string> FieldBytes(const JsonValue& object, std::string_view key);

}  // namespace lockd::audit
