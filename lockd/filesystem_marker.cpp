#include "lockd/filesystem_marker.h"

#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "lockd/os/mount_holders.h"
#include "lockd/os/mount_object.h"

namespace lockd {

namespace {

bool IsUntrusted(const std::string& fs_type) {
  const os::FsClass c = os::ClassifyFilesystem(fs_type);
  return c == os::FsClass::kNetwork || c == os::FsClass::kFuse;
}

std::string Join(const std::string& prefix, const std::string& path) {
  if (prefix.empty()) return path;
  return path == "/" ? prefix : prefix + path;
}

std::string Label(const os::MountEntry& m, const NamespaceMounts& ns) {
  if (ns.own) return m.mount_point;
  return m.mount_point + " (mount namespace " + std::to_string(ns.ns_ino) + ")";
}

// The paths that may lead to `m` in `ns`: its mount point in each view that shows it (as that
// view's process sees it), then, for an entry only listmount showed, its mount point (relative
// to the namespace's root) below each view's root.
std::vector<std::string> CandidatePaths(const os::MountEntry& m, const NamespaceMounts& ns) {
  std::vector<std::string> out;
  for (const auto& view : ns.views) {
    for (const auto& v : view.mounts) {
      if (v.mount_id == m.mount_id) out.push_back(Join(view.prefix, v.mount_point));
    }
  }
  if (out.empty()) {
    for (const auto& view : ns.views) out.push_back(Join(view.prefix, m.mount_point));
  }
  return out;
}

}  // namespace

FilesystemMarker::FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask, WatchList watch,
                                   os::MarkMask untrusted_mask, os::FanotifyGroup* untrusted_group)
    : group_(group),
      untrusted_group_(untrusted_group),
      mask_(mask),
      watch_(std::move(watch)),
      untrusted_mask_(untrusted_mask) {}

hashdb::Result<os::GroupMarks> FilesystemMarker::ReadMarks() const {
  auto marks = os::ReadGroupMarks(group_.fd());
  if (!marks.ok() || untrusted_group_ == nullptr) return marks;
  auto more = os::ReadGroupMarks(untrusted_group_->fd());
  if (!more.ok()) return more.error();
  for (const auto& [dev, m] : more->filesystems) marks->filesystems[dev] |= m;
  for (const auto& [id, m] : more->mounts) marks->mounts[id] |= m;
  return marks;
}

void FilesystemMarker::SetOnSuperblockChange(std::function<void(std::uint64_t dev)> callback) {
  on_superblock_change_ = std::move(callback);
}

void FilesystemMarker::SetOnPublish(std::function<void()> callback) {
  on_publish_ = std::move(callback);
}

bool FilesystemMarker::MarkThrough(const std::string& path, const Target& target,
                                   const std::string& via, std::vector<std::string>& failures) {
  const os::MountEntry& m = *target.entry;
  auto pinned = os::PinPath(path);
  if (!pinned.ok()) return false;  // the path leads nowhere now: try the next way in
  const os::ObjectIdentity& id = pinned->id;
  // Only the very mount that was selected: a path that now leads elsewhere (a covering mount,
  // a changed table, a chrooted view) must never put a mark on another filesystem, which with
  // a watch list could be the host's root.
  bool same = false;
  if (id.mount_id >= 0 && m.mount_id > 0) {
    same = id.mount_id == m.mount_id;
  } else if (id.unique_id != 0 && m.unique_id != 0) {
    same = id.unique_id == m.unique_id;
  } else {
    same = id.dev == m.dev();
  }
  if (!same) return false;
  if (id.fs_magic == os::kOverlayfsMagic) return false;  // never an overlay (mount_selection.h)
  const bool untrusted = IsUntrusted(m.fs_type);
  os::FanotifyGroup& group = untrusted && untrusted_group_ != nullptr ? *untrusted_group_ : group_;
  auto kind = group.Mark(pinned->MarkPath(), untrusted ? untrusted_mask_ : mask_);
  if (!kind.ok()) {
    failures.push_back(target.mount_label + ": " + kind.error().message);
    return false;
  }
  MarkedFilesystem marked{
      static_cast<std::uint64_t>(m.dev()), target.mount_label, m.fs_type, *kind, untrusted, via};
  if (*kind == os::MarkKind::kMount) {
    if (!target.own) {
      failures.push_back(target.mount_label + ": only a mount mark (this mount alone is covered)");
    }
    std::lock_guard lock(mu_);
    by_mount_[m.mount_id] = std::move(marked);
    return true;
  }
  placed_[m.dev()] = std::move(marked);
  return true;
}

