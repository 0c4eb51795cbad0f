#pragma once
// Placing the marks: every superblock selected by mount_selection.h gets a filesystem mark
// (FAN_MARK_FILESYSTEM: every mount of it, in every namespace, and overlay's private clones of
// it), where the kernel refuses that a mount mark on the mount. Local filesystems get `mask`,
// untrusted ones (FUSE, network) `untrusted_mask`, in the untrusted group when there is one
// (untrusted_reader.h: the kernel's open of their files for lockd is a request to their
// server, which may never answer, so they are read by a reader of their own).
//
// What is marked is what the kernel says (os/fanotify_marks.h), read before and after each
// pass, never a memory of device numbers: a superblock that was unmounted takes its mark with
// it, and a new one that got the same device number is marked afresh.
//
// How a mount is reached: by its mount point, seen from lockd's root or from the root of a
// process in its namespace (/proc/<pid>/root/...); when no such path leads to it (it is covered
// by a later mount on the same mount point, or outside every root), through a process that
// still holds it (/proc/<pid>/cwd, root, exe or fd/N). Each path is pinned with O_PATH and
// checked by statx to lead to that very mount before the mark is placed through the pinned
// descriptor (os/mount_object.h), so the mark lands on the superblock that was checked.
//
// Overlays are never marked (mount_selection.h); each overlay's layers are looked up through
// their paths and a layer whose filesystem has no filesystem mark is reported as a gap.
//
// Thread-safety: Sync and MarkNew run on the event loop thread; the queries may be called from
// any thread.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/kernel_cache_scope.h"
#include "lockd/mount_selection.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/fanotify_marks.h"
#include "lockd/os/mountinfo.h"

namespace lockd {

struct MarkedFilesystem {
  std::uint64_t dev = 0;
  std::string mount_point;  // where it is mounted (in another namespace: "<path> (mnt ns N)")
  std::string fs_type;
  os::MarkKind kind = os::MarkKind::kFilesystem;
  bool untrusted = false;  // FUSE or network: marked with the untrusted mask
  std::string via{};       // the holder it was marked through when no path led to it
  // The superblock's own "ro" option as lockd's own mount namespace's table showed it at the
  // last read (false when not read from that table: the safe direction for kernel_cache.h; a
  // superblock seen only in other namespaces may be owned by a user namespace, whose owner
  // can make it writable again without any notification).
  bool read_only = false;
};

// One mount namespace as the discovery read it (mount_discovery.h).
struct NamespaceMounts {
  bool own = false;          // lockd's own: paths are used as they are
  std::uint64_t ns_ino = 0;  // for messages
  // Every mount of the namespace (listmount, or the union of the views).
  std::vector<os::MountEntry> mounts;
  // How its paths can be reached: one view per distinct process root, each with the prefix
  // that leads to that root from lockd ("" for lockd's own, "/proc/<pid>/root" otherwise) and
  // the mount table as that process sees it (mount points relative to its root).
  struct View {
    std::string prefix;
    std::vector<os::MountEntry> mounts;
  };
  std::vector<View> views;
};

struct SyncReport {
  std::size_t added = 0;              // superblocks (or mounts) newly marked, lockd's namespace
  std::size_t added_foreign = 0;      // the same, found in other mount namespaces
  std::vector<std::string> failures;  // "mount point: reason", marks that could not be placed
  // Selected mounts no path leads to and no process holds: nothing can run from them now; they
  // are marked as soon as a way in appears.
  std::vector<std::string> unreachable;
};

// What the event path asks about the marks (FilesystemMarker answers; unit tests fake it).
class FilesystemCoverage {
 public:
  virtual ~FilesystemCoverage() = default;
  // Whether files with this st_dev are under a filesystem mark that reports writes (so the
  // decision cache may be used for them). Thread-safe.
  virtual bool FilesystemMarked(std::uint64_t dev) const = 0;
  // Whether files with this st_dev are on a marked FUSE or network filesystem. Thread-safe.
  virtual bool Untrusted(std::uint64_t dev) const = 0;
  // The path an audit record gives for an event fd whose readlink is `raw` (see
  // FilesystemMarker::EventPath: files opened through an overlay). Thread-safe.
  virtual std::string EventPath(int fd, const std::string& raw) const = 0;
};

class FilesystemMarker : public FilesystemCoverage {
 public:
  // untrusted_group: where FUSE and network filesystems are marked (null: in `group`). Both
  // groups must outlive the marker.
  FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask, WatchList watch,
                   os::MarkMask untrusted_mask = os::MarkMask{true, false, false},
                   os::FanotifyGroup* untrusted_group = nullptr);

