#include "lockd/filesystem_marker.h"

#include <sys/sysmacros.h>

namespace lockd {

namespace {

// The mount a path lives on: the last mount (later mounts hide earlier ones) whose mount point
// is the longest prefix of the path.
const os::MountEntry* ContainingMount(const std::vector<os::MountEntry>& mounts,
                                      const std::string& path) {
  const os::MountEntry* best = nullptr;
  for (const auto& m : mounts) {
    if (!os::PathIsAtOrBelow(path, m.mount_point)) continue;
    if (best == nullptr || m.mount_point.size() >= best->mount_point.size()) best = &m;
  }
  return best;
}

}  // namespace

std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const std::optional<std::vector<std::string>>& watch) {
  std::vector<os::MountEntry> selected;
  auto add = [&](const os::MountEntry& m) {
    if (os::ClassifyFilesystem(m.fs_type) != os::FsClass::kLocal) return;
    for (const auto& s : selected) {
      if (s.mount_id == m.mount_id) return;
    }
    selected.push_back(m);
  };
  if (!watch) {
    for (const auto& m : mounts) add(m);
    return selected;
  }
  for (const auto& w : *watch) {
    if (const os::MountEntry* c = ContainingMount(mounts, w)) add(*c);
    for (const auto& m : mounts) {
      if (os::PathIsAtOrBelow(m.mount_point, w)) add(m);
    }
  }
  return selected;
}

FilesystemMarker::FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask,
                                   std::optional<std::vector<std::string>> watch)
    : group_(group), mask_(mask), watch_(std::move(watch)) {}

std::size_t FilesystemMarker::Sync(const std::vector<os::MountEntry>& mounts,
                                   std::vector<std::string>& failures) {
  {
    // Forget marks of filesystems that are gone: a device number is reused by the next
    // filesystem mounted, which must then be marked afresh.
    std::lock_guard lock(mu_);
    std::erase_if(by_dev_, [&](const auto& kv) {
      for (const auto& m : mounts) {
        if (m.dev() == kv.first) return false;
      }
      return true;
    });
    std::erase_if(by_mount_, [&](const auto& kv) {
      for (const auto& m : mounts) {
        if (m.mount_id == kv.first) return false;
      }
      return true;
    });
  }
  std::size_t added = 0;
  for (const auto& m : SelectMounts(mounts, watch_)) {
    const std::uint64_t dev = m.dev();
    {
      std::lock_guard lock(mu_);
      if (by_dev_.count(dev) != 0 || by_mount_.count(m.mount_id) != 0) continue;
    }
    auto kind = group_.Mark(m.mount_point, mask_);
    if (!kind.ok()) {
      failures.push_back(m.mount_point + ": " + kind.error().message);
      continue;
    }
    MarkedFilesystem marked{dev, m.mount_point, m.fs_type, *kind};
    std::lock_guard lock(mu_);
    if (*kind == os::MarkKind::kFilesystem) {
      by_dev_[dev] = std::move(marked);
    } else {
      by_mount_[m.mount_id] = std::move(marked);
    }
    ++added;
  }
  return added;
}

void FilesystemMarker::UnmarkAll() {
  std::lock_guard lock(mu_);
  for (const auto& [dev, m] : by_dev_) (void)group_.Unmark(m.mount_point, m.kind, mask_);
  for (const auto& [id, m] : by_mount_) (void)group_.Unmark(m.mount_point, m.kind, mask_);
  by_dev_.clear();
  by_mount_.clear();
}

bool FilesystemMarker::FilesystemMarked(std::uint64_t dev) const {
  std::lock_guard lock(mu_);
  return by_dev_.count(dev) != 0;
}

std::vector<MarkedFilesystem> FilesystemMarker::Marked() const {
  std::lock_guard lock(mu_);
  std::vector<MarkedFilesystem> out;
  for (const auto& [dev, m] : by_dev_) out.push_back(m);
  for (const auto& [id, m] : by_mount_) out.push_back(m);
  return out;
}

}  // namespace lockd
