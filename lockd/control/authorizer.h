#pragma once
// Token-authorized acts on the control socket: the checks of a request's form (pure), and the
// Authorizer that issues challenges and verifies authorizations against the trust anchors.
//
// Security: every privileged act (maintenance, database install, trust changes) passes through
// Authorizer::Verify, which re-reads the trust directory each time (a retired anchor stops
// counting at once), binds the act and its argument, checks that what the token signed is the
// very challenge issued with the nonce (act, argument, terminal, validity), and consumes the
// nonce, so an authorization works once, on this terminal, for the act and argument it was
// asked for only. Each refusal is written to the audit log (authz_refused) with the check that
// failed (and, for "not as issued", the field that differs).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/nonce_store.h"
#include "hashdb/result.h"
#include "lockd/control/server.h"
#include "lockd/decision_sink.h"

namespace lockd {

// Longest maintenance window a token can authorize, in minutes (one day).
inline constexpr int kMaxMaintenanceMinutes = 1440;
// How long a challenge stays usable: time to type a passphrase or PIN, not more.
inline constexpr std::int64_t kChallengeLifetimeSeconds = 600;

// 64 lower-case hex digits (a SHA-256 or a key id as lockd prints them).
bool IsLowerHex64(std::string_view text);
// Minutes of a maintenance_start argument: decimal 1..kMaxMaintenanceMinutes, no sign, no
// leading zero; nullopt otherwise.
std::optional<int> ParseMaintenanceMinutes(std::string_view text);
// The argument a challenge for act may carry (see lockd/control/server.h). An error names the
// act and what was expected. kLeaveEnforce has no command on the socket and is refused.
hashdb::Status ValidateActArgument(hashdb::Act act, std::string_view argument);

// What a successful verification hands to the act.
struct Authorized {
  hashdb::Authorization authorization;
  std::string key_id_hex;
};

class Authorizer {
 public:
  // terminal_id: this terminal's id (hashdb/terminal_id.h); trust_dir: the anchors, read on
  // every Verify; sink: receives authz_refused records; now: seconds since the epoch.
  Authorizer(std::string terminal_id, std::string trust_dir, DecisionSink& sink,
             std::function<std::int64_t()> now);

  // A fresh challenge for act and argument (validated by the caller), as "ok" + its text.
  ControlReply Challenge(hashdb::Act act, const std::string& argument);

  // Parses and verifies authorization_text for act and argument now. argument nullopt: the
  // act's argument is the one in the signed challenge (maintenance_start's minutes), which is
  // then checked with ValidateActArgument. On refusal returns nullopt with *refusal set
  // ("refused", naming the check) and writes authz_refused.
  std::optional<Authorized> Verify(hashdb::Act act, const std::optional<std::string>& argument,
                                   const std::string& authorization_text, ControlReply* refusal);

  const std::string& terminal_id() const { return terminal_id_; }
  std::int64_t Now() const { return now_(); }

 private:
  ControlReply Refuse(hashdb::Act act, std::string_view check, const std::string& message,
                      const std::string& key_id, const std::string& token_id,
                      const std::string& mismatch = "");

  const std::string terminal_id_;
  const std::string trust_dir_;
  DecisionSink& sink_;
  std::function<std::int64_t()> now_;
  hashdb::MemoryNonceStore nonces_;
};

}  // namespace lockd
