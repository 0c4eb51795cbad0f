// The posture checks (tools/doctor/posture.h) judged from fake facts, the collector against a fake
// /proc and /sys tree, and the sysctl interface (lockd/os/sysctl.h) against plain files. The
// real vm.memfd_noexec is only ever written inside a fresh pid namespace (see below).
#include "tools/doctor/posture.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "lockd/os/sysctl.h"
#include "tests/support/db_fixture.h"

using lockd::CheckStatus;
using lockd::EvaluatePosture;
using lockd::PostureCheck;
using lockd::PostureFacts;
using lockd::SettingFact;
using lockd::os::ProbeResult;

namespace {

// A system that passes every check.
PostureFacts GoodFacts() {
  PostureFacts f;
  f.kernel_release = "6.18.44-test";
  f.fanotify_permission = {ProbeResult::State::kAvailable, "init ok"};
  f.fanotify_filesystem_mark = {ProbeResult::State::kAvailable, "mark ok"};
  f.memfd_noexec = SettingFact::Value(2);
  f.ptrace_scope = SettingFact::Value(3);
  f.modules_disabled = SettingFact::Value(1);
  f.module_sig_enforce = "N";
  f.kexec_load_disabled = SettingFact::Value(1);
  f.unprivileged_bpf_disabled = SettingFact::Value(1);
  f.max_user_namespaces = SettingFact::Value(0);
  f.efi = true;
  f.secure_boot = SettingFact::Value(1);
  f.mount_notifications = {ProbeResult::State::kAvailable, "init ok"};
  auto m = lockd::os::ParseMountInfo(
      "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
      "23 1 0:22 / /sys rw,nosuid,nodev,relatime - sysfs sysfs rw\n"
      "25 1 8:1 / / ro,relatime - ext4 /dev/sda1 rw\n"
      "26 25 0:23 / /tmp rw,nosuid,nodev,noexec - tmpfs tmpfs rw\n");
  REQUIRE(m.ok());
  f.mounts = m->mounts;
  return f;
}

const PostureCheck& Find(const std::vector<PostureCheck>& checks, const std::string& id) {
  auto it =
      std::find_if(checks.begin(), checks.end(), [&](const PostureCheck& c) { return c.id == id; });
  REQUIRE_MESSAGE(it != checks.end(), id);
  return *it;
}

CheckStatus StatusOf(const PostureFacts& f, const std::string& id) {
  return Find(EvaluatePosture(f), id).status;
}

std::vector<lockd::os::MountEntry> Mounts(const char* text) {
  auto m = lockd::os::ParseMountInfo(text);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  return m->mounts;
}

}  // namespace

TEST_CASE("a hardened system passes every check but the known blind spots, in a fixed order") {
  auto checks = EvaluatePosture(GoodFacts());
  std::vector<std::string> ids;
  for (const auto& c : checks) {
    ids.push_back(c.id);
    const CheckStatus want = c.id == "fanotify_blind_spots" ? CheckStatus::kWarn : CheckStatus::kOk;
    CHECK_MESSAGE(c.status == want, (c.id + ": " + c.why));
    CHECK_FALSE(c.why.empty());
    CHECK(c.why.find('\n') == std::string::npos);
  }
  CHECK(ids == std::vector<std::string>{"fanotify_permission", "fanotify_filesystem_mark",
                                        "memfd_noexec", "fanotify_blind_spots", "ptrace_scope",
                                        "kernel_modules", "kexec_load_disabled", "secure_boot",
                                        "unprivileged_bpf_disabled", "unprivileged_userns",
                                        "writable_exec_mounts", "uncovered_filesystems",
                                        "overlay_layers", "mount_discovery"});
  CHECK(lockd::WorstStatus(checks) == CheckStatus::kWarn);
}

