#include "lockd/kernel_cache_scope.h"

#include <array>

namespace lockd {

std::optional<KernelCacheScope> ParseKernelCacheScope(std::string_view text) {
  if (text == "off") return KernelCacheScope::kOff;
  if (text == "immutable") return KernelCacheScope::kImmutable;
  if (text == "read-only") return KernelCacheScope::kReadOnly;
  return std::nullopt;
}

const char* KernelCacheScopeName(KernelCacheScope scope) {
  switch (scope) {
    case KernelCacheScope::kOff:
      return "off";
    case KernelCacheScope::kImmutable:
      return "immutable";
    case KernelCacheScope::kReadOnly:
      return "read-only";
  }
  return "off";
}

bool ImmutableFilesystemType(std::string_view fs_type) {
  constexpr std::array<std::string_view, 5> kTypes = {"squashfs", "erofs", "iso9660", "cramfs",
                                                      "romfs"};
  for (auto t : kTypes) {
    if (fs_type == t) return true;
  }
  return false;
}

bool SuperOptionsReadOnly(std::string_view super_options) {
  while (!super_options.empty()) {
    const std::size_t comma = super_options.find(',');
    if (super_options.substr(0, comma) == "ro") return true;
    if (comma == std::string_view::npos) break;
    super_options.remove_prefix(comma + 1);
  }
  return false;
}

bool SuperblockQualifies(const SuperblockState& sb, KernelCacheScope scope) {
  switch (scope) {
    case KernelCacheScope::kOff:
      return false;
    case KernelCacheScope::kImmutable:
      return sb.read_only && ImmutableFilesystemType(sb.fs_type);
    case KernelCacheScope::kReadOnly:
      return sb.read_only;
  }
  return false;
}

}  // namespace lockd
