#pragma once
// Which mounts lockd marks and which overlay layers it must see marked: pure functions of mount
// tables and of what the kernel says is marked (tested without root, tests/lockd/
// mount_selection_test.cpp). The marking itself is in filesystem_marker.h.
//
// Rules:
//  - local filesystems are marked with the policy's mask, untrusted ones (FUSE, network) for
//    exec only, pseudo filesystems never;
//  - overlayfs is never marked: a mark on an overlay superblock whose layer is marked too makes
//    lockd's own read of the event fd raise a permission event on the layer, which waits for
//    the very thread that is reading (docs/threat-model.md, "Overlay filesystems"). Its files
//    are judged through the marks on the filesystems that hold its layers (filesystem marks
//    see overlay's private clones of the layer mounts; mount marks do not);
//  - with a `watch` list, only the filesystems the watch paths live on and every mount at or
//    below a watch path, and never the root filesystem unless "/" itself is watched. In another
//    mount namespace, only mounts at or below a watch path;
//  - a superblock counts as marked only when the kernel lists a filesystem mark for its device
//    (os/fanotify_marks.h): a device number reused by a new superblock is marked afresh.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lockd/os/fanotify_marks.h"
#include "lockd/os/mountinfo.h"

namespace lockd {

using WatchList = std::optional<std::vector<std::string>>;

// The mounts of lockd's own namespace to mark (each mount once, by mount id).
std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const WatchList& watch);
// The same for another mount namespace: with a watch list, a mount that merely contains a watch
// path (that namespace's /, its /tmp) is not taken: the watch path names a place in lockd's
// namespace, and that filesystem is usually the host's root.
std::vector<os::MountEntry> SelectForeignMounts(const std::vector<os::MountEntry>& mounts,
                                                const WatchList& watch);

// The selected mounts whose superblock has no filesystem mark in `marks` (and, for a mount that
// could only get a mount mark, whose mount has none): those to mark now. One entry per device
// (a bind mount of a superblock being marked through another entry adds nothing), all entries
// of a device kept in order as alternative ways to reach it: the first may be covered.
std::vector<std::vector<os::MountEntry>> UnmarkedTargets(
    const std::vector<os::MountEntry>& selected, const os::GroupMarks& marks);

// The union of several views of one namespace's mount table (one per distinct process root), by
// mount id, in first-seen order.
std::vector<os::MountEntry> MergeViews(const std::vector<std::vector<os::MountEntry>>& views);

// An overlay's layers as its superblock options name them (paths as the mounter gave them,
// unescaped: relative paths were resolved against the mounter's working directory then).
struct OverlayLayers {
  std::vector<std::string> lower;  // lowerdir (top first), lowerdir+ and data-only layers
  std::string upper;               // "" for a read-only overlay
  std::string work;
};
// Parses "lowerdir=/a\:b:/c::/data,upperdir=/u,workdir=/w" (colons in a path are escaped as
// "\:", "::" starts the data-only layers) and "lowerdir+=/a,datadir+=/d" (Linux 6.8+).
OverlayLayers ParseOverlayLayers(std::string_view super_options);

// One layer as lockd found it.
struct LayerFinding {
  std::string role;  // "lower", "upper"
  std::string path;  // as the overlay's options name it
  // The device its path leads to now; absent with `problem` when it could not be followed.
  std::optional<dev_t> dev;
  std::string problem;
};

// What lockd says about an overlay: one line per layer that is not covered, e.g.
// "overlay /srv/ovl: upper layer /tmp/u not covered (device 0:42 has no filesystem mark)".
// Empty when every layer is on a filesystem-marked superblock.
std::vector<std::string> OverlayGaps(std::string_view overlay,
                                     const std::vector<LayerFinding>& layers,
                                     const os::GroupMarks& marks);

}  // namespace lockd
