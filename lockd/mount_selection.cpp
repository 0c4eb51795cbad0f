#include "lockd/mount_selection.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <set>

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

bool Markable(const os::MountEntry& m) {
  const os::FsClass c = os::ClassifyFilesystem(m.fs_type);
  return c != os::FsClass::kPseudo && c != os::FsClass::kOverlay;
}

class Selection {
 public:
  void Add(const os::MountEntry& m) {
    if (!Markable(m) || !ids_.insert(m.mount_id).second) return;
    selected_.push_back(m);
  }
  std::vector<os::MountEntry> Take() { return std::move(selected_); }

 private:
  std::set<int> ids_;
  std::vector<os::MountEntry> selected_;
};

// Splits an option string at commas. Commas inside a value reach us unescaped (libmount and
// statmount undo the kernel's \054), so a layer path holding a comma is split too: it then
// names a path that does not exist and is reported as not found, never taken as covered.
std::vector<std::string_view> SplitOptions(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string DevName(dev_t dev) {
  return std::to_string(::major(dev)) + ":" + std::to_string(::minor(dev));
}

}  // namespace

std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const WatchList& watch) {
  Selection selection;
  if (!watch) {
    for (const auto& m : mounts) selection.Add(m);
    return selection.Take();
  }
  // Safety: with a watch list, the root filesystem is marked only when "/" itself is watched.
  // A watch path that is a plain directory of the root filesystem, or a bind mount of a root
  // directory below a watch path, would otherwise put a filesystem mark on the whole machine.
  const os::MountEntry* root = ContainingMount(mounts, "/");
  const bool root_watched =
      std::any_of(watch->begin(), watch->end(), [](const std::string& w) { return w == "/"; });
  auto add_watched = [&](const os::MountEntry& m) {
    if (root != nullptr && m.dev() == root->dev() && !root_watched) return;
    selection.Add(m);
  };
  for (const auto& w : *watch) {
    if (const os::MountEntry* c = ContainingMount(mounts, w)) add_watched(*c);
    for (const auto& m : mounts) {
      if (os::PathIsAtOrBelow(m.mount_point, w)) add_watched(m);
    }
  }
  return selection.Take();
}

std::vector<os::MountEntry> SelectForeignMounts(const std::vector<os::MountEntry>& mounts,
                                                const WatchList& watch) {
  std::vector<os::MountEntry> out;
  for (auto& m : SelectMounts(mounts, watch)) {
    if (watch && std::none_of(watch->begin(), watch->end(), [&](const std::string& w) {
          return os::PathIsAtOrBelow(m.mount_point, w);
        })) {
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::vector<os::MountEntry>> UnmarkedTargets(
    const std::vector<os::MountEntry>& selected, const os::GroupMarks& marks) {
  std::vector<std::vector<os::MountEntry>> out;
  std::map<dev_t, std::size_t> index;
  for (const auto& m : selected) {
    if (marks.filesystems.count(m.dev()) != 0 || marks.mounts.count(m.mount_id) != 0) continue;
    auto [it, inserted] = index.try_emplace(m.dev(), out.size());
    if (inserted) out.emplace_back();
    out[it->second].push_back(m);
  }
  return out;
}

std::vector<os::MountEntry> MergeViews(const std::vector<std::vector<os::MountEntry>>& views) {
  std::vector<os::MountEntry> out;
  std::set<int> seen;
  for (const auto& view : views) {
    for (const auto& m : view) {
      if (seen.insert(m.mount_id).second) out.push_back(m);
    }
  }
  return out;
}

OverlayLayers ParseOverlayLayers(std::string_view super_options) {
  OverlayLayers layers;
  for (std::string_view opt : SplitOptions(super_options)) {
    const std::size_t eq = opt.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = opt.substr(0, eq);
    const std::string_view value = opt.substr(eq + 1);
    if (key == "upperdir") {
      layers.upper = std::string(value);
    } else if (key == "workdir") {
      layers.work = std::string(value);
    } else if (key == "lowerdir+" || key == "datadir+") {
      layers.lower.emplace_back(value);
    } else if (key == "lowerdir") {
      // "a:b::c": ':' separates layers, "::" starts the data-only ones, "\:" is a colon.
      std::string current;
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
          current.push_back(value[++i]);
        } else if (value[i] == ':') {
          if (!current.empty()) layers.lower.push_back(std::move(current));
          current.clear();
        } else {
          current.push_back(value[i]);
        }
      }
      if (!current.empty()) layers.lower.push_back(std::move(current));
    }
  }
  return layers;
}

std::vector<std::string> OverlayGaps(std::string_view overlay,
                                     const std::vector<LayerFinding>& layers,
                                     const os::GroupMarks& marks) {
  std::vector<std::string> gaps;
  const std::string head = "overlay " + std::string(overlay) + ": ";
  if (layers.empty()) {
    gaps.push_back(head + "no layer found in its options: its files are not covered");
    return gaps;
  }
  for (const auto& l : layers) {
    const std::string what = head + l.role + " layer " + l.path + " not covered";
    if (!l.dev) {
      gaps.push_back(what + " (" + l.problem + ")");
      continue;
    }
    auto it = marks.filesystems.find(*l.dev);
    if (it == marks.filesystems.end()) {
      gaps.push_back(what + " (its filesystem, device " + DevName(*l.dev) +
                     ", has no filesystem mark)");
    }
  }
  return gaps;
}

}  // namespace lockd
