#pragma once
// The system test bed's safety guard (tests/system/README.md). lockd in the bed runs with the
// shipped configuration: no watch list, so it marks EVERY filesystem it can see, and marks are
// per superblock. One superblock the bed shares with the host (the old root still attached, a
// bind of a host directory, the host's /proc, /sys or a cgroup filesystem) would put the host
// under enforcement. The bed therefore starts lockd only when the guard, run inside the bed,
// finds that every superblock visible there was created by the bed.
//
// The decision is pure (texts in, verdict out) and unit tested from captured mountinfo texts
// (tests/system/guard_test.cpp); guard_main.cpp reads the files and adds what stat(2) sees.
// This parser is deliberately not lockd's own (lockd/os/mountinfo.cpp): the guard must not
// share a bug with the program it protects the host from.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bedguard {

// One line of /proc/<pid>/mountinfo (proc(5)), paths unescaped. Empty fields (a source that is
// the empty string) are kept as empty strings.
struct MountLine {
  int mount_id = 0;
  int parent_id = 0;
  unsigned major = 0;
  unsigned minor = 0;
  std::string root;         // path inside the filesystem that is mounted here
  std::string mount_point;  // as seen in the reading process's mount namespace
  std::string fs_type;
  std::string source;
  std::string Device() const;  // "major:minor"
};

struct ParsedTable {
  std::vector<MountLine> lines;
  std::vector<std::string> errors;  // "<what> line N: reason"; any error means refuse
};

// Parses a whole mountinfo text. `what` names it in error messages (e.g. "host mountinfo").
// Fields are split on single spaces so that an empty field is seen as empty, never skipped.
ParsedTable ParseMountinfo(std::string_view text, std::string_view what);

// Filesystem types the bed creates itself: a loop-mounted ext4 root, tmpfs, its own proc and
// devpts instances, overlays, and what the day's checks mount. Anything else (sysfs, cgroup,
// debugfs, ...) exists in the bed only if it came from the host.
const std::set<std::string>& BedFilesystemTypes();

struct Verdict {
  // Why lockd must not start, one line each; empty means every superblock is the bed's.
  std::vector<std::string> refusals;
  // The bed's superblocks ("major:minor" -> "fs_type on mount point"), for the record.
  std::map<std::string, std::string> superblocks;
  bool ok() const { return refusals.empty(); }
};

// The guard's decision. host_text: the host's mount tables, taken BEFORE the bed's namespaces
// were entered (concatenated /proc/self/mountinfo and /proc/1/mountinfo of the host). bed_text:
// every mount table visible in the bed (concatenated /proc/<pid>/mountinfo of every process in
// the bed's pid namespace). Refuses when:
//  - a text does not parse, the host text is empty, or the bed shows no root mount;
//  - a bed mount's device number is the device of any host mount;
//  - a bed mount's type is not one of BedFilesystemTypes();
//  - a bed mount shows a sub-directory of a filesystem (root field other than "/") whose
//    device the bed does not also show mounted whole (a bind from something else);
//  - a mount point's name says it is the old root left attached (/.oldroot, /old_root, ...).
Verdict UnsharedSuperblocks(std::string_view host_text, std::string_view bed_text);

// What stat(2) reported for a mount point in the bed (st_dev).
struct Observed {
  std::string path;
  dev_t dev = 0;
};

// Adds refusals to `verdict` for observations that contradict the tables: a stat'ed st_dev
// that is the device of a host mount, or that no bed mount line shows. Pure.
void CheckObserved(std::string_view host_text, std::string_view bed_text,
                   const std::vector<Observed>& observed, Verdict& verdict);

}  // namespace bedguard