TEST_CASE(
    "blind spots: always a warn, naming memfd loading and inline code with the kernel's state") {
  PostureFacts f = GoodFacts();
  f.lsms = "capability,landlock,yama\n";
  PostureCheck c = Find(EvaluatePosture(f), "fanotify_blind_spots");
  CHECK(c.status == CheckStatus::kWarn);
  REQUIRE(c.items.size() == 2);
  CHECK(c.items[0].path.find("memfd") != std::string::npos);
  CHECK(c.items[0].detail.find("vm.memfd_noexec=2") != std::string::npos);
  CHECK(c.items[1].path.find("python3 -c") != std::string::npos);
  CHECK(c.why.find("active LSMs: capability,landlock,yama;") != std::string::npos);
  CHECK(c.why.find("no BPF LSM") != std::string::npos);
  f.lsms = "capability,bpf";
  f.memfd_noexec = SettingFact::Absent();
  c = Find(EvaluatePosture(f), "fanotify_blind_spots");
  CHECK(c.status == CheckStatus::kWarn);
  CHECK(c.why.find("BPF LSM active, lockd does not use it") != std::string::npos);
  CHECK(c.items[0].detail.find("no vm.memfd_noexec") != std::string::npos);
  f.lsms.reset();
  c = Find(EvaluatePosture(f), "fanotify_blind_spots");
  CHECK(c.why.find("active LSMs unknown") != std::string::npos);
}

TEST_CASE("secure boot: on is ok; off, legacy boot or unreadable is a warn") {
  PostureFacts f = GoodFacts();
  CHECK(Find(EvaluatePosture(f), "secure_boot").why.find("on:") == 0);
  f.secure_boot = SettingFact::Value(0);
  auto off = Find(EvaluatePosture(f), "secure_boot");
  CHECK(off.status == CheckStatus::kWarn);
  CHECK(off.why.find("off: ") == 0);
  f.secure_boot = SettingFact::Absent();
  CHECK(StatusOf(f, "secure_boot") == CheckStatus::kWarn);
  f.secure_boot = SettingFact::Unreadable("EACCES");
  CHECK(StatusOf(f, "secure_boot") == CheckStatus::kWarn);
  f.efi = false;
  f.secure_boot = SettingFact::Value(1);  // ignored without EFI
  auto legacy = Find(EvaluatePosture(f), "secure_boot");
  CHECK(legacy.status == CheckStatus::kWarn);
  CHECK(legacy.why.find("unknown (legacy boot)") == 0);
}

TEST_CASE("fanotify probes") {
  PostureFacts f = GoodFacts();
  f.fanotify_permission = {ProbeResult::State::kUnavailable, "EINVAL"};
  CHECK(StatusOf(f, "fanotify_permission") == CheckStatus::kFail);
  f.fanotify_permission = {ProbeResult::State::kUnknown, "not permitted"};
  CHECK(StatusOf(f, "fanotify_permission") == CheckStatus::kWarn);
  f.fanotify_permission = {ProbeResult::State::kAvailable, "ok"};
  f.kernel_release = "4.19.0";  // no FAN_OPEN_EXEC_PERM before 5.0
  CHECK(StatusOf(f, "fanotify_permission") == CheckStatus::kFail);

  f = GoodFacts();
  f.fanotify_filesystem_mark = {ProbeResult::State::kUnavailable, "EINVAL"};
  CHECK(StatusOf(f, "fanotify_filesystem_mark") == CheckStatus::kFail);
  f.fanotify_filesystem_mark = {ProbeResult::State::kUnknown, "not permitted"};
  CHECK(StatusOf(f, "fanotify_filesystem_mark") == CheckStatus::kWarn);
}

