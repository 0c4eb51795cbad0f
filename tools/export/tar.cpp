#include "tools/export/tar.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

namespace lockctl::exporttool {
namespace {

constexpr std::size_t kBlock = 512;

hashdb::Error Bad(const std::string& source, std::uint64_t offset, const std::string& what) {
  return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                           source + ": tar header at byte " + std::to_string(offset) + ": " + what);
}

// Writes value as zero-padded octal in width-1 digits and a NUL.
bool PutOctal(char* field, std::size_t width, std::uint64_t value) {
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0;) {
    digits[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  if (value != 0) return false;
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
  return true;
}

std::optional<std::uint64_t> GetOctal(const char* field, std::size_t width) {
  std::size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
    if (value >> 60) return std::nullopt;
    value = value * 8 + static_cast<std::uint64_t>(field[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  for (; i < width; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return value;
}

unsigned Checksum(const char* header) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

hashdb::Status AppendHeader(std::string& out, const std::string& name, char type,
                            std::uint64_t size, std::int64_t mtime) {
  if (!IsSafeMemberName(name) &&
      !(type == '5' && IsSafeMemberName(name.substr(0, name.size() - 1)))) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "tar: member name \"" + name + "\" is not a plain relative name");
  }
  char h[kBlock] = {};
  std::memcpy(h, name.data(), name.size());
  PutOctal(h + 100, 8, type == '5' ? 0755 : 0644);
  PutOctal(h + 108, 8, 0);
  PutOctal(h + 116, 8, 0);
  if (!PutOctal(h + 124, 12, size) || !PutOctal(h + 136, 12, mtime < 0 ? 0 : mtime)) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "tar: " + name + " is too large for a ustar header");
  }
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  PutOctal(h + 148, 7, Checksum(h));
  h[155] = ' ';
  out.append(h, kBlock);
  return {};
}

}  // namespace

bool IsSafeMemberName(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = name.find('/', start);
    const std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

hashdb::Result<std::string> WriteTar(const std::map<std::string, std::string>& files,
                                     std::int64_t mtime) {
  std::string out;
  std::set<std::string> dirs;
  for (const auto& [name, content] : files) {
    for (std::size_t slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      const std::string dir = name.substr(0, slash + 1);
      if (dirs.insert(dir).second) HASHDB_TRY(AppendHeader(out, dir, '5', 0, mtime));
    }
    HASHDB_TRY(AppendHeader(out, name, '0', content.size(), mtime));
    out += content;
    out.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

hashdb::Result<std::map<std::string, std::string>> ReadTar(std::string_view archive,
                                                           const std::string& source) {
  std::map<std::string, std::string> files;
  std::set<std::string> seen;
  std::size_t pos = 0;
  while (true) {
    if (archive.size() - pos < kBlock)
      return Bad(source, pos, "archive ends without the end marker");
    const char* h = archive.data() + pos;
    if (std::all_of(h, h + kBlock, [](char c) { return c == '\0'; })) {
      // End of archive: everything after must be zero padding.
      if (archive.find_first_not_of('\0', pos) != std::string_view::npos) {
        return Bad(source, pos, "data after the end-of-archive marker");
      }
      return files;
    }
    const auto sum = GetOctal(h + 148, 8);
    if (!sum || *sum != Checksum(h)) return Bad(source, pos, "header checksum does not match");
    if (std::memcmp(h + 257, "ustar", 5) != 0) return Bad(source, pos, "not a ustar header");
    const auto size = GetOctal(h + 124, 12);
    if (!size) return Bad(source, pos, "size field is not octal");
    if (*size > kMaxTarMember) return Bad(source, pos, "member larger than 2 GiB");
    std::string name(h, strnlen(h, 100));
    const std::string prefix(h + 345, strnlen(h + 345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    const char type = h[156];
    const std::uint64_t data_at = pos + kBlock;
    const std::uint64_t padded = (*size + kBlock - 1) / kBlock * kBlock;
    if (archive.size() - data_at < padded) return Bad(source, pos, name + ": member data cut off");
    if (type == '5') {
      if (name.empty() || name.back() != '/' ||
          !IsSafeMemberName(name.substr(0, name.size() - 1))) {
        return Bad(source, pos, "directory name is not a plain relative name");
      }
    } else if (type == '0' || type == '\0') {
      if (!IsSafeMemberName(name)) {
        return Bad(source, pos, "member name is not a plain relative name ([A-Za-z0-9._-] parts)");
      }
      if (!seen.insert(name).second) return Bad(source, pos, name + ": member appears twice");
      files.emplace(name, std::string(archive.substr(data_at, *size)));
    } else {
      return Bad(source, pos,
                 name + ": member type '" + std::string(1, type) +
                     "' is not a regular file or directory (links and devices are refused)");
    }
    pos = data_at + padded;
  }
}

}  // namespace lockctl::exporttool
