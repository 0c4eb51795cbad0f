#include "lockd/filesystem_marker.h"

#include <sys/sysmacros.h>

#include <algorithm>

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

bool IsUntrusted(const os::MountEntry& m) {
  const os::FsClass c = os::ClassifyFilesystem(m.fs_type);
  return c == os::FsClass::kNetwork || c == os::FsClass::kFuse;
}

}  // namespace

std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const std::optional<std::vector<std::string>>& watch) {
  std::vector<os::MountEntry> selected;
  auto add = [&](const os::MountEntry& m) {
    if (os::ClassifyFilesystem(m.fs_type) == os::FsClass::kPseudo) return;
    for (const auto& s : selected) {
      if (s.mount_id == m.mount_id) return;
    }
    selected.push_back(m);
  };
  if (!watch) {
    for (const auto& m : mounts) add(m);
    return selected;
  }
  // Safety: with a watch list, the root filesystem is marked only when "/" itself is watched.
  // A watch path that is a plain directory of the root filesystem, or a bind mount of a root
  // directory below a watch path, would otherwise put a filesystem mark on the whole machine.
  const os::MountEntry* root = ContainingMount(mounts, "/");
  const bool root_watched =
      std::any_of(watch->begin(), watch->end(), [](const std::string& w) { return w == "/"; });
  auto add_watched = [&](const os::MountEntry& m) {
    if (root != nullptr && m.dev() == root->dev() && !root_watched) return;
    add(m);
  };
  for (const auto& w : *watch) {
    if (const os::MountEntry* c = ContainingMount(mounts, w)) add_watched(*c);
    for (const auto& m : mounts) {
      if (os::PathIsAtOrBelow(m.mount_point, w)) add_watched(m);
    }
  }
  return selected;
}

FilesystemMarker::FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask,
                                   std::optional<std::vector<std::string>> watch,
                                   os::MarkMask untrusted_mask)
    : group_(group), mask_(mask), watch_(std::move(watch)), untrusted_mask_(untrusted_mask) {}

bool FilesystemMarker::MarkOne(const std::string& path, const os::MountEntry& m,
                               bool filesystem_only, std::vector<std::string>& failures) {
  const bool untrusted = IsUntrusted(m);
  const os::MarkMask& mask = untrusted ? untrusted_mask_ : mask_;
  auto kind = group_.Mark(path, mask);
  if (!kind.ok()) {
    failures.push_back(m.mount_point + ": " + kind.error().message);
    return false;
  }
  MarkedFilesystem marked{m.dev(), filesystem_only ? path : m.mount_point, m.fs_type, *kind,
                          untrusted};
  std::lock_guard lock(mu_);
  if (filesystem_only) {
    if (*kind != os::MarkKind::kFilesystem) {
      // A mount mark through another namespace's path would cover only that one mount: keep
      // it (better than nothing) but say so.
      failures.push_back(m.mount_point + " (other mount namespace): only a mount mark");
    }
    foreign_[marked.dev] = std::move(marked);
  } else if (*kind == os::MarkKind::kFilesystem) {
    by_dev_[marked.dev] = std::move(marked);
  } else {
    by_mount_[m.mount_id] = std::move(marked);
  }
  if (untrusted) ++untrusted_devs_[m.dev()];
  return true;
}

std::size_t FilesystemMarker::Sync(const std::vector<os::MountEntry>& mounts,
                                   std::vector<std::string>& failures) {
  {
    // Forget marks of filesystems that are gone: a device number is reused by the next
    // filesystem mounted, which must then be marked afresh.
    std::lock_guard lock(mu_);
    auto gone = [&](const MarkedFilesystem& f) {
      if (f.untrusted && --untrusted_devs_[f.dev] <= 0) untrusted_devs_.erase(f.dev);
    };
    std::erase_if(by_dev_, [&](const auto& kv) {
      for (const auto& m : mounts) {
        if (m.dev() == kv.first) return false;
      }
      gone(kv.second);
      return true;
    });
    std::erase_if(by_mount_, [&](const auto& kv) {
      for (const auto& m : mounts) {
        if (m.mount_id == kv.first) return false;
      }
      gone(kv.second);
      return true;
    });
  }
  std::size_t added = 0;
  for (const auto& m : SelectMounts(mounts, watch_)) {
    {
      std::lock_guard lock(mu_);
      if (by_dev_.count(m.dev()) != 0 || by_mount_.count(m.mount_id) != 0) continue;
    }
    if (MarkOne(m.mount_point, m, false, failures)) ++added;
  }
  return added;
}

std::size_t FilesystemMarker::SyncForeign(pid_t pid, const std::vector<os::MountEntry>& mounts,
                                          std::vector<std::string>& failures) {
  std::size_t added = 0;
  const std::string root = "/proc/" + std::to_string(pid) + "/root";
  for (const auto& m : SelectMounts(mounts, watch_)) {
    // With a watch list, another namespace's mount that merely contains a watch path (its /,
    // its /tmp) is never marked: the watch path names a place in lockd's namespace, and that
    // filesystem is usually the host's root, so a filesystem mark there would enforce on the
    // whole machine. Only its mounts at or below a watch path are taken.
    if (watch_ && std::none_of(watch_->begin(), watch_->end(), [&](const std::string& w) {
          return os::PathIsAtOrBelow(m.mount_point, w);
        })) {
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (by_dev_.count(m.dev()) != 0 || foreign_.count(m.dev()) != 0) continue;
    }
    const std::string path = m.mount_point == "/" ? root : root + m.mount_point;
    if (MarkOne(path, m, true, failures)) ++added;
  }
  return added;
}

void FilesystemMarker::ForgetForeignExcept(const std::vector<std::uint64_t>& devs_seen) {
  std::lock_guard lock(mu_);
  std::erase_if(foreign_, [&](const auto& kv) {
    if (std::find(devs_seen.begin(), devs_seen.end(), kv.first) != devs_seen.end()) return false;
    if (kv.second.untrusted && --untrusted_devs_[kv.first] <= 0) untrusted_devs_.erase(kv.first);
    return true;
  });
}

void FilesystemMarker::UnmarkAll() {
  std::lock_guard lock(mu_);
  auto unmark = [&](const MarkedFilesystem& m) {
    (void)group_.Unmark(m.mount_point, m.kind, m.untrusted ? untrusted_mask_ : mask_);
  };
  for (const auto& [dev, m] : by_dev_) unmark(m);
  for (const auto& [id, m] : by_mount_) unmark(m);
  for (const auto& [dev, m] : foreign_) unmark(m);
  by_dev_.clear();
  by_mount_.clear();
  foreign_.clear();
  untrusted_devs_.clear();
}

bool FilesystemMarker::FilesystemMarked(std::uint64_t dev) const {
  std::lock_guard lock(mu_);
  auto it = by_dev_.find(dev);
  if (it != by_dev_.end()) return true;
  auto f = foreign_.find(dev);
  return f != foreign_.end() && f->second.kind == os::MarkKind::kFilesystem;
}

bool FilesystemMarker::Untrusted(std::uint64_t dev) const {
  std::lock_guard lock(mu_);
  return untrusted_devs_.count(dev) != 0;
}

std::vector<MarkedFilesystem> FilesystemMarker::Marked() const {
  std::lock_guard lock(mu_);
  std::vector<MarkedFilesystem> out;
  for (const auto& [dev, m] : by_dev_) out.push_back(m);
  for (const auto& [id, m] : by_mount_) out.push_back(m);
  for (const auto& [dev, m] : foreign_) out.push_back(m);
  return out;
}

}  // namespace lockd
