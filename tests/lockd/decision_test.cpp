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

TEST_CASE("names") {
  CHECK(lockd::ReasonName(Reason::kNotInAllowlist) == "not-in-allowlist");
  CHECK(lockd::VerdictName(Verdict::kWouldDeny) == "would-deny");
}
