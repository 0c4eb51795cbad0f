#pragma once
// The effective mode lockd enforces, and where it comes from.
//
// Two sources: the signed database's policy.mode (editing a text file cannot switch
// enforcement off), and an open maintenance window (lockd/maintenance/controller.h), opened
// only by a token-signed authorization over the control socket and closed by finish, abort or
// its own end. Every decision asks ModeSource for the mode, and nothing else reads
// policy().mode.

#include <atomic>
#include <string_view>

#include "hashdb/policy.h"

namespace lockd {

enum class EffectiveMode {
  kEnforce,      // deny what is not allowlisted, log it
  kAudit,        // allow it, log it as would-deny
  kMaintenance,  // allow, and record new or changed executables for the re-baseline
};
std::string_view EffectiveModeName(EffectiveMode mode);  // "enforce", "audit", "maintenance"

// The mode the policy alone gives (no maintenance window): audit only when the policy says so
// explicitly, else enforce (fail closed).
EffectiveMode PolicyMode(const hashdb::Policy& policy);

class ModeSource {
 public:
  // policy: of the database in force. Thread-safe: kMaintenance while a window is open, else
  // PolicyMode(policy).
  EffectiveMode Current(const hashdb::Policy& policy) const;

  // Set by the maintenance controller only, after the window is persisted (open) or removed
  // (closed).
  void SetMaintenance(bool open) { maintenance_.store(open, std::memory_order_release); }
  bool maintenance() const { return maintenance_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> maintenance_{false};
};

}  // namespace lockd
