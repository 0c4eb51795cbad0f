#pragma once
// Which superblocks lockd leaves to the kernel (kernel_cache.h), and the pure rules for it:
// lockd.toml's `kernel_cache` setting, what counts as an immutable filesystem type, and how a
// superblock's read-only flag is read from its mountinfo super options.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockd {

enum class KernelCacheScope {
  kOff,        // lockd answers every event
  kImmutable,  // read-only filesystem types only (their opens too, no watch needed)
  kReadOnly,   // every read-only superblock of a local-storage type (default)
};

// "off", "immutable", "read-only"; nullopt for anything else.
std::optional<KernelCacheScope> ParseKernelCacheScope(std::string_view text);
const char* KernelCacheScopeName(KernelCacheScope scope);

// Filesystem types that have no write support in the kernel.
bool ImmutableFilesystemType(std::string_view fs_type);
// Filesystem types whose content only this kernel writes (a local block device or memory, and
// the immutable types): never a share another machine or the host can change (virtiofs,
// vboxsf, a cluster filesystem on a shared disk), which raises no event here. Scope kReadOnly
// takes only these: unknown types stay with lockd.
bool LocalStorageFilesystemType(std::string_view fs_type);
// Whether the superblock options of a mountinfo line ("ro,relatime,...") say read-only: the
// first option, which the kernel always prints as "ro" or "rw".
bool SuperOptionsReadOnly(std::string_view super_options);

// A marked local superblock as the last pass over the mount tables saw it.
struct SuperblockState {
  std::uint64_t dev = 0;
  std::string fs_type;
  bool read_only = false;  // the superblock's own "ro" option
};

// Whether files of this superblock may be left to the kernel under `scope` (pure).
bool SuperblockQualifies(const SuperblockState& sb, KernelCacheScope scope);

}  // namespace lockd