TEST_CASE("vm.memfd_noexec: 2 ok, 1 warn, 0 or absent fail with the kernel version note") {
  PostureFacts f = GoodFacts();
  f.memfd_noexec = SettingFact::Value(1);
  CHECK(StatusOf(f, "memfd_noexec") == CheckStatus::kWarn);
  f.memfd_noexec = SettingFact::Value(0);
  CHECK(StatusOf(f, "memfd_noexec") == CheckStatus::kFail);
  f.memfd_noexec = SettingFact::Absent();
  f.kernel_release = "6.1.0-18-amd64";
  const PostureCheck old = Find(EvaluatePosture(f), "memfd_noexec");
  CHECK(old.status == CheckStatus::kFail);
  CHECK(old.why.find("since Linux 6.3") != std::string::npos);
  CHECK(old.why.find("6.1.0-18-amd64") != std::string::npos);
  f.memfd_noexec = SettingFact::Unreadable("EACCES");
  CHECK(StatusOf(f, "memfd_noexec") == CheckStatus::kWarn);
}

TEST_CASE("kernel.yama.ptrace_scope: >=2 ok, 1 warn, 0 or no Yama fail") {
  PostureFacts f = GoodFacts();
  f.ptrace_scope = SettingFact::Value(2);
  CHECK(StatusOf(f, "ptrace_scope") == CheckStatus::kOk);
  f.ptrace_scope = SettingFact::Value(1);
  CHECK(StatusOf(f, "ptrace_scope") == CheckStatus::kWarn);
  f.ptrace_scope = SettingFact::Value(0);
  CHECK(StatusOf(f, "ptrace_scope") == CheckStatus::kFail);
  f.ptrace_scope = SettingFact::Absent();
  CHECK(StatusOf(f, "ptrace_scope") == CheckStatus::kFail);
}

TEST_CASE("module loading: disabled, signature enforcement, lockdown or no module support") {
  PostureFacts f = GoodFacts();
  f.modules_disabled = SettingFact::Value(0);
  f.module_sig_enforce = "N";
  CHECK(StatusOf(f, "kernel_modules") == CheckStatus::kFail);
  f.module_sig_enforce = "Y";
  CHECK(StatusOf(f, "kernel_modules") == CheckStatus::kOk);
  f.module_sig_enforce = std::nullopt;
  f.lockdown = "none [integrity] confidentiality";
  CHECK(StatusOf(f, "kernel_modules") == CheckStatus::kOk);
  f.lockdown = "[none] integrity confidentiality";
  CHECK(StatusOf(f, "kernel_modules") == CheckStatus::kFail);
  f.modules_disabled = SettingFact::Absent();
  f.module_support = false;
  CHECK(StatusOf(f, "kernel_modules") == CheckStatus::kOk);
}

TEST_CASE("kexec and unprivileged BPF") {
  PostureFacts f = GoodFacts();
  f.kexec_load_disabled = SettingFact::Value(0);
  CHECK(StatusOf(f, "kexec_load_disabled") == CheckStatus::kFail);
  f.lockdown = "none integrity [confidentiality]";
  CHECK(StatusOf(f, "kexec_load_disabled") == CheckStatus::kOk);
  f.kexec_load_disabled = SettingFact::Absent();
  CHECK(StatusOf(f, "kexec_load_disabled") == CheckStatus::kOk);

  f.unprivileged_bpf_disabled = SettingFact::Value(2);
  CHECK(StatusOf(f, "unprivileged_bpf_disabled") == CheckStatus::kOk);
  f.unprivileged_bpf_disabled = SettingFact::Value(0);
  CHECK(StatusOf(f, "unprivileged_bpf_disabled") == CheckStatus::kWarn);
}

TEST_CASE("unprivileged user namespaces") {
  PostureFacts f = GoodFacts();
  f.max_user_namespaces = SettingFact::Value(96364);
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kWarn);
  f.unprivileged_userns_clone = SettingFact::Value(0);
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kOk);
  f.unprivileged_userns_clone = SettingFact::Value(1);
  f.apparmor_restrict_userns = SettingFact::Value(1);
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kOk);
  f.apparmor_restrict_userns = SettingFact::Absent();
  f.max_user_namespaces = SettingFact::Absent();
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kOk);
}

