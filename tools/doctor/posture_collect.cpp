// Collecting the posture facts from the running system (see posture.h). Every read failure is
// recorded in the facts, never returned: the report must still show what could be read.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "lockd/os/sysctl.h"
#include "tools/doctor/posture.h"

namespace lockd {

namespace {

SettingFact ReadSetting(const os::Sysctl& sysctl, std::string_view name) {
  auto v = sysctl.ReadInt(name);
  if (!v.ok()) return SettingFact::Unreadable(v.error().message);
  if (!v->has_value()) return SettingFact::Absent();
  return SettingFact::Value(**v);
}

std::optional<std::string> ReadOptional(const std::string& path) {
  auto v = os::ReadKernelFile(path);
  if (!v.ok()) return std::nullopt;  // unreadable counts as absent: only used as extra evidence
  return *v;
}

}  // namespace

PostureFacts CollectPostureFacts(const CollectOptions& options) {
  PostureFacts f;
  struct utsname u;
  if (::uname(&u) == 0) f.kernel_release = u.release;

  if (options.probe_fanotify) {
    f.fanotify_permission = os::ProbeFanotifyPermissionEvents();
    f.fanotify_filesystem_mark = os::ProbeFanotifyFilesystemMark(options.probe_dir);
  } else {
    f.fanotify_permission = {os::ProbeResult::State::kUnknown, "not probed"};
    f.fanotify_filesystem_mark = {os::ProbeResult::State::kUnknown, "not probed"};
  }

  const os::Sysctl sysctl(options.proc_root + "/sys");
  f.memfd_noexec = ReadSetting(sysctl, os::kMemfdNoexecName);
  f.ptrace_scope = ReadSetting(sysctl, "kernel.yama.ptrace_scope");
  f.modules_disabled = ReadSetting(sysctl, "kernel.modules_disabled");
  f.kexec_load_disabled = ReadSetting(sysctl, "kernel.kexec_load_disabled");
  f.unprivileged_bpf_disabled = ReadSetting(sysctl, "kernel.unprivileged_bpf_disabled");
  f.max_user_namespaces = ReadSetting(sysctl, "user.max_user_namespaces");
  f.unprivileged_userns_clone = ReadSetting(sysctl, "kernel.unprivileged_userns_clone");
  f.apparmor_restrict_userns = ReadSetting(sysctl, "kernel.apparmor_restrict_unprivileged_userns");

  struct stat st;
  f.module_support = ::stat((options.proc_root + "/modules").c_str(), &st) == 0;
  f.module_sig_enforce = ReadOptional(options.sys_root + "/module/module/parameters/sig_enforce");
  f.lockdown = ReadOptional(options.sys_root + "/kernel/security/lockdown");

  // The mount table can be long (containers, snaps): read it whole, not through the 4 KiB
  // limit of ReadKernelFile.
  FILE* file = std::fopen(options.mountinfo.c_str(), "re");
  if (file == nullptr) {
    f.mounts_error = options.mountinfo + ": " + std::strerror(errno);
    return f;
  }
  std::string text;
  char buf[8192];
  std::size_t n;
  // A mount table is rarely over a few hundred KiB; 64 MiB bounds memory whatever happens.
  constexpr std::size_t kMaxMountInfo = 64u << 20;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0 && text.size() < kMaxMountInfo) {
    text.append(buf, n);
  }
  bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error) {
    f.mounts_error = options.mountinfo + ": read error";
    return f;
  }
  if (text.size() >= kMaxMountInfo) {
    f.mounts_error = options.mountinfo + ": larger than 64 MiB, not parsed";
    return f;
  }
  auto mounts = os::ParseMountInfo(text);
  if (!mounts.ok()) {
    f.mounts_error = options.mountinfo + ": " + mounts.error().message;
  } else {
    f.mounts = std::move(*mounts);
  }
  return f;
}

}  // namespace lockd
