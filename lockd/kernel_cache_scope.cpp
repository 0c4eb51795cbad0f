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

bool LocalStorageFilesystemType(std::string_view fs_type) {
  // Block-device and memory filesystems: their content changes only through this kernel.
  constexpr std::array<std::string_view, 17> kTypes = {
      "ext2",  "ext3",  "ext4",  "xfs",     "btrfs",  "f2fs",     "jfs",   "reiserfs", "vfat",
      "msdos", "exfat", "ntfs3", "hfsplus", "nilfs2", "bcachefs", "tmpfs", "ramfs"};
  if (ImmutableFilesystemType(fs_type)) return true;
  for (auto t : kTypes) {
    if (fs_type == t) return true;
  }
  return false;
}

bool SuperOptionsReadOnly(std::string_view super_options) {
  // The kernel prints the superblock's "ro" or "rw" first (show_mountinfo), then the
  // filesystem's own options: only the first one is the flag.
  return super_options.substr(0, super_options.find(',')) == "ro";
}

bool SuperblockQualifies(const SuperblockState& sb, KernelCacheScope scope) {
  switch (scope) {
    case KernelCacheScope::kOff:
      return false;
    case KernelCacheScope::kImmutable:
      return sb.read_only && ImmutableFilesystemType(sb.fs_type);
    case KernelCacheScope::kReadOnly:
      return sb.read_only && LocalStorageFilesystemType(sb.fs_type);
  }
  return false;
}

}  // namespace lockd
