#include "lockd/coverage_gate.h"

#include <array>

#include "lockd/coverage.h"
#include "lockd/log.h"
#include "lockd/os/open_probe.h"
#include "lockd/os/process_info.h"
#include "lockd/os/sysctl.h"
#include "lockd/report.h"

namespace lockd {

os::MarkMask MarkMaskFor(const hashdb::Policy& policy) {
  os::MarkMask mask;
  mask.open_permission = policy.cover_shared_objects || policy.cover_scripts;
  return mask;
}

os::MarkMask UntrustedMarkMask() {
  os::MarkMask mask;
  mask.open_permission = false;
  mask.write_notifications = false;  // never cached: nothing to invalidate
  return mask;
}

bool MarkMaskCovers(const os::MarkMask& marked, const hashdb::Policy& policy) {
  return marked.open_permission || !MarkMaskFor(policy).open_permission;
}

OpenAction TriageOpen(os::EventKernel& kernel, int event_fd, pid_t pid, const FileFacts& facts,
                      const hashdb::Policy& policy, ScriptCoverage* scripts,
                      const hashdb::Database* db) {
  if (!policy.cover_shared_objects && !policy.cover_scripts) return OpenAction::kAllow;
  // An empty file holds no code (a new file being created, O_TMPFILE, O_CREAT with an execute
  // mode): nothing to judge until content is written, and the next open sees that content.
  if (facts.size == 0) return OpenAction::kAllow;
  std::array<std::uint8_t, kSniffBytes> head{};
  auto n = kernel.ReadHead(event_fd, head);
  if (!n.ok()) return OpenAction::kJudge;
  const HeadKind kind = SniffHead(std::span<const std::uint8_t>(head.data(), *n));
  if (kind == HeadKind::kElfLoadable) {
    return policy.cover_shared_objects ? OpenAction::kJudge : OpenAction::kAllow;
  }
  if (kind == HeadKind::kElfInert || !policy.cover_scripts) return OpenAction::kAllow;
  // The path only when it matters: the suffix needs the name (a readlink), and an opener that
  // is no interpreter reads no script whatever the name (most opens: compilers, cat, ld.so).
  const auto script_like = [&] {
    return IsScriptHead(kind) || IsScriptByModeOrName(facts.mode, {}) ||
           IsScriptByModeOrName(facts.mode, kernel.FdPath(event_fd));
  };
  if (scripts == nullptr) {
    if (!script_like()) return OpenAction::kAllow;
    // A script: code only when an interpreter reads it. An unreadable exe (the process is
    // gone) is judged: the safe direction.
    const std::string exe = kernel.ExecutablePath(pid);
    if (!exe.empty() && !IsInterpreter(exe, policy.interpreters)) return OpenAction::kAllow;
    return OpenAction::kJudge;
  }
  // Who opens it: an interpreter by name or by content (kUnknown is judged like kYes).
  const OpenerInfo opener = scripts->Opener(pid, policy.interpreters, db);
  if (opener.interpreter == Tristate::kNo) return OpenAction::kAllow;
  if (script_like()) return OpenAction::kJudge;
  // Rule 2b only for a known interpreter: an opener whose digest is still being hashed (a
  // compiler's first run) would have its data files, named on its command line, denied.
  if (opener.interpreter != Tristate::kYes) return OpenAction::kAllow;
  // Rule 2b: data by its name and mode, but the program or a start-up file this interpreter
  // was told to run.
  return scripts->NamedByProcess(pid, opener, facts) == Tristate::kNo ? OpenAction::kAllow
                                                                      : OpenAction::kJudge;
}

void ApplyMemfdPolicy(const hashdb::Policy& policy, DecisionSink& sink, std::uint64_t generation) {
  if (!policy.memfd_noexec) {
    LogInfo("policy leaves vm.memfd_noexec as it is (memfd_noexec off)");
    return;
  }
  auto r = os::SetMemfdNoexec();
  if (!r.ok()) {
    const std::string msg =
        "cannot set vm.memfd_noexec=2: " + r.error().message + "; execution from memfd is NOT shut";
    Report(sink, LogLevel::kError, DaemonEventKind::kError, msg, generation);
    return;
  }
  if (r->outcome == os::MemfdNoexecResult::Outcome::kUnsupported) {
    const std::string msg =
        "this kernel has no vm.memfd_noexec (Linux 6.3+): execution from memfd is NOT shut";
    Report(sink, LogLevel::kError, DaemonEventKind::kError, msg, generation);
    return;
  }
  LogInfo(r->message.empty() ? "vm.memfd_noexec is 2" : r->message);
}

}  // namespace lockd
