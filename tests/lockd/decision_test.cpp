#include "lockd/decision.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <vector>

using lockd::Decide;
using lockd::DecisionInput;
using lockd::EffectiveMode;
using lockd::HashStatus;
using lockd::Reason;
using lockd::Verdict;

namespace {
DecisionInput Hashed(bool in_allowlist) {
  DecisionInput in;
  in.hash = HashStatus::kOk;
  in.digest[0] = 1;
  if (in_allowlist) in.lookup = hashdb::LookupResult{hashdb::Kind::kElfExecutable, 0};
  return in;
}
}  // namespace

TEST_CASE("allowlisted content is allowed in every mode") {
  for (auto mode : {EffectiveMode::kEnforce, EffectiveMode::kAudit}) {
    auto d = Decide(Hashed(true), mode);
    CHECK(d.verdict == Verdict::kAllow);
    CHECK(d.reason == Reason::kAllowlisted);
    CHECK(d.allow());
    CHECK_FALSE(d.notable());
  }
}

TEST_CASE("unknown content is denied in enforce and would-deny in audit") {
  auto enforce = Decide(Hashed(false), EffectiveMode::kEnforce);
  CHECK(enforce.verdict == Verdict::kDeny);
  CHECK(enforce.reason == Reason::kNotInAllowlist);
  CHECK_FALSE(enforce.allow());
  CHECK(enforce.notable());
  auto audit = Decide(Hashed(false), EffectiveMode::kAudit);
  CHECK(audit.verdict == Verdict::kWouldDeny);
  CHECK(audit.allow());
  CHECK(audit.notable());
}

TEST_CASE("a file that changed while hashed is denied even if its digest is allowlisted") {
  DecisionInput in = Hashed(true);
  in.hash = HashStatus::kChanged;
  auto d = Decide(in, EffectiveMode::kEnforce);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason == Reason::kChangedWhileHashing);
}

TEST_CASE("read failures and unhashed files are never allowed on faith") {
  for (auto status : {HashStatus::kReadFailed, HashStatus::kNotHashed}) {
    DecisionInput in = Hashed(true);
    in.hash = status;
    auto d = Decide(in, EffectiveMode::kEnforce);
    CHECK(d.verdict == Verdict::kDeny);
    CHECK(d.reason == Reason::kReadFailed);
  }
}

TEST_CASE("exec of something that is not a regular file is denied") {
  DecisionInput in = Hashed(true);
  in.regular_file = false;
  CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kNotRegularFile);
  CHECK(Decide(in, EffectiveMode::kEnforce).verdict == Verdict::kDeny);
}

TEST_CASE("every reason comes from the facts, in order, before any content is read") {
  DecisionInput in = Hashed(true);
  CHECK_FALSE(lockd::JudgeWithoutContent(in).has_value());  // must be hashed
  // A small file larger than every allowlisted one is still hashed (its record keeps the
  // digest); from kUnreadSizeRuleBytes on it is denied unread.
  in.size = 100;
  in.max_allowlisted_size = 99;
  CHECK_FALSE(lockd::JudgeWithoutContent(in).has_value());
  in.size = lockd::kUnreadSizeRuleBytes;
  in.max_allowlisted_size = lockd::kUnreadSizeRuleBytes - 1;
  CHECK(lockd::JudgeWithoutContent(in) == Reason::kLargerThanAllowlist);
  CHECK(lockd::Judge(in) == Reason::kLargerThanAllowlist);  // even with an allowlisted digest
  in.untrusted_filesystem = true;
  CHECK(lockd::Judge(in) == Reason::kUntrustedFilesystem);
  in.deny_untrusted_fs = false;  // policy allows them: hashed like any other file
  CHECK(lockd::Judge(in) == Reason::kLargerThanAllowlist);
  in.max_allowlisted_size = lockd::kUnreadSizeRuleBytes;  // equal size may be allowlisted
  CHECK(lockd::Judge(in) == Reason::kAllowlisted);
  in.regular_file = false;
  CHECK(lockd::Judge(in) == Reason::kNotRegularFile);
  in.facts_known = false;
  CHECK(lockd::Judge(in) == Reason::kReadFailed);
  in = Hashed(true);
  in.database_loaded = false;
  CHECK(lockd::Judge(in) == Reason::kReadFailed);
  CHECK(Decide(in, EffectiveMode::kAudit).verdict == Verdict::kWouldDeny);
}