TEST_CASE("writable mounts without noexec: local ones warn, uncovered ones fail") {
  PostureFacts f = GoodFacts();
  // /proc (pseudo, holds no programs) and ro or noexec mounts are not listed.
  f.mounts = Mounts(
      "22 1 0:21 / /proc rw,relatime - proc proc rw\n"
      "25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
      "26 25 0:23 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw\n"
      "27 25 0:24 / /tmp rw,noexec - tmpfs tmpfs rw\n"
      "28 25 7:0 / /mnt/usb ro - vfat /dev/loop0 ro\n");
  const PostureCheck c = Find(EvaluatePosture(f), "writable_exec_mounts");
  CHECK(c.status == CheckStatus::kWarn);
  REQUIRE(c.items.size() == 2);
  CHECK(c.items[0].path == "/");
  CHECK(c.items[1].path == "/dev/shm");
  CHECK(c.items[1].detail == "tmpfs, checked by lockd");
  CHECK(StatusOf(f, "uncovered_filesystems") == CheckStatus::kOk);

  f.mounts.push_back(Mounts("41 25 0:50 / /home/u/remote rw - fuse.sshfs u@h: rw\n")[0]);
  const PostureCheck c2 = Find(EvaluatePosture(f), "writable_exec_mounts");
  CHECK(c2.status == CheckStatus::kFail);
  CHECK(c2.items.size() == 3);
  CHECK(c2.items[2].detail == "fuse.sshfs, not covered by lockd");
}

TEST_CASE("filesystems not covered: FUSE, network and hugetlbfs") {
  PostureFacts f = GoodFacts();
  f.mounts = Mounts(
      "25 1 8:1 / / ro - ext4 /dev/sda1 rw\n"
      "42 25 0:51 /sub /srv/nfs ro,noexec - nfs4 server:/export rw\n");
  const PostureCheck c = Find(EvaluatePosture(f), "uncovered_filesystems");
  CHECK(c.status == CheckStatus::kWarn);  // noexec, but scripts can still be read
  REQUIRE(c.items.size() == 1);
  CHECK(c.items[0].path == "/srv/nfs");
  CHECK(c.items[0].detail == "nfs4, network, noexec");

  f.mounts.push_back(Mounts("43 25 0:52 / /huge rw - hugetlbfs none rw\n")[0]);
  const PostureCheck c2 = Find(EvaluatePosture(f), "uncovered_filesystems");
  CHECK(c2.status == CheckStatus::kFail);
  CHECK(c2.items.size() == 2);

  f.mounts_error = "mountinfo line 3: bad";
  CHECK(StatusOf(f, "uncovered_filesystems") == CheckStatus::kFail);
  CHECK(StatusOf(f, "writable_exec_mounts") == CheckStatus::kFail);
}

TEST_CASE("interpreter basenames, with version suffixes") {
  std::vector<std::string> names = hashdb::Policy::DefaultInterpreters();
  for (const char* yes :
       {"bash", "sh", "python3", "python3.11", "perl5.36.0", "lua5.4", "tclsh8.6", "busybox"}) {
    CHECK_MESSAGE(lockd::IsInterpreterBasename(yes, names), yes);
  }
  for (const char* no : {"sha256sum", "bashbug", "python3-config", "perl.", "shx", "ls", ""}) {
    CHECK_FALSE_MESSAGE(lockd::IsInterpreterBasename(no, names), no);
  }
}

