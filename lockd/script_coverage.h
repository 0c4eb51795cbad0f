#pragma once
// Script coverage beyond names and modes (issue 11 items 1-3): who counts as an interpreter,
// and which files an interpreter process was told to run. Used by TriageOpen
// (lockd/coverage_gate.h) on the event loop thread only, and only for plain opens that the
// cheap rules (lockd/coverage.h rules 0-2) did not already settle.
//
//  - An opener is an interpreter when its executable's basename is one of the policy's
//    interpreters, OR the content of its executable is flagged as an interpreter in the signed
//    database (hashdb::LookupResult::interpreter): a byte-identical copy under any name is
//    still an interpreter. The executable's digest is cached by file version (dev, ino, size,
//    mtime, ctime, mode, owner: FileFacts::SameVersion). ScriptCoverage does not hash what
//    lockd judges: the ExecDecider hands over the digest of every exec'd file it hashed or
//    found in its cache (NoteDigest, before the exec is answered, so a copy never runs a
//    single open unrecognised). Only an executable whose exec lockd did not judge by content
//    (started before lockd, denied unread but run in audit mode) is hashed here, on a
//    background thread, never on the event loop thread; one on a FUSE or network filesystem,
//    or on a filesystem lockd does not mark, is never read here (a server could hold the read;
//    an unmarked one is decided by name anyway). Until its digest is known the
//    opener counts as an interpreter for script-like files (coverage.h rule 2) when its
//    executable is on a filesystem whose execs lockd checks (the safe direction: the open is
//    judged, so an allowlisted script still opens), but not for rule 2b (a compiler's first
//    run would have the sources named on its command line denied), and by name only
//    elsewhere (lockd enforces nothing on an unmarked filesystem: a program there is outside
//    the allowlist whatever its name).
//  - A file an interpreter opens is a script when it is the file its command line names as the
//    program (lockd/script_arguments.h) or a start-up file its environment names (BASH_ENV,
//    ENV, PYTHONSTARTUP, ...), compared by dev + ino of the event fd with the path resolved as
//    the process resolves it (lockd/os/process_args.h), never by the path string.
//
// Everything it asks of the kernel goes through os::EventKernel (the executable's path and
// identity, the command line and environment, the lookups, the background hasher's open), so
// the event loop's tests run it over FakeEventKernel.
//
// Per process, the parsed command line and environment are cached until the process execs
// another image (an exec event for the pid, or its old address space gone) or exits, so /proc
// is read once per interpreter image, not once per open.
//
// Known limits (docs/threat-model.md): a name swapped between the interpreter's open and
// lockd's lookup (microseconds, a race the attacker must win while lockd remembers what each
// name resolved to before); code passed inline (-c, -e, command substitution in BASH_ENV); a
// vfork child that execs the same interpreter from a filesystem lockd does not mark.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "hashdb/database.h"
#include "hashdb/digest.h"
#include "lockd/file_facts.h"
#include "lockd/filesystem_marker.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/process_args.h"
#include "lockd/script_arguments.h"

namespace lockd {

enum class Tristate { kNo, kYes, kUnknown };

struct OpenerInfo {
  Tristate interpreter = Tristate::kUnknown;
  std::string exe;    // the path of /proc/<pid>/exe ("" when unreadable)
  os::FileId exe_id;  // dev + ino of the executable (0/0 when not read: by name, or gone)
};

class ScriptCoverage {
 public:
  // `kernel` must outlive this object. `coverage` says which filesystems lockd checks execs
  // on (FilesystemMarked or Untrusted) and which are untrusted; null: every filesystem is
  // checked and none untrusted (tests). background_hasher false: tests call HashPending.
  explicit ScriptCoverage(os::EventKernel& kernel, const FilesystemCoverage* coverage = nullptr,
                          bool background_hasher = true);
  ~ScriptCoverage();
  ScriptCoverage(const ScriptCoverage&) = delete;
  ScriptCoverage& operator=(const ScriptCoverage&) = delete;

  // Whether process `pid` is an interpreter under `interpreters` and `db` (may be null: names
  // only). kUnknown: the executable cannot be read, or its digest is not known yet (a hash is
  // queued for the background thread); callers treat kUnknown like kYes. Never reads a file:
  // /proc and the digest cache only. Event loop thread.
  OpenerInfo Opener(pid_t pid, const std::vector<std::string>& interpreters,
                    const hashdb::Database* db);

  // Whether the file `file` (dev + ino of the event fd) is named as code by the command line or
  // environment of interpreter process `pid`. kUnknown when /proc cannot be read or a name
  // could not be resolved from the dentry cache and was never resolved before: judge.
  // Event loop thread.
  Tristate NamedByProcess(pid_t pid, const OpenerInfo& opener, const FileFacts& file);

  // An exec permission event of `pid`: its cached command line is dropped (a new image
  // follows). Event loop thread.
  void OnExec(pid_t pid);

  // The digest of the content of file version `facts`, as the ExecDecider computed it through
  // the event fd with the version checked before and after (or as its cache holds it). Any
  // thread; called before the exec is answered. Stored so that no one hashes this version
  // again (the decider's hash is the only one).
  void NoteDigest(const FileFacts& facts, const hashdb::Digest& digest);

  // Hashes everything queued (the background thread's work; for tests without the thread).
  void HashPending();

  // Cache sizes and work done, for tests and status.
  std::size_t processes_cached() const { return processes_.size(); }
  std::size_t digests_cached() const;
  std::uint64_t proc_reads() const { return proc_reads_; }
  // Files hashed by ScriptCoverage itself (the background hasher): executables whose digest
  // the decider did not hand over.
  std::uint64_t own_hashes() const { return own_hashes_.load(); }

  static constexpr std::size_t kMaxProcesses = 256;
  static constexpr std::size_t kMaxDigests = 65536;
  static constexpr std::size_t kMaxQueued = 256;

 private:
  // What FileFacts::SameVersion compares: a digest belongs to exactly this version.
  using VersionKey = std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t,
                                std::int64_t, std::uint32_t, std::uint32_t>;
  static VersionKey KeyOf(const FileFacts& f) {
    return {f.dev, f.ino, f.size, f.mtime_ns, f.ctime_ns, f.mode, f.uid};
  }
  struct Candidate {
    std::string path;
    bool search_path = false;
    std::vector<os::FileId> seen;  // what it resolved to before (union: never forgotten)
  };
  struct Process {
    os::ProcessImage image;
    os::FileId exe;        // 0/0 when the opener was recognised by name
    std::string exe_path;  // the path of /proc/<pid>/exe when the cache entry was made
    std::vector<Candidate> candidates;
    std::string path_var;
    std::uint64_t last_use = 0;
  };
  struct Job {
    FileFacts facts;
    pid_t pid = 0;
  };

  Process* ProcessFor(pid_t pid, const OpenerInfo& opener);
  void Enqueue(const FileFacts& facts, pid_t pid);
  void Store(const FileFacts& facts, const hashdb::Digest& digest);
  void HasherLoop();

  os::EventKernel& kernel_;
  const FilesystemCoverage* const coverage_;
  // Event loop thread only.
  std::unordered_map<pid_t, Process> processes_;
  std::uint64_t clock_ = 0;
  std::uint64_t proc_reads_ = 0;
  std::atomic<std::uint64_t> own_hashes_{0};
  // Shared with the decider's workers and the hasher thread.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<VersionKey, hashdb::Digest> digests_;
  std::deque<Job> queue_;
  std::map<VersionKey, bool> queued_;
  bool stop_ = false;
  std::thread hasher_;
};

}  // namespace lockd
