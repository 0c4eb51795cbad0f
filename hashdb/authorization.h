#pragma once
// Authorization of privileged acts (leave enforce, maintenance, database install, trust
// changes). lockd issues a Challenge (fresh random nonce, this terminal's id, the act and its
// argument, a validity window); a token signs it together with its own descriptor; lockd checks
// the resulting Authorization with VerifyAuthorization. Format: docs/authorization.md.
//
// Security: the signature covers every field (challenge and token info) through
// CanonicalBytes, which starts with a domain-separation prefix so that no other signed object
// of lockd (a database, an export manifest) can ever be replayed as an authorization.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/keys.h"
#include "hashdb/nonce_store.h"
#include "hashdb/result.h"
#include "hashdb/trust_store.h"

namespace hashdb {

inline constexpr std::uint16_t kChallengeVersion = 1;
// Signed bytes start with this, NUL included.
inline constexpr std::string_view kAuthorizationDomain{"lockd-authz-v1\0", 15};
// Longest accepted text field (holder, argument, ...) and whole serialized object. Both cross
// the control socket from unprivileged callers, so they are bounded.
inline constexpr std::size_t kMaxFieldSize = 256;
inline constexpr std::size_t kMaxAuthorizationText = 8192;
// A challenge is valid for at most this long: long enough to walk to the terminal's keyboard
// and type a PIN, short enough that a captured challenge is useless soon after.
inline constexpr std::int64_t kMaxChallengeLifetime = 3600;

enum class Act {
  kLeaveEnforce,       // argument: the mode entered ("audit", "off")
  kMaintenanceStart,   // argument: window length in minutes
  kMaintenanceFinish,  // argument: hex SHA-256 of the database file to be installed
  kMaintenanceAbort,   // argument: ""
  kDbInstall,          // argument: hex SHA-256 of the database file
  kTrustAdd,           // argument: hex key id of the anchor added
  kTrustRetire,        // argument: hex key id of the anchor retired
};
std::string_view ActName(Act act);  // "leave_enforce", "maintenance_start", ...
std::optional<Act> ActFromName(std::string_view name);

struct Challenge {
  std::uint16_t version = kChallengeVersion;
  Nonce nonce{};
  std::string terminal_id;  // lower-case hex (see hashdb/terminal_id.h)
  Act act = Act::kMaintenanceStart;
  std::string argument;
  std::int64_t issued_at = 0;   // seconds since the epoch, UTC
  std::int64_t expires_at = 0;  // first second at which the challenge is no longer valid
};

// What a token says about itself. For a file token: its descriptor; for a PKCS#11 token: its
// serial and label or its certificate. Signed with the challenge, so it cannot be altered after
// signing; but it is the token's own claim (see docs/authorization.md, "Token expiry").
struct TokenInfo {
  std::string token_id;
  std::string holder;
  std::string organisation;
  std::string not_after;  // "YYYY-MM-DD" (valid through that day, UTC) or "" for none
};

struct Authorization {
  Challenge challenge;
  TokenInfo token;
  KeyId key_id{};
  std::vector<std::uint8_t> signature;
};

// A fresh challenge with a random nonce, valid from now for lifetime seconds (clamped to
// 1..kMaxChallengeLifetime). Fails only if the random generator fails or a field is invalid.
Result<Challenge> NewChallenge(const std::string& terminal_id, Act act, std::string argument,
                               std::int64_t now, std::int64_t lifetime);

// NewChallenge, then records its nonce as issued in nonces, with the challenge's text (what
// VerifyAuthorization compares the signed challenge with): what lockd does for every challenge
// request. Fails if either step fails (the challenge is then unusable).
Result<Challenge> IssueChallenge(NonceStore& nonces, const std::string& terminal_id, Act act,
                                 std::string argument, std::int64_t now, std::int64_t lifetime);

// The exact bytes signed: kAuthorizationDomain, then every field length-prefixed.
std::vector<std::uint8_t> CanonicalBytes(const Challenge& challenge, const TokenInfo& token,
                                         const KeyId& key_id);

// Signs challenge as the holder of token with signer. Checks the token info is well formed
// (so a token never signs something the verifier would reject as malformed).
Result<Authorization> SignChallenge(const Challenge& challenge, const TokenInfo& token,
                                    Signer& signer);

// Text forms ("lockd-challenge-v1" / "lockd-authorization-v1" then "key: value" lines in a
// fixed order). Parsers are strict: every field exactly once, in order, bounded, no control
// characters; errors name source_name, the line and what was expected.
std::string SerializeChallenge(const Challenge& challenge);
Result<Challenge> ParseChallenge(std::string_view text, const std::string& source_name);
std::string SerializeAuthorization(const Authorization& authorization);
Result<Authorization> ParseAuthorization(std::string_view text, const std::string& source_name);

// "YYYY-MM-DD" -> the first second after that day (UTC); nullopt if not a valid date.
std::optional<std::int64_t> EndOfDayUtc(std::string_view date);

// Which check refused an authorization. Stable: tests and the audit log use these.
enum class AuthzCheck {
  kOk,
  kMalformed,         // a field is out of range or not well formed
  kUnknownKey,        // signer key id is not a trust anchor
  kSignature,         // signature does not verify with that anchor
  kTerminal,          // challenge is for another terminal
  kAct,               // challenge authorizes another act or argument
  kNotYetValid,       // issued_at is in the future
  kChallengeExpired,  // now >= expires_at
  kTokenExpired,      // token's not-after day has passed
  kNonceUnknown,      // nonce was not issued by this lockd (or has been pruned)
  kReplay,            // nonce was already used
  kNonceStore,        // the nonce store failed (I/O)
  kNotAsIssued,       // the signed challenge is not the one issued with its nonce
};
std::string_view AuthzCheckName(AuthzCheck check);

// What lockd is about to do, and when.
struct AuthzRequest {
  std::string terminal_id;
  Act act = Act::kMaintenanceStart;
  std::string argument;
  std::int64_t now = 0;
};

struct AuthzVerdict {
  AuthzCheck check = AuthzCheck::kOk;  // kOk, or the first check that failed
  std::string message;                 // "authorization refused: <check>: <details>"
  // kNotAsIssued only: the first field that differs from the issued challenge: "terminal",
  // "act", "argument", "duration" (the minutes of maintenance_start) or "validity".
  std::string mismatch;
  bool ok() const { return check == AuthzCheck::kOk; }
};

// The first field in which signed differs from issued (names as AuthzVerdict::mismatch), ""
// when they are the same challenge (nonce included).
std::string ChallengeMismatch(const Challenge& issued, const Challenge& signed_challenge);

// Every check of VerifyAuthorization that does not involve the nonce store: well-formed,
// signer is an anchor, signature, terminal id, act and argument, validity window at
// request.now, token not-after at request.now. Used alone when lockd checks again an
// authorization it accepted earlier (a maintenance window resumed after a restart, with now =
// the time it was accepted): its nonce is used (or forgotten) by then.
AuthzVerdict CheckAuthorization(const Authorization& authorization, const AuthzRequest& request,
                                const TrustStore& trust);

// CheckAuthorization, then: the signed challenge must be exactly the one issued with its nonce
// (kNotAsIssued: a nonce asked for "maintenance_start 30" does not authorize 1440 minutes or
// another act), then consumes the nonce (only when everything else passed, so a forged or
// misdirected authorization does not burn a legitimate nonce). Exactly one successful verdict
// is ever returned for one nonce, as long as the NonceStore keeps its contract. Never throws;
// never logs.
AuthzVerdict VerifyAuthorization(const Authorization& authorization, const AuthzRequest& request,
                                 const TrustStore& trust, NonceStore& nonces);

}  // namespace hashdb