TEST_CASE("interpreters in the allowlist, from a signed database") {
  hashdb::DatabaseContents contents;
  contents.entries = {
      testsupport::EntryFor("/usr/bin/bash", "bash"),
      testsupport::EntryFor("/usr/bin/python3.11", "py"),
      testsupport::EntryFor("/usr/bin/ls", "ls"),
      testsupport::EntryFor("/usr/lib/libpython3.11.so", "lib", hashdb::Kind::kElfSharedObject),
      testsupport::EntryFor("/usr/lib/x/python3", "so", hashdb::Kind::kElfSharedObject),
  };
  auto key = testsupport::NewKey();
  auto bytes = testsupport::BuildBytes(contents, *key);
  auto db = hashdb::Database::FromBytes(bytes, "test.lockdb", testsupport::TrustOf(*key));
  REQUIRE(db.ok());
  lockd::InterpreterFacts in = lockd::InterpreterFactsFromDatabase(**db, "test.lockdb");
  CHECK(in.cover_scripts);
  REQUIRE(in.found.size() == 2);
  CHECK(in.found[0] == lockd::CheckItem{"/usr/bin/bash", "elf-exec"});
  CHECK(in.found[1].path == "/usr/bin/python3.11");

  PostureFacts f = GoodFacts();
  f.interpreters = in;
  auto checks = EvaluatePosture(f);
  const PostureCheck& c = Find(checks, "allowlisted_interpreters");
  CHECK(c.status == CheckStatus::kWarn);
  CHECK(c.why.find("bash -c") != std::string::npos);
  CHECK(c.items.size() == 2);

  f.interpreters->found.clear();
  CHECK(StatusOf(f, "allowlisted_interpreters") == CheckStatus::kOk);
  f.interpreters->cover_scripts = false;
  CHECK(StatusOf(f, "allowlisted_interpreters") == CheckStatus::kWarn);
  f.interpreters->error = "signature does not verify";
  CHECK(StatusOf(f, "allowlisted_interpreters") == CheckStatus::kFail);
}

TEST_CASE("kernel version and lockdown parsing") {
  CHECK(lockd::ParseKernelVersion("6.18.44-fc-v782") == std::make_pair(6, 18));
  CHECK(lockd::ParseKernelVersion("5.4") == std::make_pair(5, 4));
  CHECK_FALSE(lockd::ParseKernelVersion("six").has_value());
  CHECK_FALSE(lockd::ParseKernelVersion("6").has_value());
  CHECK(lockd::SelectedLockdown("none [integrity] confidentiality") == "integrity");
  CHECK(lockd::SelectedLockdown("garbage") == "");
}

