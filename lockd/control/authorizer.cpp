#include "lockd/control/authorizer.h"

#include "hashdb/digest.h"
#include "hashdb/trust_store.h"

namespace lockd {

bool IsLowerHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<int> ParseMaintenanceMinutes(std::string_view text) {
  if (text.empty() || text.size() > 4 || text[0] == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxMaintenanceMinutes) return std::nullopt;
  return value;
}

hashdb::Status ValidateActArgument(hashdb::Act act, std::string_view argument) {
  const std::string name(hashdb::ActName(act));
  auto bad = [&](const std::string& expected) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "challenge " + name + ": expected " + expected);
  };
  switch (act) {
    case hashdb::Act::kMaintenanceStart:
      if (!ParseMaintenanceMinutes(argument)) {
        return bad("the window in minutes, 1 to " + std::to_string(kMaxMaintenanceMinutes));
      }
      return {};
    case hashdb::Act::kMaintenanceAbort:
      if (!argument.empty()) return bad("no argument");
      return {};
    case hashdb::Act::kMaintenanceFinish:
    case hashdb::Act::kDbInstall:
      if (!IsLowerHex64(argument)) {
        return bad("the database file's SHA-256 as 64 lower-case hex digits");
      }
      return {};
    case hashdb::Act::kTrustAdd:
    case hashdb::Act::kTrustRetire:
      if (!IsLowerHex64(argument)) return bad("a key id as 64 lower-case hex digits");
      return {};
    case hashdb::Act::kLeaveEnforce:
      return hashdb::MakeError(
          hashdb::ErrorCode::kInvalidArgument,
          "challenge " + name + ": no control command uses this act (use maintenance_start)");
  }
  return bad("a known act");
}

Authorizer::Authorizer(std::string terminal_id, std::string trust_dir, DecisionSink& sink,
                       std::function<std::int64_t()> now)
    : terminal_id_(std::move(terminal_id)),
      trust_dir_(std::move(trust_dir)),
      sink_(sink),
      now_(std::move(now)) {}

ControlReply Authorizer::Challenge(hashdb::Act act, const std::string& argument) {
  auto challenge = hashdb::IssueChallenge(nonces_, terminal_id_, act, argument, now_(),
                                          kChallengeLifetimeSeconds);
  if (!challenge.ok()) {
    return {ControlReply::Code::kError, "challenge: " + challenge.error().message + "\n"};
  }
  return {ControlReply::Code::kOk, hashdb::SerializeChallenge(*challenge)};
}

ControlReply Authorizer::Refuse(hashdb::Act act, std::string_view check, const std::string& message,
                                const std::string& key_id, const std::string& token_id,
                                const std::string& mismatch) {
  std::vector<std::pair<std::string, std::string>> fields{
      {"act", std::string(hashdb::ActName(act))},
      {"check", std::string(check)},
      {"key_id", key_id},
      {"token_id", token_id}};
  if (!mismatch.empty()) fields.emplace_back("mismatch", mismatch);
  sink_.OnDaemonEvent({NowUnixNs(), DaemonEventKind::kAuthorizationRefused,
                       std::string(hashdb::ActName(act)) + ": " + message, 0, std::move(fields)});
  return {ControlReply::Code::kRefused, message + "\n"};
}

std::optional<Authorized> Authorizer::Verify(hashdb::Act act,
                                             const std::optional<std::string>& argument,
                                             const std::string& authorization_text,
                                             ControlReply* refusal) {
  auto parsed = hashdb::ParseAuthorization(authorization_text, "authorization");
  if (!parsed.ok()) {
    *refusal = Refuse(act, hashdb::AuthzCheckName(hashdb::AuthzCheck::kMalformed),
                      "authorization refused: " +
                          std::string(hashdb::AuthzCheckName(hashdb::AuthzCheck::kMalformed)) +
                          ": " + parsed.error().message,
                      "", "");
    return std::nullopt;
  }
  const std::string key_id = hashdb::ToHex(parsed->key_id);
  auto trust = hashdb::TrustStore::LoadDirectory(trust_dir_);
  if (!trust.ok()) {
    // No anchors can be read: nothing can be verified. Not the token's fault, but still a
    // refusal of this act, recorded as such.
    *refusal =
        Refuse(act, "trust store", "authorization refused: trust store: " + trust.error().message,
               key_id, parsed->token.token_id);
    return std::nullopt;
  }
  hashdb::AuthzRequest request;
  request.terminal_id = terminal_id_;
  request.act = act;
  if (argument) {
    request.argument = *argument;
  } else {
    // The signed argument itself; the act check below still binds the act.
    // (A challenge for another act is refused below as kAct, the more useful answer.)
    if (auto valid = ValidateActArgument(act, parsed->challenge.argument);
        parsed->challenge.act == act && !valid.ok()) {
      *refusal = Refuse(act, hashdb::AuthzCheckName(hashdb::AuthzCheck::kMalformed),
                        "authorization refused: malformed: " + valid.error().message, key_id,
                        parsed->token.token_id);
      return std::nullopt;
    }
    request.argument = parsed->challenge.argument;
  }
  request.now = now_();
  const hashdb::AuthzVerdict verdict =
      hashdb::VerifyAuthorization(*parsed, request, *trust, nonces_);
  if (!verdict.ok()) {
    *refusal = Refuse(act, hashdb::AuthzCheckName(verdict.check), verdict.message, key_id,
                      parsed->token.token_id, verdict.mismatch);
    return std::nullopt;
  }
  return Authorized{std::move(*parsed), key_id};
}

}  // namespace lockd
