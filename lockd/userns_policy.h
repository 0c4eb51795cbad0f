#pragma once
// "No mounts by unprivileged users": the signed policy's restrict_user_namespaces switch
// (default on) applied to the kernel at start and on reload, the way vm.memfd_noexec is
// (coverage_gate.h). On: Debian's kernel.unprivileged_userns_clone is set to 0 where the kernel
// has it (unprivileged users only), else user.max_user_namespaces (everyone, root included), so
// that no user can create the user namespace in which they could mount a filesystem of their
// own and run from it before lockd marks it.
// The values found before lockd first changed them are recorded in the state directory
// (StateStore::SavedSysctls) so that installer/uninstall.sh and the Debian postrm put them
// back; a restart never overwrites that record. Off: lockd puts back what it recorded, if
// anything, and otherwise leaves the settings alone.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lockd/decision_sink.h"
#include "lockd/os/sysctl.h"
#include "lockd/state_store.h"

namespace lockd {

struct UserNamespacePlan {
  // The record to keep in the state directory afterwards (empty: none). Saved before any write.
  std::map<std::string, long> record;
  // Values to write, in order.
  std::vector<std::pair<std::string, long>> writes;
};

// Pure: what to do given the switch, the settings as read (absent: the kernel lacks it) and the
// record left by an earlier run, if any.
UserNamespacePlan PlanUserNamespaces(bool restrict,
                                     const std::map<std::string, std::optional<long>>& current,
                                     const std::map<std::string, long>& saved);

// Reads, plans, records and writes; logs each change. Where the switch is on and the kernel
// refuses the write or has neither setting, a daemon error event says that unprivileged users
// can still mount filesystems (lockd then relies on finding them in time). Never fatal.
void ApplyUserNamespacePolicy(bool restrict, const StateStore& state, DecisionSink& sink,
                              std::uint64_t generation, const os::Sysctl& sysctl = os::Sysctl());

// The kernel's user-namespace settings as they are now, for status and doctor.
struct UserNamespaceSettings {
  // Unprivileged users cannot create user namespaces: kernel.unprivileged_userns_clone or
  // user.max_user_namespaces is 0.
  bool restricted = false;
  // "user.max_user_namespaces=0", both settings comma-separated where the kernel has both,
  // "neither setting in this kernel", or the read error.
  std::string text;
};
UserNamespaceSettings ReadUserNamespaceSettings(const os::Sysctl& sysctl = os::Sysctl());

}  // namespace lockd