TEST_CASE("the collector reads a fake /proc and /sys tree") {
  testsupport::TempDir dir;
  for (const char* d :
       {"proc", "proc/sys", "proc/sys/vm", "proc/sys/kernel", "proc/sys/kernel/yama", "sys",
        "sys/module", "sys/module/module", "sys/module/module/parameters"}) {
    REQUIRE(::mkdir(dir.Join(d).c_str(), 0755) == 0);
  }
  testsupport::WriteFile(dir.Join("proc/sys/vm/memfd_noexec"), "1\n");
  testsupport::WriteFile(dir.Join("proc/sys/kernel/yama/ptrace_scope"), "0\n");
  testsupport::WriteFile(dir.Join("proc/sys/kernel/modules_disabled"), "0\n");
  testsupport::WriteFile(dir.Join("proc/sys/kernel/unprivileged_bpf_disabled"), "garbage\n");
  testsupport::WriteFile(dir.Join("proc/modules"), "");
  testsupport::WriteFile(dir.Join("sys/module/module/parameters/sig_enforce"), "Y\n");
  testsupport::WriteFile(dir.Join("mountinfo"),
                         "25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
                         "41 25 0:50 / /mnt/x rw - fuse.sshfs u@h: rw\n");
  lockd::CollectOptions o;
  o.proc_root = dir.Join("proc");
  o.sys_root = dir.Join("sys");
  o.mountinfo = dir.Join("mountinfo");
  o.probe_fanotify = false;
  PostureFacts f = lockd::CollectPostureFacts(o);
  CHECK(f.memfd_noexec.state == SettingFact::State::kValue);
  CHECK(f.memfd_noexec.value == 1);
  CHECK(f.ptrace_scope.value == 0);
  CHECK(f.kexec_load_disabled.state == SettingFact::State::kAbsent);
  CHECK(f.unprivileged_bpf_disabled.state == SettingFact::State::kUnreadable);
  CHECK(f.module_support);
  CHECK(f.module_sig_enforce == "Y");
  CHECK_FALSE(f.lockdown.has_value());
  CHECK_FALSE(f.mounts_error.has_value());
  CHECK(f.mounts.size() == 2);
  CHECK(f.fanotify_permission.state == ProbeResult::State::kUnknown);
  CHECK_FALSE(f.efi);  // no sys/firmware/efi: legacy boot

  auto checks = EvaluatePosture(f);
  CHECK(Find(checks, "memfd_noexec").status == CheckStatus::kWarn);
  CHECK(Find(checks, "ptrace_scope").status == CheckStatus::kFail);
  CHECK(Find(checks, "kernel_modules").status == CheckStatus::kOk);
  CHECK(Find(checks, "unprivileged_bpf_disabled").status == CheckStatus::kWarn);
  CHECK(Find(checks, "uncovered_filesystems").status == CheckStatus::kFail);

  // EFI: the SecureBoot variable is 4 bytes of attributes and the value byte.
  for (const char* d : {"sys/firmware", "sys/firmware/efi", "sys/firmware/efi/efivars"}) {
    REQUIRE(::mkdir(dir.Join(d).c_str(), 0755) == 0);
  }
  f = lockd::CollectPostureFacts(o);
  CHECK(f.efi);
  CHECK(f.secure_boot.state == SettingFact::State::kAbsent);
  const std::string var =
      dir.Join("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0e1f9e5d5f5");
  testsupport::WriteFile(var, std::string("\x06\0\0\0\x01", 5));
  f = lockd::CollectPostureFacts(o);
  CHECK(f.secure_boot.state == SettingFact::State::kValue);
  CHECK(f.secure_boot.value == 1);
  testsupport::WriteFile(var, std::string("\x06\0\0\0\0", 5));
  CHECK(lockd::CollectPostureFacts(o).secure_boot.value == 0);
  testsupport::WriteFile(var, std::string("\x06", 1));
  CHECK(lockd::CollectPostureFacts(o).secure_boot.state == SettingFact::State::kUnreadable);

  testsupport::WriteFile(dir.Join("mountinfo"), "25 1 8:1 / / rw\n");
  f = lockd::CollectPostureFacts(o);
  REQUIRE(f.mounts_error.has_value());
  CHECK(f.mounts_error->find("line 1") != std::string::npos);
  o.mountinfo = dir.Join("no-such-file");
  f = lockd::CollectPostureFacts(o);
  CHECK(f.mounts_error.has_value());
}

// The real probes (root only). They never place a permission mark: see fanotify_probe.h.
TEST_CASE("fanotify probes on the running kernel (root only)") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: fanotify needs CAP_SYS_ADMIN");
    return;
  }
  ProbeResult perm = lockd::os::ProbeFanotifyPermissionEvents();
  CHECK_MESSAGE(perm.state == ProbeResult::State::kAvailable, perm.detail);
  ProbeResult fs = lockd::os::ProbeFanotifyFilesystemMark("/");
  CHECK_MESSAGE(fs.state == ProbeResult::State::kAvailable, fs.detail);
  ProbeResult missing = lockd::os::ProbeFanotifyFilesystemMark("/no/such/dir");
  CHECK(missing.state != ProbeResult::State::kAvailable);
}

TEST_CASE("unprivileged user namespaces against the signed policy's switch") {
  PostureFacts f = GoodFacts();
  f.max_user_namespaces = SettingFact::Value(96367);
  f.unprivileged_userns_clone = SettingFact::Absent();
  // Policy unknown (no --db): a warning, as before.
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kWarn);
  // The policy says off, the kernel allows them: lockd did not (or could not) apply it.
  f.restrict_user_namespaces = true;
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kFail);
  CHECK(Find(EvaluatePosture(f), "unprivileged_userns").why.find("restrict_user_namespaces") !=
        std::string::npos);
  // The policy deliberately leaves them on: a warning naming that choice.
  f.restrict_user_namespaces = false;
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kWarn);
  CHECK(Find(EvaluatePosture(f), "unprivileged_userns").why.find("leaves them on") !=
        std::string::npos);
  // Applied: ok whatever the policy.
  f.restrict_user_namespaces = true;
  f.max_user_namespaces = SettingFact::Value(0);
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kOk);
  f.max_user_namespaces = SettingFact::Value(96367);
  f.unprivileged_userns_clone = SettingFact::Value(0);
  CHECK(StatusOf(f, "unprivileged_userns") == CheckStatus::kOk);
}

