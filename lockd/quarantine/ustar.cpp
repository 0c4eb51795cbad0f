#include "lockd/quarantine/ustar.h"

#include <cstring>

namespace lockd::quarantine {

namespace {

// An octal field of width bytes: width - 1 digits and a NUL. False when value does not fit.
bool PutOctal(std::string& block, std::size_t offset, std::size_t width, std::uint64_t value) {
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0;) {
    digits[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  if (value != 0) return false;
  std::memcpy(&block[offset], digits.data(), digits.size());
  block[offset + width - 1] = '\0';
  return true;
}

bool SafeName(std::string_view name) {
  if (name.empty() || name.size() > 100 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

hashdb::Result<std::string> UstarFileHeader(std::string_view name, std::uint64_t size,
                                            unsigned mode, std::int64_t mtime) {
  using hashdb::ErrorCode;
  using hashdb::MakeError;
  if (!SafeName(name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tar member name '" + std::string(name) + "' is not [A-Za-z0-9._-]{1,100}");
  }
  if ((mode & ~0666u) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tar member " + std::string(name) + ": mode must be read/write bits only");
  }
  if (size > kMaxTarMemberSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tar member " + std::string(name) + ": larger than 8 GiB - 1");
  }
  if (mtime < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tar member " + std::string(name) + ": mtime before 1970");
  }
  std::string block(kTarBlock, '\0');
  std::memcpy(&block[0], name.data(), name.size());
  PutOctal(block, 100, 8, mode);
  PutOctal(block, 108, 8, 0);  // uid
  PutOctal(block, 116, 8, 0);  // gid
  PutOctal(block, 124, 12, size);
  if (!PutOctal(block, 136, 12, static_cast<std::uint64_t>(mtime))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tar member " + std::string(name) + ": mtime too large");
  }
  block[156] = '0';                      // regular file
  std::memcpy(&block[257], "ustar", 6);  // magic with its NUL
  block[263] = '0';
  block[264] = '0';
  // The checksum is computed with its own field as eight spaces.
  std::memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  PutOctal(block, 148, 7, sum);  // six digits, NUL, then the space left from the memset
  block[155] = ' ';
  return block;
}

std::string TarPadding(std::uint64_t size) {
  const std::size_t rest = static_cast<std::size_t>(size % kTarBlock);
  return rest == 0 ? std::string() : std::string(kTarBlock - rest, '\0');
}

std::string TarEnd() { return std::string(2 * kTarBlock, '\0'); }

}  // namespace lockd::quarantine
