#pragma once
// The posture report behind `lockctl doctor`: the kernel and mount settings an exec allowlist
// depends on, each judged ok / warn / fail with a one-line reason and what to do.
//
// Two halves: CollectPostureFacts reads the running system (sysctls, /sys module parameters,
// the mount table, fanotify probes that never place a permission mark); EvaluatePosture is a
// pure function of those facts, unit-tested with fake facts. A check's judgement must never
// depend on anything the facts do not carry, so the same facts always give the same report.
//
// Status meanings: fail = a gap through which foreign code runs, or root can silently subvert
// lockd, and which the terminal's owner can close; warn = a weakness lockd mitigates or cannot
// judge (e.g. not run as root); ok = nothing to do.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/database.h"
#include "lockd/mount_selection.h"
#include "lockd/os/fanotify_probe.h"
#include "lockd/os/mountinfo.h"

namespace lockd {

enum class CheckStatus { kOk = 0, kWarn = 1, kFail = 2 };
std::string_view CheckStatusName(CheckStatus status);  // "ok", "warn", "fail"

// One listed thing a check is about: a mount point, an interpreter binary.
struct CheckItem {
  std::string path;    // raw bytes (may be hostile: escape before printing)
  std::string detail;  // e.g. "ext4, local" or "elf-exec"
  bool operator==(const CheckItem&) const = default;
};

struct PostureCheck {
  std::string id;     // stable machine name, e.g. "memfd_noexec" (part of the JSON contract)
  std::string title;  // human name, e.g. "vm.memfd_noexec"
  CheckStatus status = CheckStatus::kOk;
  std::string why;  // one line: what was found, what it means, what to do
  std::vector<CheckItem> items;
};

// One kernel setting as read.
struct SettingFact {
  enum class State { kValue, kAbsent, kUnreadable };
  State state = State::kAbsent;
  long value = 0;
  std::string error;  // kUnreadable: why

  static SettingFact Value(long v) { return {State::kValue, v, {}}; }
  static SettingFact Absent() { return {}; }
  static SettingFact Unreadable(std::string why) { return {State::kUnreadable, 0, std::move(why)}; }
};

// The allowlist side (only with `lockctl doctor --db`).
struct InterpreterFacts {
  std::string database;              // path, for messages
  std::optional<std::string> error;  // the database could not be read or did not verify
  bool cover_scripts = true;         // the signed policy's switch
  std::vector<std::string> policy_interpreters;
  std::vector<CheckItem> found;  // allowlisted files whose basename names an interpreter
};

struct OverlayFacts {
  std::string mount_point;
  std::vector<LayerFinding> layers;  // as lockd/mount_selection.h finds them
};

// What the running lockd says about itself (`lockctl status --json`).
struct DaemonFacts {
  std::string socket;
  std::optional<std::string> error;  // it answered, but not with a status we could read
  std::string mount_discovery;       // how it learns of new mounts
  std::vector<std::string> overlay_gaps;
};

struct PostureFacts {
  std::string kernel_release;  // uname -r
  os::ProbeResult fanotify_permission;
  os::ProbeResult fanotify_filesystem_mark;
  SettingFact memfd_noexec;                       // vm.memfd_noexec
  SettingFact ptrace_scope;                       // kernel.yama.ptrace_scope
  SettingFact modules_disabled;                   // kernel.modules_disabled
  std::optional<std::string> module_sig_enforce;  // /sys/module/module/parameters/sig_enforce
  bool module_support = true;                     // /proc/modules exists (CONFIG_MODULES)
  std::optional<std::string> lockdown;    // /sys/kernel/security/lockdown, e.g. "[none] integrity"
  std::optional<std::string> lsms;        // /sys/kernel/security/lsm, e.g. "capability,yama,bpf"
  SettingFact kexec_load_disabled;        // kernel.kexec_load_disabled
  SettingFact unprivileged_bpf_disabled;  // kernel.unprivileged_bpf_disabled
  SettingFact max_user_namespaces;        // user.max_user_namespaces
  SettingFact unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian patch)
  SettingFact apparmor_restrict_userns;   // kernel.apparmor_restrict_unprivileged_userns
  std::vector<os::MountEntry> mounts;     // the reader's mount namespace
  std::optional<std::string> mounts_error;
  // Each overlay of `mounts` with its layers followed from the reader's namespace.
  std::vector<OverlayFacts> overlays;
  os::ProbeResult mount_notifications;  // FAN_REPORT_MNT available in this kernel
  // The running lockd's own view (status over its control socket), when one answers.
  std::optional<DaemonFacts> daemon;
  // Firmware Secure Boot. efi: /sys/firmware/efi exists (false: a legacy BIOS boot, where
  // nothing verifies the boot chain). secure_boot: the last byte of the EFI variable
  // SecureBoot-8be4df61-93ca-11d2-aa0d-e0e1f9e5d5f5 (1 = on); kAbsent when there is none.
  bool efi = false;
  SettingFact secure_boot;
  // The signed policy's restrict_user_namespaces (with --db); absent when not known.
  std::optional<bool> restrict_user_namespaces;
  std::optional<InterpreterFacts> interpreters;
};

// Every check in a fixed order; "allowlisted_interpreters" only when facts.interpreters is set.
// "fanotify_blind_spots" always warns: code fanotify cannot see (a library loaded from a
// memfd, anonymous executable memory, inline interpreter code), with the kernel's state
// (vm.memfd_noexec, the active LSMs): a known gap, named so nobody takes it for covered.
// "secure_boot" is ok only when Secure Boot is on; off, a legacy boot or an unreadable variable
// is a warn (lockd cannot protect its own files from whoever boots another system).
std::vector<PostureCheck> EvaluatePosture(const PostureFacts& facts);
CheckStatus WorstStatus(const std::vector<PostureCheck>& checks);

// "6.18.44-foo" -> {6, 18}; std::nullopt when it does not start with "N.N".
std::optional<std::pair<int, int>> ParseKernelVersion(std::string_view release);
// The selected mode of /sys/kernel/security/lockdown ("none [integrity] confidentiality" ->
// "integrity"); "" when none is bracketed.
std::string SelectedLockdown(std::string_view text);
// True when basename is one of names, or one of names followed by a version made of digits and
// dots ("python3.11", "perl5.36.0", "tclsh8.6"): distributions install the versioned file and
// point the plain name at it with a symlink, and the database holds the file.
bool IsInterpreterBasename(std::string_view basename, const std::vector<std::string>& names);
// The records of a verified database that are interpreters by the rule above (shared objects
// excluded), with the policy's switch and list.
InterpreterFacts InterpreterFactsFromDatabase(const hashdb::Database& db, std::string name);

struct CollectOptions {
  std::string proc_root = "/proc";  // sysctls are read under <proc_root>/sys
  std::string sys_root = "/sys";
  std::string mountinfo = "/proc/self/mountinfo";
  bool probe_fanotify = true;  // off in unit tests (results then kUnknown, "not probed")
  std::string probe_dir = "/";
  // lockd's control socket, asked for its status (overlay gaps, mount discovery); "" or a path
  // where nothing answers: the daemon's view is left out.
  std::string daemon_socket;
};

// Reads the running system. Never fails as a whole: what cannot be read is recorded in the
// facts (kUnreadable, mounts_error, ProbeResult::kUnknown) and judged by EvaluatePosture.
PostureFacts CollectPostureFacts(const CollectOptions& options = CollectOptions());

}  // namespace lockd
