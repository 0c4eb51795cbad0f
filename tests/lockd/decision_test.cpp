#include "lockd/decision.h"

#include <doctest/doctest.h>

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