SyncReport FilesystemMarker::Sync(const std::vector<NamespaceMounts>& namespaces) {
  SyncReport report;
  // The tables were read before this: a superblock the kernel lists now was alive after the
  // table showed its device, so the table's entry is that superblock (or one that died since).
  auto before = ReadMarks();
  const os::GroupMarks marks = before.ok() ? *before : os::GroupMarks{};

  struct Pending {
    Target target;
    std::vector<const os::MountEntry*> alternatives;
  };
  std::vector<Pending> unreached;
  for (const auto& ns : namespaces) {
    const auto selected =
        ns.own ? SelectMounts(ns.mounts, watch_) : SelectForeignMounts(ns.mounts, watch_);
    for (const auto& group : UnmarkedTargets(selected, marks)) {
      bool done = false;
      for (const auto& m : group) {
        // `group` lives only in this loop: find the same entry in ns.mounts for Pending.
        const os::MountEntry* entry = nullptr;
        for (const auto& e : ns.mounts) {
          if (e.mount_id == m.mount_id) entry = &e;
        }
        if (entry == nullptr) continue;
        Target target{entry, Label(*entry, ns), ns.own};
        for (const auto& path : CandidatePaths(*entry, ns)) {
          if (MarkThrough(path, target, "", report.failures)) {
            done = true;
            break;
          }
        }
        if (done) break;
      }
      if (done) {
        ++(ns.own ? report.added : report.added_foreign);
        continue;
      }
      Pending p;
      for (const auto& m : group) {
        for (const auto& e : ns.mounts) {
          if (e.mount_id == m.mount_id) p.alternatives.push_back(&e);
        }
      }
      if (p.alternatives.empty()) continue;
      p.target = Target{p.alternatives.front(), Label(*p.alternatives.front(), ns), ns.own};
      unreached.push_back(std::move(p));
    }
  }

  // No path leads to these mounts: through a process that holds one, if any does.
  if (!unreached.empty()) {
    std::set<int> ids;
    for (const auto& p : unreached) {
      for (const auto* e : p.alternatives) ids.insert(e->mount_id);
    }
    const auto holders = os::FindMountHolders(ids, ::getpid());
    for (auto& p : unreached) {
      bool done = false;
      for (const auto* e : p.alternatives) {
        for (const auto& h : holders) {
          if (h.mount_id != e->mount_id) continue;
          Target t{e, p.target.mount_label, p.target.own};
          if (MarkThrough(h.path, t, h.path, report.failures)) {
            done = true;
            break;
          }
        }
        if (done) break;
      }
      if (done) {
        ++(p.target.own ? report.added : report.added_foreign);
      } else {
        report.unreachable.push_back(p.target.mount_label +
                                     ": covered by another mount or outside every process's "
                                     "root, and no process holds it");
      }
    }
  }

  auto after = ReadMarks();
  const os::GroupMarks now = after.ok() ? *after : marks;
  CheckOverlays(namespaces, now);
  Publish(now, &namespaces);
  return report;
}

FilesystemMarker::NewMount FilesystemMarker::MarkNew(const os::MountEntry& entry,
                                                     bool own_namespace,
                                                     const std::vector<std::string>& prefixes,
                                                     std::vector<std::string>& failures) {
  const std::vector<os::MountEntry> one{entry};
  const auto selected =
      own_namespace ? SelectMounts(one, watch_) : SelectForeignMounts(one, watch_);
  // A lone entry cannot show whether it holds a watch path's parent: with a watch list only
  // mounts at or below a watch path are taken here; the next full Sync sees the rest.
  if (selected.empty()) return NewMount::kSkipped;
  if (watch_ && std::none_of(watch_->begin(), watch_->end(), [&](const std::string& w) {
        return os::PathIsAtOrBelow(entry.mount_point, w);
      })) {
    return NewMount::kSkipped;
  }
  auto marks = ReadMarks();
  if (marks.ok() && UnmarkedTargets(selected, *marks).empty()) return NewMount::kSkipped;
  const std::string label = own_namespace ? entry.mount_point : entry.mount_point + " (new mount)";
  Target target{&entry, label, own_namespace};
  bool done = false;
  for (const auto& prefix : prefixes) {
    if (MarkThrough(Join(prefix, entry.mount_point), target, "", failures)) {
      done = true;
      break;
    }
  }
  if (!done) return NewMount::kUnreached;
  auto after = ReadMarks();
  if (after.ok()) Publish(*after, nullptr);
  return NewMount::kMarked;
}

