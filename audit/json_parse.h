#pragma once
// A strict JSON reader for audit records (RFC 8259), used by the verifier, `lockctl log show`,
// the export and lockctl's readers of lockd's JSON replies. The grammar, UTF-8 and \u escape
// checks are nlohmann-json's (Debian's nlohmann-json3-dev, a SAX parse, strict: nothing may
// follow the value); on top of it this reader refuses what could make two readers disagree
// about a record's content: duplicate keys, numbers that are not integers or do not fit in 64
// bits, a byte order mark, nesting deeper than kMaxJsonDepth and objects with more than
// kMaxJsonMembers members. nlohmann-json is used only inside json_parse.cpp; its exceptions
// never leave it.
//
// Only reads: the hash chain is computed over a line's raw bytes (record.h LineHash), never
// over a value re-serialised from what this parser returns.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockd::audit {

inline constexpr int kMaxJsonDepth = 16;
// Members per object. Arrays are not limited (the lists in lockd's replies, e.g. the files
// learned in a maintenance window, can be long); the input's length bounds the work.
inline constexpr std::size_t kMaxJsonMembers = 256;

struct JsonMember;

struct JsonValue {
  enum class Type { kNull, kBool, kInt, kUint, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::int64_t int_value = 0;    // kInt: negative integers
  std::uint64_t uint_value = 0;  // kUint: non-negative integers
  std::string string;            // kString: the decoded bytes (valid UTF-8)
  std::vector<JsonValue> array;
  std::vector<JsonMember> object;  // in document order, keys unique

  // Member of an object by key, or nullptr.
  const JsonValue* Find(std::string_view key) const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Parses one complete JSON text. The error says what was wrong; a syntax error names the byte
// offset where it was found ("byte 10: syntax error ... unexpected 'x'; expected end of input").
hashdb::Result<JsonValue> ParseJson(std::string_view text);

// The exact bytes of a field written with Record::AddBytes: the `<key>_hex` member when present
// (the original was not valid UTF-8), else the string itself. nullopt when the key is absent,
// not a string, or the hex is malformed. (Truncation is not undone: see `<key>_truncated`.)
std::optional<std::string> FieldBytes(const JsonValue& object, std::string_view key);

}  // namespace lockd::audit