TEST_CASE("overlay layers: found on filesystems lockd marks, or not") {
  PostureFacts f = GoodFacts();
  f.mounts = Mounts(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "30 25 0:40 / /srv rw - tmpfs t rw\n"
      "31 25 0:41 / /ovl rw - overlay o rw,lowerdir=/srv/l,upperdir=/srv/u,workdir=/srv/w\n"
      "32 25 0:20 / /proc rw - proc proc rw\n");
  CHECK(StatusOf(f, "overlay_layers") == CheckStatus::kOk);  // no overlay facts yet
  lockd::OverlayFacts o;
  o.mount_point = "/ovl";
  o.layers.push_back({"lower", "/srv/l", makedev(0, 40), ""});
  o.layers.push_back({"upper", "/srv/u", makedev(0, 40), ""});
  f.overlays = {o};
  auto c = Find(EvaluatePosture(f), "overlay_layers");
  CHECK(c.status == CheckStatus::kOk);
  CHECK(c.why.find("every layer") != std::string::npos);
  // An upper layer on proc (never marked) and a lower layer that cannot be followed.
  f.overlays[0].layers[1].dev = makedev(0, 20);
  f.overlays[0].layers.push_back({"lower", "rel", std::nullopt, "a relative path"});
  c = Find(EvaluatePosture(f), "overlay_layers");
  CHECK(c.status == CheckStatus::kFail);
  REQUIRE(c.items.size() == 2);
  CHECK(c.items[0].detail == "upper layer /srv/u: on no filesystem lockd marks");
  CHECK(c.items[1].detail == "lower layer rel: a relative path");
  // The running lockd's own report wins: it knows what it marked.
  f.overlays[0].layers.pop_back();
  f.overlays[0].layers[1].dev = makedev(0, 40);
  lockd::DaemonFacts d;
  d.socket = "/run/lockd/control.sock";
  d.overlay_gaps = {"overlay /ovl: upper layer /srv/u not covered (no mark)"};
  f.daemon = d;
  c = Find(EvaluatePosture(f), "overlay_layers");
  CHECK(c.status == CheckStatus::kFail);
  REQUIRE(c.items.size() == 1);
  CHECK(c.items[0].path == "overlay /ovl: upper layer /srv/u not covered (no mark)");
  f.daemon->overlay_gaps.clear();
  CHECK(StatusOf(f, "overlay_layers") == CheckStatus::kOk);
}

TEST_CASE("new mounts: mount notifications in the kernel, and what lockd uses") {
  PostureFacts f = GoodFacts();
  CHECK(StatusOf(f, "mount_discovery") == CheckStatus::kOk);
  f.mount_notifications = {ProbeResult::State::kUnavailable, "EINVAL (Linux 6.14+)"};
  CHECK(StatusOf(f, "mount_discovery") == CheckStatus::kWarn);
  f.mount_notifications = {ProbeResult::State::kAvailable, "ok"};
  lockd::DaemonFacts d;
  d.mount_discovery = "mount table polling: ...";
  f.daemon = d;
  auto c = Find(EvaluatePosture(f), "mount_discovery");
  CHECK(c.status == CheckStatus::kWarn);
  CHECK(c.why.find("lockd uses: mount table polling") != std::string::npos);
  f.daemon->mount_discovery = "fanotify mount notifications (FAN_MNT_ATTACH) in 3 of 3";
  CHECK(StatusOf(f, "mount_discovery") == CheckStatus::kOk);
}