bool FilesystemMarker::Wanted(const os::MountEntry& overlay, bool own) const {
  if (!watch_) return true;
  for (const auto& w : *watch_) {
    if (os::PathIsAtOrBelow(overlay.mount_point, w)) return true;
    if (own && os::PathIsAtOrBelow(w, overlay.mount_point) && overlay.mount_point != "/") {
      return true;  // a watch path inside the overlay
    }
  }
  return false;
}

void FilesystemMarker::CheckOverlays(const std::vector<NamespaceMounts>& namespaces,
                                     const os::GroupMarks& marks) {
  std::vector<OverlayLayer> layers_found;
  std::vector<std::string> gaps;
  std::set<dev_t> seen;  // an overlay mounted in several namespaces is checked once
  for (const auto& ns : namespaces) {
    for (const auto& m : ns.mounts) {
      if (os::ClassifyFilesystem(m.fs_type) != os::FsClass::kOverlay || !Wanted(m, ns.own) ||
          !seen.insert(m.dev()).second) {
        continue;
      }
      const std::string label = Label(m, ns);
      const OverlayLayers layers = ParseOverlayLayers(m.super_options);
      std::vector<std::pair<std::string, std::string>> named;  // role, path
      for (const auto& l : layers.lower) named.emplace_back("lower", l);
      if (!layers.upper.empty()) named.emplace_back("upper", layers.upper);
      std::vector<LayerFinding> findings;
      for (const auto& [role, path] : named) {
        LayerFinding f{role, path, std::nullopt, ""};
        if (path.empty() || path[0] != '/') {
          f.problem =
              "a relative path, resolved against the mounter's working directory at mount "
              "time: it cannot be followed now";
        } else {
          std::vector<std::string> prefixes;
          for (const auto& view : ns.views) prefixes.push_back(view.prefix);
          if (prefixes.empty()) prefixes.push_back("");
          for (const auto& prefix : prefixes) {
            const std::string reach = Join(prefix, path);
            auto id = os::IdentifyPath(reach, /*want_unique=*/false);
            if (!id.ok()) continue;
            f.dev = id->dev;
            layers_found.push_back({m.mount_point, ns.own ? "" : label, reach, id->dev});
            break;
          }
          if (!f.dev) f.problem = "its path does not lead anywhere now (detached or removed)";
        }
        findings.push_back(std::move(f));
      }
      for (auto& g : lockd::OverlayGaps(label, findings, marks)) gaps.push_back(std::move(g));
    }
  }
  std::sort(gaps.begin(), gaps.end());
  std::lock_guard lock(mu_);
  overlay_layers_ = std::move(layers_found);
  overlay_gaps_ = std::move(gaps);
}

void FilesystemMarker::Publish(const os::GroupMarks& marks,
                               const std::vector<NamespaceMounts>* namespaces) {
  // Describe each marked superblock from the tables (lockd's own namespace first), else from
  // how lockd marked it.
  std::map<dev_t, MarkedFilesystem> by_dev;
  std::set<dev_t> untrusted;
  std::set<int> known;
  if (namespaces != nullptr) {
    for (const auto& ns : *namespaces) {
      for (const auto& m : ns.mounts) {
        known.insert(m.mount_id);
        if (marks.filesystems.count(m.dev()) == 0 || by_dev.count(m.dev()) != 0) continue;
        by_dev[m.dev()] =
            MarkedFilesystem{static_cast<std::uint64_t>(m.dev()), Label(m, ns), m.fs_type,
                             os::MarkKind::kFilesystem, IsUntrusted(m.fs_type), "",
                             // Only in lockd's own namespace: a superblock
                             // seen only elsewhere may belong to a user
                             // namespace whose owner makes it writable at will.
                             ns.own && SuperOptionsReadOnly(m.super_options)};
      }
    }
  }
  std::erase_if(placed_, [&](const auto& kv) { return marks.filesystems.count(kv.first) == 0; });
  for (const auto& [dev, f] : marks.filesystems) {
    if (by_dev.count(dev) != 0) {
      if (auto p = placed_.find(dev); p != placed_.end()) by_dev[dev].via = p->second.via;
      continue;
    }
    if (auto p = placed_.find(dev); p != placed_.end()) {
      by_dev[dev] = p->second;
    } else {
      std::lock_guard lock(mu_);
      if (auto old = by_dev_.find(dev); old != by_dev_.end()) {
        by_dev[dev] = old->second;
      } else {
        // Marked by an earlier decider on this group, and not in any table read now.
        by_dev[dev] = MarkedFilesystem{static_cast<std::uint64_t>(dev),
                                       "(not in a mount table)",
                                       "",
                                       os::MarkKind::kFilesystem,
                                       false,
                                       ""};
      }
    }
  }
  for (const auto& [dev, f] : by_dev) {
    if (f.untrusted) untrusted.insert(dev);
  }
  std::vector<std::uint64_t> changed;
  {
    std::lock_guard lock(mu_);
    for (const auto& [dev, mask] : marks_.filesystems) {
      if (marks.filesystems.count(dev) == 0) changed.push_back(dev);
    }
    for (const auto& [dev, mask] : marks.filesystems) {
      if (marks_.filesystems.count(dev) == 0) changed.push_back(dev);
    }
    std::erase_if(by_mount_, [&](const auto& kv) { return marks.mounts.count(kv.first) == 0; });
    for (const auto& [id, m] : by_mount_) {
      if (m.untrusted) untrusted.insert(static_cast<dev_t>(m.dev));
    }
    marks_ = marks;
    by_dev_ = std::move(by_dev);
    untrusted_devs_ = std::move(untrusted);
    if (namespaces != nullptr) known_mount_ids_ = std::move(known);
  }
  if (on_superblock_change_) {
    for (auto dev : changed) on_superblock_change_(dev);
  }
  if (on_publish_) on_publish_();
}

