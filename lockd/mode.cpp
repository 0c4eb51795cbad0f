#include "lockd/mode.h"

namespace lockd {

std::string_view EffectiveModeName(EffectiveMode mode) {
  switch (mode) {
    case EffectiveMode::kEnforce:
      return "enforce";
    case EffectiveMode::kAudit:
      return "audit";
    case EffectiveMode::kMaintenance:
      return "maintenance";
  }
  return "enforce";
}

EffectiveMode PolicyMode(const hashdb::Policy& policy) {
  // Fail closed: any policy mode other than an explicit audit is enforced.
  return policy.mode == hashdb::Mode::kAudit ? EffectiveMode::kAudit : EffectiveMode::kEnforce;
}

EffectiveMode ModeSource::Current(const hashdb::Policy& policy) const {
  if (maintenance()) return EffectiveMode::kMaintenance;
  return PolicyMode(policy);
}

}  // namespace lockd
