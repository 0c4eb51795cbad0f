// The posture checks: pure judgement of collected facts (see posture.h). The collector is in
// posture_collect.cpp.
#include "tools/doctor/posture.h"

#include <algorithm>
#include <charconv>

namespace lockd {

namespace {

using State = SettingFact::State;

PostureCheck Make(std::string id, std::string title, CheckStatus status, std::string why) {
  return PostureCheck{std::move(id), std::move(title), status, std::move(why), {}};
}

std::string KernelNote(const PostureFacts& f) {
  return f.kernel_release.empty() ? std::string("this kernel") : "kernel " + f.kernel_release;
}

// True when the running kernel is at least major.minor; unknown versions count as new enough so
// that the message falls back to the neutral wording.
bool KernelAtLeast(const PostureFacts& f, int major, int minor) {
  auto v = ParseKernelVersion(f.kernel_release);
  if (!v) return true;
  return v->first > major || (v->first == major && v->second >= minor);
}

bool HasMountOption(const os::MountEntry& m, std::string_view option) {
  std::string_view opts = m.options;
  while (true) {
    std::size_t comma = opts.find(',');
    if (opts.substr(0, comma) == option) return true;
    if (comma == std::string_view::npos) return false;
    opts.remove_prefix(comma + 1);
  }
}

// Pseudo filesystems lockd does not mark but whose regular files can hold bytes that exec
// reads: hugetlbfs files are written through mmap and read(2) works on them, so a shebang script
// there is handed to an allowlisted interpreter without any marked file being opened (an ELF
// would need huge-page-aligned segments).
bool PseudoHoldsPrograms(std::string_view fs_type) { return fs_type == "hugetlbfs"; }

// Filesystems lockd does not cover: FUSE and network filesystems (they may show lockd other
// bytes than they later serve to the loader, so no hash of them can be trusted) and the
// pseudo filesystems above (never marked).
bool Uncovered(const os::MountEntry& m) {
  os::FsClass c = os::ClassifyFilesystem(m.fs_type);
  return c == os::FsClass::kFuse || c == os::FsClass::kNetwork ||
         (c == os::FsClass::kPseudo && PseudoHoldsPrograms(m.fs_type));
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

PostureCheck FanotifyPermission(const PostureFacts& f) {
  const std::string title = "fanotify permission events";
  const auto& p = f.fanotify_permission;
  switch (p.state) {
    case os::ProbeResult::State::kAvailable:
      if (!KernelAtLeast(f, 5, 0)) {
        return Make("fanotify_permission", title, CheckStatus::kFail,
                    KernelNote(f) +
                        " is older than 5.0: no FAN_OPEN_EXEC_PERM, lockd cannot "
                        "hold execs; upgrade the kernel");
      }
      return Make("fanotify_permission", title, CheckStatus::kOk,
                  p.detail + ": lockd can hold every exec and library open until it decides");
    case os::ProbeResult::State::kUnavailable:
      return Make("fanotify_permission", title, CheckStatus::kFail,
                  p.detail +
                      ": lockd cannot enforce on this kernel; use one built with "
                      "CONFIG_FANOTIFY_ACCESS_PERMISSIONS=y");
    case os::ProbeResult::State::kUnknown:
      break;
  }
  return Make("fanotify_permission", title, CheckStatus::kWarn,
              (p.detail.empty() ? std::string("not probed") : p.detail) + ": could not tell");
}

PostureCheck FanotifyFilesystemMark(const PostureFacts& f) {
  const std::string title = "FAN_MARK_FILESYSTEM";
  const auto& p = f.fanotify_filesystem_mark;
  switch (p.state) {
    case os::ProbeResult::State::kAvailable:
      return Make("fanotify_filesystem_mark", title, CheckStatus::kOk,
                  p.detail +
                      ": one mark covers every mount of a filesystem, bind mounts and "
                      "other mount namespaces included");
    case os::ProbeResult::State::kUnavailable:
      return Make("fanotify_filesystem_mark", title, CheckStatus::kFail,
                  p.detail +
                      ": lockd falls back to per-mount marks, which do not cover bind "
                      "mounts or copies made by unshare -m; use Linux 5.1 or later");
    case os::ProbeResult::State::kUnknown:
      break;
  }
  return Make("fanotify_filesystem_mark", title, CheckStatus::kWarn,
              (p.detail.empty() ? std::string("not probed") : p.detail) + ": could not tell");
}

PostureCheck MemfdNoexec(const PostureFacts& f) {
  const std::string title = "vm.memfd_noexec";
  const auto& s = f.memfd_noexec;
  if (s.state == State::kUnreadable) {
    return Make("memfd_noexec", title, CheckStatus::kWarn, "cannot read: " + s.error);
  }
  if (s.state == State::kAbsent) {
    std::string why =
        KernelAtLeast(f, 6, 3)
            ? "absent although " + KernelNote(f) +
                  " should have it (since Linux 6.3): is /proc/sys mounted? "
            : "absent: the sysctl exists since Linux 6.3 and " + KernelNote(f) + " is older; ";
    return Make("memfd_noexec", title, CheckStatus::kFail,
                why +
                    "a program can write code to a memfd and exec it, which fanotify "
                    "cannot see; upgrade to 6.3+ so lockd can set it to 2");
  }
  if (s.value >= 2) {
    return Make("memfd_noexec", title, CheckStatus::kOk,
                std::to_string(s.value) +
                    ": executable memfds are refused (cannot be lowered "
                    "until reboot)");
  }
  if (s.value == 1) {
    return Make("memfd_noexec", title, CheckStatus::kWarn,
                "1: memfds are non-executable by default but memfd_create(MFD_EXEC) still "
                "works; set 2 (lockd does at start when the policy's memfd_noexec is on)");
  }
  return Make("memfd_noexec", title, CheckStatus::kFail,
              std::to_string(s.value) +
                  ": a program can write code to a memfd and exec it, unseen by fanotify; set "
                  "2 (lockd does at start when the policy's memfd_noexec is on)");
}

PostureCheck FanotifyBlindSpots(const PostureFacts& f) {
  PostureCheck c = Make("fanotify_blind_spots", "code fanotify cannot see", CheckStatus::kWarn, "");
  std::string lsm = "active LSMs unknown (no /sys/kernel/security/lsm)";
  bool bpf_lsm = false;
  if (f.lsms) {
    std::string list = *f.lsms;
    while (!list.empty() && (list.back() == '\n' || list.back() == ' ')) list.pop_back();
    lsm = "active LSMs: " + (list.empty() ? std::string("none") : list);
    bpf_lsm = ("," + list + ",").find(",bpf,") != std::string::npos;
  }
  std::string memfd = "vm.memfd_noexec unknown";
  if (f.memfd_noexec.state == SettingFact::State::kValue) {
    memfd = "vm.memfd_noexec=" + std::to_string(f.memfd_noexec.value);
  } else if (f.memfd_noexec.state == SettingFact::State::kAbsent) {
    memfd = "no vm.memfd_noexec";
  }
  c.items.push_back({"dlopen(\"/proc/self/fd/N\") of a memfd, anonymous executable memory",
                     "no fanotify event; " + memfd +
                         " refuses exec of a memfd, not a PROT_EXEC mapping of it; only an LSM "
                         "hook on executable mappings could refuse it"});
  c.items.push_back({"inline code: bash -c, python3 -c, perl -e, code on stdin",
                     "no file is opened; only an LSM that keeps users from starting "
                     "interpreters with code could refuse it"});
  c.why =
      "fanotify sees files only: libraries loaded from memory and inline interpreter code "
      "run unchecked (" +
      lsm + "; " +
      (bpf_lsm ? std::string("BPF LSM active, lockd does not use it") : std::string("no BPF LSM")) +
      "; " + memfd + "); see docs/threat-model.md";
  return c;
}

PostureCheck PtraceScope(const PostureFacts& f) {
  const std::string title = "kernel.yama.ptrace_scope";
  const auto& s = f.ptrace_scope;
  if (s.state == State::kUnreadable) {
    return Make("ptrace_scope", title, CheckStatus::kWarn, "cannot read: " + s.error);
  }
  if (s.state == State::kAbsent) {
    return Make("ptrace_scope", title, CheckStatus::kFail,
                "absent: Yama is not in " + KernelNote(f) +
                    ", so a root process can ptrace lockd and change its answers; use a kernel "
                    "with CONFIG_SECURITY_YAMA and set 3");
  }
  if (s.value >= 3) {
    return Make("ptrace_scope", title, CheckStatus::kOk,
                std::to_string(s.value) + ": no process may ptrace another (until reboot)");
  }
  if (s.value == 2) {
    return Make("ptrace_scope", title, CheckStatus::kOk,
                "2: only CAP_SYS_PTRACE may attach (root still can; 3 forbids it for all)");
  }
  if (s.value == 1) {
    return Make("ptrace_scope", title, CheckStatus::kWarn,
                "1: only descendants can be traced, but root can still ptrace lockd; set 2 or 3");
  }
  return Make("ptrace_scope", title, CheckStatus::kFail,
              std::to_string(s.value) +
                  ": a root process can ptrace lockd and make it answer allow; set 2 or 3");
}

PostureCheck KernelModules(const PostureFacts& f) {
  const std::string title = "kernel module loading";
  const std::string lockdown = f.lockdown ? SelectedLockdown(*f.lockdown) : std::string();
  if (!f.module_support && f.modules_disabled.state == State::kAbsent) {
    return Make("kernel_modules", title, CheckStatus::kOk,
                KernelNote(f) + " has no loadable module support");
  }
  if (f.modules_disabled.state == State::kValue && f.modules_disabled.value == 1) {
    return Make("kernel_modules", title, CheckStatus::kOk,
                "kernel.modules_disabled=1: no module can be loaded until reboot");
  }
  if (f.module_sig_enforce && (*f.module_sig_enforce == "Y" || *f.module_sig_enforce == "1")) {
    return Make("kernel_modules", title, CheckStatus::kOk,
                "module.sig_enforce=Y: only modules signed with a key the kernel trusts load");
  }
  if (lockdown == "integrity" || lockdown == "confidentiality") {
    return Make("kernel_modules", title, CheckStatus::kOk,
                "kernel lockdown=" + lockdown + ": only signed modules load");
  }
  std::string seen = "kernel.modules_disabled=";
  seen += f.modules_disabled.state == State::kValue ? std::to_string(f.modules_disabled.value)
          : f.modules_disabled.state == State::kAbsent
              ? "absent"
              : "unreadable (" + f.modules_disabled.error + ")";
  seen += ", module.sig_enforce=" + f.module_sig_enforce.value_or("absent");
  return Make("kernel_modules", title, CheckStatus::kFail,
              seen +
                  ": root can load an unsigned module that bypasses fanotify; set "
                  "kernel.modules_disabled=1 after boot or boot with module.sig_enforce=1");
}

PostureCheck Kexec(const PostureFacts& f) {
  const std::string title = "kernel.kexec_load_disabled";
  const auto& s = f.kexec_load_disabled;
  const std::string lockdown = f.lockdown ? SelectedLockdown(*f.lockdown) : std::string();
  if (s.state == State::kUnreadable) {
    return Make("kexec_load_disabled", title, CheckStatus::kWarn, "cannot read: " + s.error);
  }
  if (s.state == State::kAbsent) {
    return Make("kexec_load_disabled", title, CheckStatus::kOk,
                "absent: " + KernelNote(f) + " was built without kexec");
  }
  if (s.value == 1) {
    return Make("kexec_load_disabled", title, CheckStatus::kOk,
                "1: no other kernel can be booted from this one (until reboot)");
  }
  if (lockdown == "integrity" || lockdown == "confidentiality") {
    return Make("kexec_load_disabled", title, CheckStatus::kOk,
                "0, but kernel lockdown=" + lockdown + " allows only signed kernels");
  }
  return Make("kexec_load_disabled", title, CheckStatus::kFail,
              std::to_string(s.value) +
                  ": root can kexec into another kernel without lockd; set "
                  "kernel.kexec_load_disabled=1 (one-way)");
}

PostureCheck SecureBoot(const PostureFacts& f) {
  const std::string title = "Secure Boot";
  const std::string offline =
      "nothing verifies lockd's binary, unit and configuration before they run: whoever boots "
      "another system (a USB stick) or takes the disk out can change them (docs/threat-model.md, "
      "\"Offline tampering\")";
  if (!f.efi) {
    return Make("secure_boot", title, CheckStatus::kWarn, "unknown (legacy boot): " + offline);
  }
  const auto& s = f.secure_boot;
  if (s.state == State::kUnreadable) {
    return Make("secure_boot", title, CheckStatus::kWarn, "cannot read: " + s.error);
  }
  if (s.state == State::kAbsent) {
    return Make("secure_boot", title, CheckStatus::kWarn,
                "off (the firmware has no SecureBoot variable): " + offline);
  }
  if (s.value == 1) {
    return Make("secure_boot", title, CheckStatus::kOk,
                "on: the firmware verifies the boot loader and kernel; lockd's own files are "
                "covered only if the chain goes on to the root filesystem (dm-verity, IMA "
                "appraisal)");
  }
  return Make("secure_boot", title, CheckStatus::kWarn,
              "off: " + offline + "; turn Secure Boot on in the firmware");
}

PostureCheck UnprivilegedBpf(const PostureFacts& f) {
  const std::string title = "kernel.unprivileged_bpf_disabled";
  const auto& s = f.unprivileged_bpf_disabled;
  if (s.state == State::kUnreadable) {
    return Make("unprivileged_bpf_disabled", title, CheckStatus::kWarn, "cannot read: " + s.error);
  }
  if (s.state == State::kAbsent) {
    return Make("unprivileged_bpf_disabled", title, CheckStatus::kOk,
                "absent: " + KernelNote(f) + " has no bpf() system call");
  }
  if (s.value == 1) {
    return Make("unprivileged_bpf_disabled", title, CheckStatus::kOk,
                "1: only privileged processes can use bpf() (until reboot)");
  }
  if (s.value == 2) {
    return Make("unprivileged_bpf_disabled", title, CheckStatus::kOk,
                "2: only privileged processes can use bpf() (root may re-enable; 1 is final)");
  }
  return Make(
      "unprivileged_bpf_disabled", title, CheckStatus::kWarn,
      std::to_string(s.value) + ": any user can load BPF programs, a common path to root; set 1");
}

bool IsValue(const SettingFact& s, long v) { return s.state == State::kValue && s.value == v; }

PostureCheck UserNamespaces(const PostureFacts& f) {
  const std::string title = "unprivileged user namespaces";
  if (IsValue(f.max_user_namespaces, 0)) {
    return Make("unprivileged_userns", title, CheckStatus::kOk,
                "user.max_user_namespaces=0: no user namespaces at all");
  }
  if (IsValue(f.unprivileged_userns_clone, 0)) {
    return Make("unprivileged_userns", title, CheckStatus::kOk,
                "kernel.unprivileged_userns_clone=0: only privileged processes create them");
  }
  if (IsValue(f.apparmor_restrict_userns, 1)) {
    return Make("unprivileged_userns", title, CheckStatus::kOk,
                "kernel.apparmor_restrict_unprivileged_userns=1: only AppArmor-profiled "
                "programs get capabilities in them");
  }
  if (f.max_user_namespaces.state == State::kUnreadable) {
    return Make("unprivileged_userns", title, CheckStatus::kWarn,
                "cannot read: " + f.max_user_namespaces.error);
  }
  if (f.max_user_namespaces.state == State::kAbsent) {
    return Make("unprivileged_userns", title, CheckStatus::kOk,
                "absent: " + KernelNote(f) + " has no user namespaces");
  }
  const std::string what =
      "allowed: any user can make a mount namespace and mount a fresh tmpfs, overlay or FUSE "
      "filesystem in it, and run from it before lockd has found and marked it";
  if (f.restrict_user_namespaces.value_or(false)) {
    return Make("unprivileged_userns", title, CheckStatus::kFail,
                what +
                    "; the signed policy asks to restrict them (restrict_user_namespaces): lockd "
                    "turns them off at start and reload, so it is not running, the kernel "
                    "refused it (see lockd's journal), or someone turned them on since");
  }
  if (f.restrict_user_namespaces.has_value()) {
    return Make("unprivileged_userns", title, CheckStatus::kWarn,
                what + "; the signed policy leaves them on (restrict_user_namespaces off)");
  }
  return Make("unprivileged_userns", title, CheckStatus::kWarn,
              what +
                  "; set user.max_user_namespaces=0 unless a service needs them (lockd does "
                  "at start when the policy's restrict_user_namespaces is on; --db compares)");
}

PostureCheck WritableExecMounts(const PostureFacts& f) {
  const std::string title = "writable mounts without noexec";
  if (f.mounts_error) {
    return Make("writable_exec_mounts", title, CheckStatus::kFail,
                "cannot read the mount table: " + *f.mounts_error);
  }
  PostureCheck c = Make("writable_exec_mounts", title, CheckStatus::kOk, "");
  std::size_t uncovered = 0;
  for (const auto& m : f.mounts) {
    if (m.read_only() || HasMountOption(m, "noexec")) continue;
    os::FsClass cls = os::ClassifyFilesystem(m.fs_type);
    bool not_covered = Uncovered(m);
    if (cls == os::FsClass::kPseudo && !not_covered) continue;  // holds no programs
    c.items.push_back({m.mount_point, m.fs_type + (not_covered ? ", not covered by lockd"
                                                               : ", checked by lockd")});
    if (not_covered) ++uncovered;
  }
  if (c.items.empty()) {
    c.why = "every writable filesystem is mounted noexec";
  } else if (uncovered > 0) {
    c.status = CheckStatus::kFail;
    c.why = std::to_string(c.items.size()) + " writable mount(s) allow exec, " +
            std::to_string(uncovered) +
            " of them on filesystems lockd does not cover: mount those noexec (or ro)";
  } else {
    c.status = CheckStatus::kWarn;
    c.why = std::to_string(c.items.size()) +
            " writable mount(s) allow exec: files dropped there are still checked by lockd at "
            "every exec; mount noexec where nothing needs to run";
  }
  return c;
}

PostureCheck UncoveredFilesystems(const PostureFacts& f) {
  const std::string title = "filesystems not covered";
  if (f.mounts_error) {
    return Make("uncovered_filesystems", title, CheckStatus::kFail,
                "cannot read the mount table: " + *f.mounts_error);
  }
  PostureCheck c = Make("uncovered_filesystems", title, CheckStatus::kOk, "");
  bool exec_allowed = false;
  for (const auto& m : f.mounts) {
    if (!Uncovered(m)) continue;
    bool noexec = HasMountOption(m, "noexec");
    exec_allowed = exec_allowed || !noexec;
    c.items.push_back(
        {m.mount_point, m.fs_type + ", " +
                            std::string(os::FsClassName(os::ClassifyFilesystem(m.fs_type))) +
                            (noexec ? ", noexec" : ", exec allowed")});
  }
  if (c.items.empty()) {
    c.why = "no FUSE, network or program-holding pseudo filesystem is mounted";
  } else if (exec_allowed) {
    c.status = CheckStatus::kFail;
    c.why =
        "FUSE/network filesystems can show lockd other bytes than they serve the loader, so "
        "their content is never trusted; mount them noexec or unmount them";
  } else {
    c.status = CheckStatus::kWarn;
    c.why =
        "mounted noexec, but a script on them can still be handed to an interpreter (bash "
        "x.sh), which lockd cannot check there";
  }
  return c;
}

// A filesystem lockd marks when it runs without a watch list: everything but pseudo
// filesystems and overlays (whose own files are judged through their layers).
bool MarkedByLockd(const PostureFacts& f, dev_t dev) {
  for (const auto& m : f.mounts) {
    if (m.dev() != dev) continue;
    const os::FsClass c = os::ClassifyFilesystem(m.fs_type);
    return c != os::FsClass::kPseudo && c != os::FsClass::kOverlay;
  }
  return false;
}

PostureCheck OverlayLayersCheck(const PostureFacts& f) {
  const std::string title = "overlay layers";
  PostureCheck c = Make("overlay_layers", title, CheckStatus::kOk, "");
  if (f.daemon && !f.daemon->error) {
    for (const auto& g : f.daemon->overlay_gaps) c.items.push_back({g, "reported by lockd"});
    if (!c.items.empty()) {
      c.status = CheckStatus::kFail;
      c.why = std::to_string(c.items.size()) +
              " overlay layer(s) on no marked filesystem (lockd never marks an overlay itself: "
              "its files are judged through its layers): programs there run unchecked; mount "
              "the layers on filesystems lockd marks";
      return c;
    }
  }
  if (f.mounts_error) {
    c.status = CheckStatus::kFail;
    c.why = "cannot read the mount table: " + *f.mounts_error;
    return c;
  }
  for (const auto& o : f.overlays) {
    if (o.layers.empty()) {
      c.items.push_back({o.mount_point, "no layer found in its options"});
    }
    for (const auto& l : o.layers) {
      if (!l.dev) {
        c.items.push_back({o.mount_point, l.role + " layer " + l.path + ": " + l.problem});
      } else if (!MarkedByLockd(f, *l.dev)) {
        c.items.push_back(
            {o.mount_point, l.role + " layer " + l.path + ": on no filesystem lockd marks"});
      }
    }
  }
  if (!c.items.empty()) {
    c.status = CheckStatus::kFail;
    c.why = std::to_string(c.items.size()) +
            " overlay layer(s) lockd cannot cover (lockd never marks an overlay itself: its "
            "files are judged through the marks on its layers' filesystems)";
  } else if (f.overlays.empty()) {
    c.why = "no overlay mounted";
  } else {
    c.why = std::to_string(f.overlays.size()) +
            " overlay(s), every layer on a filesystem lockd marks" +
            (f.daemon && !f.daemon->error ? " (lockd reports no gap)" : "");
  }
  return c;
}

PostureCheck MountDiscoveryCheck(const PostureFacts& f) {
  const std::string title = "new mounts";
  const std::string lockd_says = f.daemon && !f.daemon->error && !f.daemon->mount_discovery.empty()
                                     ? "; lockd uses: " + f.daemon->mount_discovery
                                     : "";
  switch (f.mount_notifications.state) {
    case os::ProbeResult::State::kAvailable:
      if (!lockd_says.empty() &&
          f.daemon->mount_discovery.find("FAN_MNT_ATTACH") == std::string::npos) {
        return Make(
            "mount_discovery", title, CheckStatus::kWarn,
            "the kernel has fanotify mount notifications but lockd does not use them" + lockd_says);
      }
      return Make("mount_discovery", title, CheckStatus::kOk,
                  "fanotify mount notifications (FAN_MNT_ATTACH): lockd marks a new mount when "
                  "the kernel reports it, still after the mount (not a boundary)" +
                      lockd_says);
    case os::ProbeResult::State::kUnavailable:
      return Make("mount_discovery", title, CheckStatus::kWarn,
                  "no fanotify mount notifications in " + KernelNote(f) +
                      " (Linux 6.14+): lockd finds new mounts by re-reading mount tables, up to "
                      "a second late" +
                      lockd_says);
    case os::ProbeResult::State::kUnknown:
      break;
  }
  return Make("mount_discovery", title, CheckStatus::kWarn,
              "could not tell: " + f.mount_notifications.detail + lockd_says);
}

PostureCheck Interpreters(const InterpreterFacts& in) {
  const std::string title = "interpreters in the allowlist";
  if (in.error) {
    return Make("allowlisted_interpreters", title, CheckStatus::kFail,
                in.database + ": " + *in.error);
  }
  PostureCheck c = Make("allowlisted_interpreters", title, CheckStatus::kOk, "");
  c.items = in.found;
  if (!in.cover_scripts) {
    c.status = CheckStatus::kWarn;
    c.why =
        "script coverage is off in the signed policy: scripts handed to interpreters are "
        "not checked at all";
    return c;
  }
  if (c.items.empty()) {
    c.why = "no allowlisted file is one of the policy's interpreters (" +
            Join(in.policy_interpreters) + ")";
    return c;
  }
  c.status = CheckStatus::kWarn;
  c.why = std::to_string(c.items.size()) +
          " allowlisted interpreter(s): script files they open are checked, but inline code "
          "(bash -c, python3 -c, code on stdin) cannot be checked by any file-based control";
  return c;
}

}  // namespace

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
  }
  return "fail";
}

