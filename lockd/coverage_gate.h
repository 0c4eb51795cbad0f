#pragma once
// Where the coverage policy (hashdb::Policy: cover_shared_objects, cover_scripts,
// memfd_noexec, deny_untrusted_fs) meets the kernel: the mark mask, the triage of plain opens
// on the event loop thread, and vm.memfd_noexec at start.

#include <sys/types.h>

#include <string>

#include "hashdb/policy.h"
#include "lockd/decision_sink.h"
#include "lockd/file_facts.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/fanotify.h"
#include "lockd/script_coverage.h"

namespace lockd {

// The mark mask for local filesystems under this policy: FAN_OPEN_PERM too when shared objects
// or scripts are covered.
os::MarkMask MarkMaskFor(const hashdb::Policy& policy);
// The mark mask for untrusted filesystems (FUSE, network): execs only. Their content is served
// by another process or machine and may differ between lockd's read and the loader's, so lockd
// never reads them on the event loop thread (a FUSE server that opens its own files would
// deadlock it); execs there are denied (deny_untrusted_fs) or hashed by a worker, never cached.
os::MarkMask UntrustedMarkMask();

// Whether a mark placed with `marked` still gives `policy` what it needs; otherwise a restart is
// needed (logged by the caller: marks are placed at start).
bool MarkMaskCovers(const os::MarkMask& marked, const hashdb::Policy& policy);

enum class OpenAction {
  kAllow,  // not a load of code: answer allow now, without hashing
  kJudge,  // hash and look up like an exec (decider), deny if not allowlisted
};

// For one FAN_OPEN_PERM event of a regular file (the rules in lockd/coverage.h): one pread of
// the head through the event fd; for a non-ELF file also the fd's path (suffix) and the
// opener's executable, all through `kernel`. With `scripts` (lockd/script_coverage.h) an
// interpreter is also recognised by its executable's digest in `db`, and a file that is no
// script by rules 0-2 is still judged when it is the file an interpreter's command line or
// start-up variables name (rule 2b). Without `scripts`: interpreters by name only, no rule 2b.
// Cheap: never hashes, never opens a file (the judgement itself is the decider's: Judge).
// A failed read is kJudge (the decider then denies what it cannot read).
OpenAction TriageOpen(os::EventKernel& kernel, int event_fd, pid_t pid, const FileFacts& facts,
                      const hashdb::Policy& policy, ScriptCoverage* scripts = nullptr,
                      const hashdb::Database* db = nullptr);

// With policy.memfd_noexec: raises vm.memfd_noexec to 2 (os::SetMemfdNoexec) and reports the
// outcome: logged, and where the kernel lacks the setting or refuses it, a daemon error event
// (memfd execution is then not shut). Without it: logs that memfd execution is left as is.
void ApplyMemfdPolicy(const hashdb::Policy& policy, DecisionSink& sink, std::uint64_t generation);

}  // namespace lockd
