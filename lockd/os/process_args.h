#pragma once
// The /proc reads behind script coverage's command-line and environment rules
// (lockd/script_coverage.h): a process's argv and environment, and the identity (dev + ino) of
// a path as that process would resolve it. Called on the event loop thread for an
// interpreter's open, so nothing here may block on another process: no read of a file on a
// marked filesystem (the loop alone answers that open), and path lookups only from the kernel's
// dentry cache (RESOLVE_CACHED), never through a FUSE server, an automounter or the disk.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

struct FileId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// O_PATH descriptor of <proc_root>/<pid>: names this process, not a later one with the same
// pid (lookups under it fail once the process is gone).
hashdb::Result<hashdb::UniqueFd> OpenProcessDir(pid_t pid, const std::string& proc_root = "/proc");

// The whole of "cmdline" or "environ" under a process directory, split at NULs. Limit:
// 16 MiB (more than any argv + environ the kernel accepts); longer is an error, never a
// silently cut list (a start-up variable could sit at the end).
hashdb::Result<std::vector<std::string>> ReadProcessList(int process_dir, const char* name);

// An fd of "environ": it holds the address space the process had when opened. ProcessImageAlive
// reads one byte of it: false once that address space is gone (the process exec'd another
// image or exited) or when the environment is empty (then nothing can be proved: re-read).
hashdb::Result<hashdb::UniqueFd> OpenEnvironment(int process_dir);
bool ProcessImageAlive(int environ_fd);

// One image of a process, pinned and read once (script coverage caches it per process):
// `dir` is an O_PATH fd of <proc_root>/<pid> (lookups under it name this process, not a later
// one with the same pid), `environ` an open fd of its environ (it holds the address space the
// process had when opened: ProcessImageAlive), and the command line and environment read
// through them. The environ fd is opened before both lists are read, so an exec between the
// two reads shows as a dead image afterwards.
struct ProcessImage {
  hashdb::UniqueFd dir;
  hashdb::UniqueFd environ;
  std::vector<std::string> argv;
  std::vector<std::string> env;
};
// Errors: the process is gone, /proc is not readable, a list is longer than 16 MiB.
hashdb::Result<ProcessImage> ReadProcessImage(pid_t pid, const std::string& proc_root = "/proc");

enum class Lookup {
  kFound,      // id is set
  kAbsent,     // the path names nothing (or something we may not reach)
  kNotCached,  // the lookup would have to leave the dentry cache: unknown
};
struct Resolved {
  Lookup lookup = Lookup::kAbsent;
  FileId id;
};

// Resolves `path` as the process would: relative paths from its cwd, absolute ones inside its
// root (/proc/<pid>/cwd and /proc/<pid>/root, so in its mount namespace and chroot), following
// symlinks, from the dentry cache only. A symlink to an absolute path met on a relative lookup
// resolves against lockd's root (a gap inside chroots only).
Resolved ResolveForProcess(int process_dir, const std::string& path);

// $PATH lookup like bash's and perl -S's for a name without '/': the first directory of
// `path_var` (colon-separated, empty entries are the cwd) in which the name exists.
Resolved ResolveInSearchPath(int process_dir, const std::string& name, const std::string& path_var);

}  // namespace lockd::os