  // Called (on the loop thread) with the device number of every superblock that lockd newly
  // marked or whose mark disappeared (it was unmounted): whatever is remembered about files
  // with that st_dev belongs to another superblock. The daemon drops them from the decision
  // cache.
  void SetOnSuperblockChange(std::function<void(std::uint64_t dev)> callback);
  // Called (on the loop thread) after every pass that re-described the marks (each Sync and
  // MarkNew), once Marked() shows the new state: kernel_cache.h follows read-only superblocks.
  void SetOnPublish(std::function<void()> callback);

  // Marks every selected superblock of these namespaces that has no mark, then checks every
  // overlay's layers (gaps: OverlayGaps). Errors on one mount do not stop the others.
  SyncReport Sync(const std::vector<NamespaceMounts>& namespaces);

  // Marks one mount learnt of from a mount notification, reached through `prefixes` (see
  // NamespaceMounts::View; the entry's mount point is taken as relative to each).
  enum class NewMount {
    kMarked,     // a new mark was placed
    kSkipped,    // not selected (pseudo, overlay, outside the watch list) or already marked
    kUnreached,  // no prefix led to it (covered already, or its mounter chrooted): a full Sync
                 // looks for a process that holds it
  };
  NewMount MarkNew(const os::MountEntry& entry, bool own_namespace,
                   const std::vector<std::string>& prefixes, std::vector<std::string>& failures);

  // Removes every mark of both groups (shutdown). Best effort.
  void UnmarkAll();

  // Whether files with this st_dev are under a filesystem mark that reports writes (so the
  // decision cache may be used for them). Thread-safe.
  bool FilesystemMarked(std::uint64_t dev) const override;
  // Whether files with this st_dev are on a marked FUSE or network filesystem. Thread-safe.
  bool Untrusted(std::uint64_t dev) const override;
  // The mask local filesystems are marked with (fixed at start).
  const os::MarkMask& mask() const { return mask_; }
  std::vector<MarkedFilesystem> Marked() const;
  // The local (not FUSE or network) superblocks under a filesystem mark, with their type and
  // read-only flag as the last mount table read showed them (kernel_cache.h).
  std::vector<SuperblockState> LocalSuperblocks() const;
  // Overlay layers not covered, as of the last Sync ("overlay X: upper layer Y not covered
  // (...)"), sorted.
  std::vector<std::string> OverlayGaps() const;

  // A path for the audit record of an event fd: `raw` (readlink of the fd) unless the fd is on
  // a mount no table shows and its device holds a known overlay layer, where a file opened
  // through an overlay reports a path relative to overlay's private clone of the layer ("/true"):
  // then "<overlay mount point><raw>" when the layer holds that file, else raw marked as such.
  // Thread-safe; a few statx calls at most.
  std::string EventPath(int fd, const std::string& raw) const override;

 private:
  struct Target {
    const os::MountEntry* entry;
    std::string mount_label;  // mount point for messages and status
    bool own;
  };
  // Pins `path`, checks it leads to target's mount, marks through it. True when marked.
  bool MarkThrough(const std::string& path, const Target& target, const std::string& via,
                   std::vector<std::string>& failures);
  void CheckOverlays(const std::vector<NamespaceMounts>& namespaces, const os::GroupMarks& marks);
  void Publish(const os::GroupMarks& marks, const std::vector<NamespaceMounts>* namespaces);
  bool Wanted(const os::MountEntry& overlay, bool own) const;
  // What the kernel lists as marked, both groups together.
  hashdb::Result<os::GroupMarks> ReadMarks() const;

  os::FanotifyGroup& group_;
  os::FanotifyGroup* const untrusted_group_;
  const os::MarkMask mask_;
  const WatchList watch_;
  const os::MarkMask untrusted_mask_;
  std::function<void(std::uint64_t)> on_superblock_change_;
  std::function<void()> on_publish_;

  // Loop thread only: what lockd marked and how, by device (kept while the kernel lists it).
  std::map<dev_t, MarkedFilesystem> placed_;

  struct OverlayLayer {
    std::string overlay;         // its mount point
    std::string namespace_note;  // "" in lockd's namespace, else the overlay's label
    std::string path;            // the layer as lockd reaches it (prefix + layer path)
    dev_t dev = 0;
  };

  mutable std::mutex mu_;
  os::GroupMarks marks_;                      // the kernel's list, last read
  std::map<dev_t, MarkedFilesystem> by_dev_;  // filesystem marks, described
  std::map<int, MarkedFilesystem> by_mount_;  // mount marks, by mount id
  std::set<dev_t> untrusted_devs_;
  std::set<int> known_mount_ids_;  // every mount id of the last Sync's tables
  std::vector<OverlayLayer> overlay_layers_;
  std::vector<std::string> overlay_gaps_;
};

}  // namespace lockd
