#pragma once
// The decision: a pure function of what was learned about one file (its type, the outcome of
// hashing it through the event fd, the database lookup of the digest) and the effective mode.
// No system calls, no clock, no logging: tested without root in tests/lockd/decision_test.cpp.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "hashdb/database.h"
#include "hashdb/digest.h"
#include "lockd/mode.h"

namespace lockd {

enum class HashStatus {
  kOk,          // digest is the content of the file as read through the event fd
  kReadFailed,  // read error (EIO, ...): content unknown
  kChanged,     // fstat after hashing differs from before, or the length read differed
  kNotHashed,   // not a regular file, or not attempted
};

// Files at least this large that are larger than every allowlisted file are denied without
// being read (Reason::kLargerThanAllowlist); a smaller foreign file is still hashed so its deny
// record carries the digest an auditor needs. The large lane's threshold (worker_pool.h).
inline constexpr std::uint64_t kUnreadSizeRuleBytes = 16 << 20;

// Everything the decision depends on, gathered by the decider: first the facts known without
// reading the file (the event fd's fstat, the filesystem, the database in force), then, when
// those do not decide, the outcome of hashing it.
struct DecisionInput {
  bool database_loaded = true;  // a verified database is in force
  bool facts_known = true;      // the event fd's fstat worked
  bool regular_file = true;
  // On a FUSE or network filesystem (FilesystemMarker::Untrusted), and whether the policy
  // denies those (deny_untrusted_fs).
  bool untrusted_filesystem = false;
  bool deny_untrusted_fs = true;
  // The file's size and the largest size among the database's records.
  std::uint64_t size = 0;
  std::uint64_t max_allowlisted_size = UINT64_MAX;
  // The content, once hashed.
  HashStatus hash = HashStatus::kNotHashed;
  hashdb::Digest digest{};
  // The database's answer for digest (only meaningful when hash == kOk).
  std::optional<hashdb::LookupResult> lookup;
  // Owner and st_mode of the file from the fstat of the event fd that brackets the hash (a
  // chown or chmod during the hash makes it kChanged), and the signed policy's rule on them
  // (deny_user_writable, trusted_owners; the span must outlive the call).
  std::uint32_t owner_uid = 0;
  std::uint32_t file_mode = 0;
  bool deny_user_writable = true;
  std::span<const std::uint32_t> trusted_owners;
};

// Whether someone other than root and the trusted owners can rewrite the file's bytes through
// its inode: its owner is neither root nor in `trusted_owners`, or group or others may write it.
bool UserWritable(std::uint32_t owner_uid, std::uint32_t mode,
                  std::span<const std::uint32_t> trusted_owners);

enum class Reason {
  kAllowlisted,          // digest in the allowlist
  kNotInAllowlist,       // digest not in the allowlist
  kReadFailed,           // could not read the file: never allowed on faith
  kChangedWhileHashing,  // the file changed under the hash: what runs is not what was hashed
  kNotRegularFile,       // exec of something that is not a regular file
  // Exec (or library / script load) from a FUSE or network filesystem under a policy with
  // deny_untrusted_fs: its content is served by another process or machine, which can show
  // lockd's read different bytes from the loader's, so no hash of it proves anything.
  kUntrustedFilesystem,
  // The file is at least kUnreadSizeRuleBytes and larger than every file in the allowlist, so
  // its content cannot be allowlisted: denied without reading it (an exec of a huge sparse
  // file must not occupy a worker).
  kLargerThanAllowlist,
  // Allowlisted content in a file a user can rewrite (UserWritable) under a policy with
  // deny_user_writable: the digest holds only for the moment of the check, and a mapped
  // library or a script being read is read again later, so the owner could run other bytes.
  // Checked only for allowlisted content: foreign content stays not-in-allowlist.
  kWritableByUser,
};
std::string_view ReasonName(Reason reason);  // "allowlisted", "not-in-allowlist", ...

enum class Verdict {
  kAllow,      // allowed (allowlisted, or nothing to judge)
  kDeny,       // denied (enforce)
  kWouldDeny,  // allowed because of the mode, but enforce would have denied it: logged
};
std::string_view VerdictName(Verdict verdict);  // "allow", "deny", "would-deny"

struct Decision {
  Verdict verdict = Verdict::kDeny;
  Reason reason = Reason::kNotInAllowlist;
  bool allow() const { return verdict != Verdict::kDeny; }
  // Whether the decision is a record an operator must see (deny or would-deny).
  bool notable() const { return verdict != Verdict::kAllow; }
};

// The judgement from the facts known before reading the file, when they decide (no database,
// unreadable metadata, not a regular file, an untrusted filesystem under deny_untrusted_fs, a
// large size no allowlisted file has); nullopt when the content must be hashed. Never allows.
std::optional<Reason> JudgeWithoutContent(const DecisionInput& input);
// Whether the content is acceptable, independent of mode: JudgeWithoutContent, else the hash
// and the lookup. The only place a Reason is chosen.
Reason Judge(const DecisionInput& input);
// Applies the mode to a judgement: enforce denies what is not allowlisted; audit (and the
// maintenance mode to come) allow it and flag it as would-deny.
Decision ApplyMode(Reason reason, EffectiveMode mode);
inline Decision Decide(const DecisionInput& input, EffectiveMode mode) {
  return ApplyMode(Judge(input), mode);
}

}  // namespace lockd
