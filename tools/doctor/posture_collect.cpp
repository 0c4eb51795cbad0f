// Collecting the posture facts from the running system (see posture.h). Every read failure is
// recorded in the facts, never returned: the report must still show what could be read.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>

#include "audit/json_parse.h"
#include "lockd/control/socket.h"
#include "lockd/os/mount_object.h"
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

// The SecureBoot EFI variable: 4 bytes of attributes, then the value byte (1 = on).
SettingFact ReadSecureBoot(const std::string& sys_root) {
  const std::string path =
      sys_root + "/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0e1f9e5d5f5";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return SettingFact::Absent();
    return SettingFact::Unreadable(path + ": " + std::strerror(errno));
  }
  unsigned char buf[64];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (n < 0) return SettingFact::Unreadable(path + ": " + std::strerror(err));
  if (n < 5) return SettingFact::Unreadable(path + ": " + std::to_string(n) + " bytes, expected 5");
  return SettingFact::Value(buf[n - 1]);
}

// Each overlay's layers, followed from this process's namespace (paths as the overlay's options
// name them).
std::vector<OverlayFacts> CollectOverlays(const std::vector<os::MountEntry>& mounts) {
  std::vector<OverlayFacts> out;
  for (const auto& m : mounts) {
    if (os::ClassifyFilesystem(m.fs_type) != os::FsClass::kOverlay) continue;
    OverlayFacts o;
    o.mount_point = m.mount_point;
    const OverlayLayers layers = ParseOverlayLayers(m.super_options);
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& l : layers.lower) named.emplace_back("lower", l);
    if (!layers.upper.empty()) named.emplace_back("upper", layers.upper);
    for (const auto& [role, path] : named) {
      LayerFinding f{role, path, std::nullopt, ""};
      if (path.empty() || path[0] != '/') {
        f.problem = "a relative path: it cannot be followed now";
      } else if (auto id = os::IdentifyPath(path, /*want_unique=*/false); id.ok()) {
        f.dev = id->dev;
      } else {
        f.problem = "its path does not lead anywhere now (detached or removed)";
      }
      o.layers.push_back(std::move(f));
    }
    out.push_back(std::move(o));
  }
  return out;
}

// The running lockd's status, when something answers on `socket`.
std::optional<DaemonFacts> AskDaemon(const std::string& socket) {
  if (socket.empty()) return std::nullopt;
  struct stat st {};
  if (::stat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  auto reply = os::ControlRequest(socket, "status --json", 5000);
  if (!reply.ok()) return std::nullopt;  // nothing listening: no daemon to ask
  DaemonFacts d;
  d.socket = socket;
  std::string_view body = *reply;
  if (body.substr(0, 3) != "ok\n") {
    d.error = "status refused: " + std::string(body.substr(0, body.find('\n')));
    return d;
  }
  body.remove_prefix(3);
  while (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  auto json = audit::ParseJson(body);
  if (!json.ok()) {
    d.error = "status not readable: " + json.error().message;
    return d;
  }
  if (const auto* m = json->Find("mount_discovery");
      m && m->type == audit::JsonValue::Type::kString) {
    d.mount_discovery = m->string;
  }
  if (const auto* gaps = json->Find("overlay_gaps");
      gaps && gaps->type == audit::JsonValue::Type::kArray) {
    for (const auto& g : gaps->array) {
      if (auto text = audit::FieldBytes(g, "gap")) d.overlay_gaps.push_back(*text);
    }
  }
  return d;
}

}  // namespace

PostureFacts CollectPostureFacts(const CollectOptions& options) {
  PostureFacts f;
  struct utsname u;
  if (::uname(&u) == 0) f.kernel_release = u.release;

  if (options.probe_fanotify) {
    f.fanotify_permission = os::ProbeFanotifyPermissionEvents();
    f.fanotify_filesystem_mark = os::ProbeFanotifyFilesystemMark(options.probe_dir);
    f.mount_notifications = os::ProbeFanotifyMountNotifications();
  } else {
    f.fanotify_permission = {os::ProbeResult::State::kUnknown, "not probed"};
    f.fanotify_filesystem_mark = {os::ProbeResult::State::kUnknown, "not probed"};
    f.mount_notifications = {os::ProbeResult::State::kUnknown, "not probed"};
  }
  f.daemon = AskDaemon(options.daemon_socket);

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
  f.lsms = ReadOptional(options.sys_root + "/kernel/security/lsm");
  f.efi = ::stat((options.sys_root + "/firmware/efi").c_str(), &st) == 0;
  if (f.efi) f.secure_boot = ReadSecureBoot(options.sys_root);

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
    f.mounts = std::move(mounts->mounts);
    f.overlays = CollectOverlays(f.mounts);
    // A line that could not be read is a mount the checks cannot judge: say so (the mount
    // checks then fail) rather than judge a table with a hole in it.
    if (!mounts->skipped.empty()) {
      f.mounts_error = options.mountinfo + ": " + mounts->skipped.front() +
                       (mounts->skipped.size() > 1
                            ? " (and " + std::to_string(mounts->skipped.size() - 1) + " more)"
                            : "");
    }
  }
  return f;
}

}  // namespace lockd
