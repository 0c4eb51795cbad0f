#pragma once
// Kernel settings under /proc/sys, read and written by their dotted names ("vm.memfd_noexec"),
// and the one setting lockd changes itself: vm.memfd_noexec.
//
// The root directory is a parameter so that the logic can be tested against a plain directory
// of files; in production it is /proc/sys. Values are read and written through file
// descriptors opened with O_CLOEXEC | O_NOFOLLOW.

#include <optional>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockd::os {

// Reads a small kernel-provided text file (/proc/sys/..., /sys/module/.../parameters/...,
// /sys/kernel/security/lockdown) with trailing whitespace removed; std::nullopt when it does not
// exist (ENOENT). Refuses values over 4 KiB and symlinks in the last component.
hashdb::Result<std::optional<std::string>> ReadKernelFile(const std::string& path);

class Sysctl {
 public:
  explicit Sysctl(std::string root = "/proc/sys") : root_(std::move(root)) {}

  // "vm.memfd_noexec" -> "<root>/vm/memfd_noexec". Names are dotted components of
  // [A-Za-z0-9_-]; anything else (empty components, "..", '/') is kInvalidArgument, so that a
  // name can never address a file outside the root.
  hashdb::Result<std::string> PathOf(std::string_view name) const;

  // The value with trailing whitespace removed; std::nullopt when the setting does not exist
  // (ENOENT: the kernel was built without it). Any other failure is an error naming the file.
  hashdb::Result<std::optional<std::string>> Read(std::string_view name) const;
  // Read() parsed as one decimal integer; a value that is not one is kFormat.
  hashdb::Result<std::optional<long>> ReadInt(std::string_view name) const;
  // Writes value followed by '\n' in one write(2) (O_TRUNC: /proc ignores it, a plain file
  // standing in for a setting in tests then holds exactly the value). ENOENT is kNotFound; EPERM /
  // EACCES / EINVAL from the kernel are returned as kIo with the errno kept.
  hashdb::Status Write(std::string_view name, std::string_view value) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// vm.memfd_noexec values (Documentation/admin-guide/sysctl/vm.rst, since Linux 6.3):
//   0: memfd_create() without flags makes executable memfds (old behaviour);
//   1: memfd_create() without flags implies MFD_NOEXEC_SEAL, MFD_EXEC still allowed;
//   2: MFD_EXEC refused and every memfd is sealed non-executable.
// The setting is per pid namespace; a namespace's effective value is the highest of its own and
// its ancestors', and it can be raised but never lowered. So setting 2 cannot be undone until
// reboot: tests must do it only inside a fresh pid namespace.
inline constexpr long kMemfdNoexecEnforced = 2;
inline constexpr std::string_view kMemfdNoexecName = "vm.memfd_noexec";

struct MemfdNoexecResult {
  enum class Outcome {
    kSet,          // was lower, now 2
    kAlreadySet,   // was 2 already (set by the admin, an earlier run or a parent namespace)
    kUnsupported,  // the kernel has no vm.memfd_noexec (before 6.3, or built without it):
                   // memfd execution cannot be shut by lockd on this kernel
  };
  Outcome outcome = Outcome::kUnsupported;
  std::optional<long> before;  // value read before writing (absent for kUnsupported)
  std::string message;         // one line for the daemon's log, e.g. "vm.memfd_noexec 0 -> 2"
};

// Sets vm.memfd_noexec=2 in the caller's pid namespace (and so in every namespace below it).
// Needs CAP_SYS_ADMIN in the namespace's user namespace. kUnsupported is a result, not an
// error: the caller decides how loudly to report it (lockd logs it as a coverage gap;
// `lockctl doctor` fails the check). Errors: the write was refused (EPERM without privilege),
// the value could not be read, or it did not read back as 2 after writing.
hashdb::Result<MemfdNoexecResult> SetMemfdNoexec(const Sysctl& sysctl = Sysctl());

// The settings that let unprivileged users create user namespaces, and with them mount
// namespaces in which they mount filesystems of their own (tmpfs, overlay, FUSE) that lockd
// must find before they are used:
//   user.max_user_namespaces: how many user namespaces may exist; 0 refuses every new one, to
//     root as well (a container runtime or a sandboxing browser then needs another setting).
//     It is per user namespace and checked in every ancestor, so a test can set it inside a
//     user namespace of its own without touching the machine's value;
//   kernel.unprivileged_userns_clone: Debian's and Ubuntu's own patch; 0 refuses them to
//     unprivileged users only. Absent on other kernels.
inline constexpr std::string_view kMaxUserNamespacesName = "user.max_user_namespaces";
inline constexpr std::string_view kUnprivilegedUsernsCloneName = "kernel.unprivileged_userns_clone";

}  // namespace lockd::os