std::vector<PostureCheck> EvaluatePosture(const PostureFacts& facts) {
  std::vector<PostureCheck> checks;
  checks.push_back(FanotifyPermission(facts));
  checks.push_back(FanotifyFilesystemMark(facts));
  checks.push_back(MemfdNoexec(facts));
  checks.push_back(FanotifyBlindSpots(facts));
  checks.push_back(PtraceScope(facts));
  checks.push_back(KernelModules(facts));
  checks.push_back(Kexec(facts));
  checks.push_back(SecureBoot(facts));
  checks.push_back(UnprivilegedBpf(facts));
  checks.push_back(UserNamespaces(facts));
  checks.push_back(WritableExecMounts(facts));
  checks.push_back(UncoveredFilesystems(facts));
  checks.push_back(OverlayLayersCheck(facts));
  checks.push_back(MountDiscoveryCheck(facts));
  if (facts.interpreters) checks.push_back(Interpreters(*facts.interpreters));
  return checks;
}

CheckStatus WorstStatus(const std::vector<PostureCheck>& checks) {
  CheckStatus worst = CheckStatus::kOk;
  for (const auto& c : checks) worst = std::max(worst, c.status);
  return worst;
}

std::optional<std::pair<int, int>> ParseKernelVersion(std::string_view release) {
  int major = 0, minor = 0;
  const char* end = release.data() + release.size();
  auto [p1, e1] = std::from_chars(release.data(), end, major);
  if (e1 != std::errc() || p1 == end || *p1 != '.') return std::nullopt;
  auto [p2, e2] = std::from_chars(p1 + 1, end, minor);
  if (e2 != std::errc()) return std::nullopt;
  return std::make_pair(major, minor);
}

std::string SelectedLockdown(std::string_view text) {
  std::size_t open = text.find('[');
  std::size_t close = text.find(']', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return "";
  return std::string(text.substr(open + 1, close - open - 1));
}

}  // namespace lockd
