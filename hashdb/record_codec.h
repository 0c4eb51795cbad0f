#pragma once
// The variable-length records of format version 2 (docs/database-format.md, "Records"), shared
// by the writer and the reader so that both agree on every byte:
//
//   varint head        suffix length x 2, + 1 if a directory index follows
//   varint directory   only if the head says so: index into the directory table
//   varint shared      only if not: how many leading bytes of the previous record's name this
//                      name begins with (records of one directory follow each other in name
//                      order, so neighbours often share a prefix: "libfoo.so.1", "libfoo.so.2")
//   varint digest      index into the digest table
//   varint attributes  index into the attribute table (mode, uid, gid)
//   varint size        file size in bytes
//   bytes  suffix      the rest of the name (the path's last component)
//
// A varint is unsigned LEB128 in its shortest form (at most 10 bytes for 64 bits); a longer
// form of the same number is malformed, so every record has exactly one encoding. `shared` is
// canonical too: the reader requires the name to sort after the previous one by the first
// suffix byte (or to extend it), which holds only when `shared` is the whole common prefix.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "hashdb/format.h"

namespace hashdb::format::v2 {

struct RecordFields {
  bool has_directory = false;
  std::uint32_t directory = 0;  // when has_directory
  std::uint32_t shared = 0;     // when !has_directory
  std::uint32_t digest = 0;
  std::uint32_t attributes = 0;
  std::uint64_t size = 0;
  std::string_view suffix;  // views the encoded bytes when decoded
};

void PutVarint(std::vector<std::uint8_t>& out, std::uint64_t value);
void EncodeRecord(std::vector<std::uint8_t>& out, const RecordFields& record);

// Which field a malformed record broke, for the reader's message.
enum class RecordError {
  kNone,
  kHead,          // truncated, over 10 bytes or not in shortest form
  kSuffixLength,  // 0, or above kMaxNameLength
  kDirectory,     // truncated, overlong, not shortest or above 2^32 - 1
  kShared,
  kDigest,
  kAttributes,
  kSize,
  kSuffix,  // runs past the end of its block
};
const char* RecordErrorText(RecordError error);  // "bad directory index number", ...

// Bytewise comparison of the paths dir_a + "/" + name_a and dir_b + "/" + name_b (a
// directory is "" for "/", so "/bin" is dir "" and name "bin"), without building them.
// Negative, zero or positive like memcmp.
int CompareSplitPaths(std::string_view dir_a, std::string_view name_a, std::string_view dir_b,
                      std::string_view name_b);
// The same, against a whole path.
int CompareSplitPath(std::string_view dir, std::string_view name, std::string_view path);

// Splits a path at its last '/': "/usr/bin/ls" -> {"/usr/bin", "ls"}, "/ls" -> {"", "ls"}.
// The caller guarantees path starts with '/'.
struct SplitPath {
  std::string_view directory;
  std::string_view name;
};
SplitPath Split(std::string_view path);

// Length of the common prefix of a and b.
std::size_t CommonPrefix(std::string_view a, std::string_view b);

// Whether bytes have a '/' or a NUL in them, eight bytes at a time.
inline bool HasSlashOrNul(const char* p, std::size_t n) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  constexpr std::uint64_t kSlashes = kOnes * '/';
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, p + i, 8);
    const std::uint64_t y = x ^ kSlashes;
    if ((((x - kOnes) & ~x) | ((y - kOnes) & ~y)) & kHigh) return true;
  }
  bool found = false;
  for (; i < n; ++i) found |= (p[i] == '/') | (p[i] == '\0');
  return found;
}

namespace detail {
// Shortest-form LEB128 of at most 64 bits. nullptr when truncated, longer than 10 bytes, above
// 2^64 - 1, or not in its shortest form (a last byte of 0 after the first).
inline const std::uint8_t* GetVarint(const std::uint8_t* p, const std::uint8_t* end,
                                     std::uint64_t& value) {
  if (p == end) return nullptr;
  std::uint8_t b = *p++;
  if (b < 0x80) {
    value = b;
    return p;
  }
  std::uint64_t v = b & 0x7f;
  for (unsigned shift = 7;; shift += 7) {
    if (p == end || shift > 63) return nullptr;
    b = *p++;
    if (shift == 63 && b > 1) return nullptr;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      if (b == 0) return nullptr;
      value = v;
      return p;
    }
  }
}

inline const std::uint8_t* GetU32(const std::uint8_t* p, const std::uint8_t* end,
                                  std::uint32_t& value) {
  std::uint64_t v = 0;
  p = GetVarint(p, end, v);
  if (p == nullptr || v > UINT32_MAX) return nullptr;
  value = static_cast<std::uint32_t>(v);
  return p;
}
}  // namespace detail

// Decodes the record starting at p, never reading at or past end. Returns the byte after it,
// or nullptr with `error` set. Checks the encoding only (not index ranges, not `shared`
// against the previous name, not the suffix's bytes). Inline: the reader runs it on every
// record of every file it opens.
[[gnu::always_inline]] inline const std::uint8_t* DecodeRecord(const std::uint8_t* p,
                                                               const std::uint8_t* end,
                                                               RecordFields& r,
                                                               RecordError& error) {
  std::uint64_t head = 0;
  p = detail::GetVarint(p, end, head);
  if (p == nullptr) {
    error = RecordError::kHead;
    return nullptr;
  }
  const std::uint64_t suffix_length = head >> 1;
  if (suffix_length == 0 || suffix_length > kMaxNameLength) {
    error = RecordError::kSuffixLength;
    return nullptr;
  }
  r.has_directory = (head & 1) != 0;
  if (r.has_directory) {
    r.shared = 0;
    if ((p = detail::GetU32(p, end, r.directory)) == nullptr) {
      error = RecordError::kDirectory;
      return nullptr;
    }
  } else if ((p = detail::GetU32(p, end, r.shared)) == nullptr) {
    error = RecordError::kShared;
    return nullptr;
  }
  if ((p = detail::GetU32(p, end, r.digest)) == nullptr) {
    error = RecordError::kDigest;
    return nullptr;
  }
  if ((p = detail::GetU32(p, end, r.attributes)) == nullptr) {
    error = RecordError::kAttributes;
    return nullptr;
  }
  if ((p = detail::GetVarint(p, end, r.size)) == nullptr) {
    error = RecordError::kSize;
    return nullptr;
  }
  if (static_cast<std::uint64_t>(end - p) < suffix_length) {
    error = RecordError::kSuffix;
    return nullptr;
  }
  r.suffix = std::string_view(reinterpret_cast<const char*>(p), suffix_length);
  return p + suffix_length;
}

// The name of the record just decoded, rebuilt from the previous one: for walks over records
// that were verified (every `shared` is within the previous name and the sum within 255).
class NameBuilder {
 public:
  void Apply(const RecordFields& r) {
    std::memcpy(bytes_ + r.shared, r.suffix.data(), r.suffix.size());
    size_ = r.shared + r.suffix.size();
  }
  std::string_view name() const { return std::string_view(bytes_, size_); }

 private:
  char bytes_[kMaxNameLength];
  std::size_t size_ = 0;
};

}  // namespace hashdb::format::v2
