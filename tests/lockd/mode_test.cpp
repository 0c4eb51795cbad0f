#include "lockd/mode.h"

#include <doctest/doctest.h>

TEST_CASE("the mode comes from the signed policy") {
  lockd::ModeSource modes;
  hashdb::Policy policy;
  policy.mode = hashdb::Mode::kEnforce;
  CHECK(modes.Current(policy) == lockd::EffectiveMode::kEnforce);
  policy.mode = hashdb::Mode::kAudit;
  CHECK(modes.Current(policy) == lockd::EffectiveMode::kAudit);
  // Fail closed on a value the daemon does not know.
  policy.mode = static_cast<hashdb::Mode>(77);
  CHECK(modes.Current(policy) == lockd::EffectiveMode::kEnforce);
}