TEST_CASE("names") {
  CHECK(lockd::ReasonName(Reason::kNotInAllowlist) == "not-in-allowlist");
  CHECK(lockd::VerdictName(Verdict::kWouldDeny) == "would-deny");
}

namespace {
// Allowlisted content in a file owned by `uid` with permission bits `perm`.
DecisionInput Owned(std::uint32_t uid, std::uint32_t perm) {
  DecisionInput in = Hashed(true);
  in.owner_uid = uid;
  in.file_mode = S_IFREG | perm;
  return in;
}
}  // namespace

TEST_CASE("deny_user_writable: allowlisted content a user can rewrite is denied") {
  const std::vector<std::uint32_t> trusted{998, 1001};
  SUBCASE("root-owned, not writable by group or others: allowed") {
    for (std::uint32_t perm : {0755u, 0555u, 0700u, 04755u}) {
      auto in = Owned(0, perm);
      CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kAllowlisted);
    }
  }
  SUBCASE("owned by a user: denied in enforce, would-deny in audit, whatever the bits") {
    for (std::uint32_t perm : {0755u, 0500u}) {
      auto in = Owned(1000, perm);
      auto d = Decide(in, EffectiveMode::kEnforce);
      CHECK(d.verdict == Verdict::kDeny);
      CHECK(d.reason == Reason::kWritableByUser);
      CHECK(Decide(in, EffectiveMode::kAudit).verdict == Verdict::kWouldDeny);
    }
  }
  SUBCASE("root-owned but writable by group or others: denied") {
    for (std::uint32_t perm : {0775u, 0757u, 0777u, 0620u}) {
      CHECK(Decide(Owned(0, perm), EffectiveMode::kEnforce).reason == Reason::kWritableByUser);
    }
  }
  SUBCASE("a trusted owner counts as root, group/other bits still count") {
    auto in = Owned(1001, 0755);
    in.trusted_owners = trusted;
    CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kAllowlisted);
    in.file_mode = S_IFREG | 0775;
    CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kWritableByUser);
    auto other = Owned(1000, 0755);
    other.trusted_owners = trusted;
    CHECK(Decide(other, EffectiveMode::kEnforce).reason == Reason::kWritableByUser);
  }
  SUBCASE("the switch off (--allow-user-writable-code): allowed") {
    auto in = Owned(1000, 0777);
    in.deny_user_writable = false;
    CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kAllowlisted);
  }
  SUBCASE("foreign content stays not-in-allowlist; failed hashes keep their reason") {
    auto in = Owned(1000, 0777);
    in.lookup.reset();
    CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kNotInAllowlist);
    in.hash = HashStatus::kChanged;
    CHECK(Decide(in, EffectiveMode::kEnforce).reason == Reason::kChangedWhileHashing);
  }
  CHECK(lockd::ReasonName(Reason::kWritableByUser) == "writable-by-user");
}

TEST_CASE("UserWritable") {
  const std::vector<std::uint32_t> none;
  CHECK_FALSE(lockd::UserWritable(0, S_IFREG | 0755, none));
  CHECK(lockd::UserWritable(0, S_IFREG | 0765, none));
  CHECK(lockd::UserWritable(0, S_IFREG | 0756, none));
  CHECK(lockd::UserWritable(1, S_IFREG | 0555, none));
  CHECK(lockd::UserWritable(4294967295u, S_IFREG | 0555, none));
}
