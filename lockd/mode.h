#pragma once
// The effective mode lockd enforces, and where it comes from.
//
// Today the mode is the signed database's policy.mode: editing a text file cannot switch
// enforcement off. Issue 5 (token-authorized mode changes and maintenance) adds a second source:
// a token-signed authorization accepted over the control socket, which ModeSource::Current
// consults before the database. That is the only place to change: every decision asks
// ModeSource for the mode, and nothing else reads policy().mode.

#include <string_view>

#include "hashdb/policy.h"

namespace lockd {

enum class EffectiveMode {
  kEnforce,  // deny what is not allowlisted, log it
  kAudit,    // allow it, log it as would-deny
  kMaintenance,  // allow, and record new or changed executables for the re-baseline
};
std::string_view EffectiveModeName(EffectiveMode mode);  // "enforce", "audit", "maintenance"

class ModeSource {
 public:
  // policy: of the database in force. Thread-safe (pure today).
  EffectiveMode Current(const hashdb::Policy& policy) const;
};

}  // namespace lockd