void FilesystemMarker::UnmarkAll() {
  (void)os::FlushGroupMarks(group_.fd());
  if (untrusted_group_ != nullptr) (void)os::FlushGroupMarks(untrusted_group_->fd());
  std::lock_guard lock(mu_);
  marks_ = {};
  by_dev_.clear();
  by_mount_.clear();
  untrusted_devs_.clear();
  placed_.clear();
}

bool FilesystemMarker::FilesystemMarked(std::uint64_t dev) const {
  std::lock_guard lock(mu_);
  auto it = marks_.filesystems.find(static_cast<dev_t>(dev));
  return it != marks_.filesystems.end() && os::MaskReportsWrites(it->second);
}

bool FilesystemMarker::Untrusted(std::uint64_t dev) const {
  std::lock_guard lock(mu_);
  return untrusted_devs_.count(static_cast<dev_t>(dev)) != 0;
}

std::vector<MarkedFilesystem> FilesystemMarker::Marked() const {
  std::lock_guard lock(mu_);
  std::vector<MarkedFilesystem> out;
  for (const auto& [dev, m] : by_dev_) out.push_back(m);
  for (const auto& [id, m] : by_mount_) out.push_back(m);
  return out;
}

std::vector<SuperblockState> FilesystemMarker::LocalSuperblocks() const {
  std::lock_guard lock(mu_);
  std::vector<SuperblockState> out;
  for (const auto& [dev, m] : by_dev_) {
    if (m.untrusted || m.kind != os::MarkKind::kFilesystem) continue;
    out.push_back({m.dev, m.fs_type, m.read_only});
  }
  return out;
}

std::vector<std::string> FilesystemMarker::OverlayGaps() const {
  std::lock_guard lock(mu_);
  return overlay_gaps_;
}

std::string FilesystemMarker::EventPath(int fd, const std::string& raw) const {
  auto id = os::IdentifyFd(fd);
  if (!id.ok() || raw.empty() || raw[0] != '/') return raw;
  std::vector<OverlayLayer> candidates;
  {
    std::lock_guard lock(mu_);
    if (known_mount_ids_.count(id->mount_id) != 0) return raw;
    for (const auto& l : overlay_layers_) {
      if (l.dev == id->dev) candidates.push_back(l);
    }
  }
  if (candidates.empty()) return raw;
  for (const auto& l : candidates) {
    auto there = os::IdentifyPath(Join(l.path, raw), /*want_unique=*/false);
    if (there.ok() && there->dev == id->dev && there->ino == id->ino) {
      std::string path = Join(l.overlay == "/" ? "" : l.overlay, raw);
      return l.namespace_note.empty() ? path : path + " (via " + l.namespace_note + ")";
    }
  }
  return raw + " (relative to an overlay layer on device " + std::to_string(::major(id->dev)) +
         ":" + std::to_string(::minor(id->dev)) + ")";
}

}  // namespace lockd
