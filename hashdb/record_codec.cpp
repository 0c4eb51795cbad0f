#include "hashdb/record_codec.h"

#include <algorithm>
#include <cstring>

#include "hashdb/format.h"

namespace hashdb::format::v2 {

namespace {

// Compares two byte strings each given as up to three pieces.
int ComparePieces(const std::string_view (&a)[3], const std::string_view (&b)[3]) {
  std::size_t ia = 0, oa = 0, ib = 0, ob = 0;
  for (;;) {
    while (ia < 3 && oa == a[ia].size()) {
      ++ia;
      oa = 0;
    }
    while (ib < 3 && ob == b[ib].size()) {
      ++ib;
      ob = 0;
    }
    if (ia == 3 || ib == 3) return (ia == 3 ? 0 : 1) - (ib == 3 ? 0 : 1);
    const std::size_t n = std::min(a[ia].size() - oa, b[ib].size() - ob);
    const int c = std::memcmp(a[ia].data() + oa, b[ib].data() + ob, n);
    if (c != 0) return c;
    oa += n;
    ob += n;
  }
}

}  // namespace

void PutVarint(std::vector<std::uint8_t>& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

void EncodeRecord(std::vector<std::uint8_t>& out, const RecordFields& r) {
  PutVarint(out, static_cast<std::uint64_t>(r.suffix.size()) * 2 + (r.has_directory ? 1 : 0));
  PutVarint(out, r.has_directory ? r.directory : r.shared);
  PutVarint(out, r.digest);
  PutVarint(out, r.attributes);
  PutVarint(out, r.size);
  out.insert(out.end(), r.suffix.begin(), r.suffix.end());
}

std::size_t CommonPrefix(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

const char* RecordErrorText(RecordError error) {
  switch (error) {
    case RecordError::kNone:
      return "no error";
    case RecordError::kHead:
      return "bad head number (truncated, over 10 bytes or not in shortest form)";
    case RecordError::kSuffixLength:
      return "bad name suffix length (must be 1 to 255)";
    case RecordError::kDirectory:
      return "bad directory index number";
    case RecordError::kShared:
      return "bad shared prefix number";
    case RecordError::kDigest:
      return "bad digest index number";
    case RecordError::kAttributes:
      return "bad attribute index number";
    case RecordError::kSize:
      return "bad size number";
    case RecordError::kSuffix:
      return "name runs past the end of its record block";
  }
  return "unknown error";
}

int CompareSplitPaths(std::string_view dir_a, std::string_view name_a, std::string_view dir_b,
                      std::string_view name_b) {
  const std::string_view a[3] = {dir_a, "/", name_a};
  const std::string_view b[3] = {dir_b, "/", name_b};
  return ComparePieces(a, b);
}

int CompareSplitPath(std::string_view dir, std::string_view name, std::string_view path) {
  const std::string_view a[3] = {dir, "/", name};
  const std::string_view b[3] = {path, {}, {}};
  return ComparePieces(a, b);
}

SplitPath Split(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return SplitPath{path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace hashdb::format::v2
