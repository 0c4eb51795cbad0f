#include "lockd/decision.h"

#include <sys/stat.h>

#include <algorithm>

namespace lockd {

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kAllowlisted:
      return "allowlisted";
    case Reason::kNotInAllowlist:
      return "not-in-allowlist";
    case Reason::kReadFailed:
      return "read-failed";
    case Reason::kChangedWhileHashing:
      return "changed-while-hashing";
    case Reason::kNotRegularFile:
      return "not-a-regular-file";
    case Reason::kUntrustedFilesystem:
      return "untrusted-filesystem";
    case Reason::kLargerThanAllowlist:
      return "larger-than-allowlist";
    case Reason::kWritableByUser:
      return "writable-by-user";
  }
  return "unknown";
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow:
      return "allow";
    case Verdict::kDeny:
      return "deny";
    case Verdict::kWouldDeny:
      return "would-deny";
  }
  return "unknown";
}

std::optional<Reason> JudgeWithoutContent(const DecisionInput& input) {
  // Without a database there is nothing to allow against; without metadata nothing is known.
  if (!input.database_loaded || !input.facts_known) return Reason::kReadFailed;
  if (!input.regular_file) return Reason::kNotRegularFile;
  if (input.untrusted_filesystem && input.deny_untrusted_fs) return Reason::kUntrustedFilesystem;
  if (input.size >= kUnreadSizeRuleBytes && input.size > input.max_allowlisted_size) {
    return Reason::kLargerThanAllowlist;
  }
  return std::nullopt;
}

Reason Judge(const DecisionInput& input) {
  if (auto early = JudgeWithoutContent(input)) return *early;
  switch (input.hash) {
    case HashStatus::kReadFailed:
    case HashStatus::kNotHashed:
      return Reason::kReadFailed;
    case HashStatus::kChanged:
      return Reason::kChangedWhileHashing;
    case HashStatus::kOk:
      break;
  }
  if (!input.lookup.has_value()) return Reason::kNotInAllowlist;
  if (input.deny_user_writable &&
      UserWritable(input.owner_uid, input.file_mode, input.trusted_owners)) {
    return Reason::kWritableByUser;
  }
  return Reason::kAllowlisted;
}

bool UserWritable(std::uint32_t owner_uid, std::uint32_t mode,
                  std::span<const std::uint32_t> trusted_owners) {
  if ((mode & (S_IWGRP | S_IWOTH)) != 0) return true;
  if (owner_uid == 0) return false;
  return std::find(trusted_owners.begin(), trusted_owners.end(), owner_uid) == trusted_owners.end();
}

Decision ApplyMode(Reason reason, EffectiveMode mode) {
  Decision d;
  d.reason = reason;
  if (reason == Reason::kAllowlisted) {
    d.verdict = Verdict::kAllow;
  } else if (mode == EffectiveMode::kEnforce) {
    d.verdict = Verdict::kDeny;
  } else {
    d.verdict = Verdict::kWouldDeny;
  }
  return d;
}

}  // namespace lockd
