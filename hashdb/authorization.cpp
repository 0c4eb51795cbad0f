#include "hashdb/authorization.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

#include "hashdb/digest.h"

namespace hashdb {

namespace {

constexpr std::array<std::pair<Act, std::string_view>, 7> kActNames{{
    {Act::kLeaveEnforce, "leave_enforce"},
    {Act::kMaintenanceStart, "maintenance_start"},
    {Act::kMaintenanceFinish, "maintenance_finish"},
    {Act::kMaintenanceAbort, "maintenance_abort"},
    {Act::kDbInstall, "db_install"},
    {Act::kTrustAdd, "trust_add"},
    {Act::kTrustRetire, "trust_retire"},
}};

constexpr std::size_t kMaxSignatureSize = 512;
constexpr std::size_t kMaxTerminalIdSize = 64;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Empty when s is an acceptable text field, else why not.
std::string CheckText(std::string_view what, std::string_view s) {
  if (s.size() > kMaxFieldSize) {
    return std::string(what) + " is longer than " + std::to_string(kMaxFieldSize) + " bytes";
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return std::string(what) + " contains a control character";
  }
  return "";
}

// Empty when every field is in range, else the first problem.
std::string CheckFields(const Challenge& c, const TokenInfo& t) {
  if (c.version != kChallengeVersion) {
    return "challenge version " + std::to_string(c.version) + " is not supported (expected " +
           std::to_string(kChallengeVersion) + ")";
  }
  if (c.terminal_id.empty() || c.terminal_id.size() > kMaxTerminalIdSize ||
      !IsLowerHex(c.terminal_id)) {
    return "terminal id must be 1 to 64 lower-case hex digits";
  }
  if (c.issued_at < 0 || c.expires_at <= c.issued_at ||
      c.expires_at - c.issued_at > kMaxChallengeLifetime) {
    return "validity window " + std::to_string(c.issued_at) + ".." + std::to_string(c.expires_at) +
           " is empty or longer than " + std::to_string(kMaxChallengeLifetime) + " s";
  }
  for (auto [what, value] :
       {std::pair<std::string_view, const std::string&>{"argument", c.argument},
        {"token id", t.token_id},
        {"holder", t.holder},
        {"organisation", t.organisation},
        {"not-after", t.not_after}}) {
    if (std::string why = CheckText(what, value); !why.empty()) return why;
  }
  if (t.token_id.empty()) return "token id is empty";
  if (!t.not_after.empty() && !EndOfDayUtc(t.not_after)) {
    return "not-after \"" + t.not_after + "\" is not a date YYYY-MM-DD";
  }
  return "";
}

void PutU16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void PutU64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void PutString(std::vector<std::uint8_t>& out, std::string_view s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

std::string_view ActName(Act act) {
  for (const auto& [a, name] : kActNames) {
    if (a == act) return name;
  }
  return "unknown";
}

std::optional<Act> ActFromName(std::string_view name) {
  for (const auto& [a, n] : kActNames) {
    if (n == name) return a;
  }
  return std::nullopt;
}

std::optional<std::int64_t> EndOfDayUtc(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    auto r = std::from_chars(date.data() + pos, date.data() + pos + len, v);
    return (r.ec == std::errc() && r.ptr == date.data() + pos + len) ? v : -1;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1970 || m < 1 || d < 1) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return (sys_days(ymd) + days{1}).time_since_epoch() / seconds{1};
}

Result<Challenge> NewChallenge(const std::string& terminal_id, Act act, std::string argument,
                               std::int64_t now, std::int64_t lifetime) {
  Challenge c;
  c.terminal_id = terminal_id;
  c.act = act;
  c.argument = std::move(argument);
  c.issued_at = now;
  c.expires_at = now + std::clamp<std::int64_t>(lifetime, 1, kMaxChallengeLifetime);
  if (std::string why = CheckFields(c, TokenInfo{"-", "", "", ""}); !why.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot issue a challenge: " + why);
  }
  if (RAND_bytes(c.nonce.data(), static_cast<int>(c.nonce.size())) != 1) {
    return MakeError(ErrorCode::kCrypto, "random nonce: " + OpenSslErrors());
  }
  return c;
}

Result<Challenge> IssueChallenge(NonceStore& nonces, const std::string& terminal_id, Act act,
                                 std::string argument, std::int64_t now, std::int64_t lifetime) {
  auto c = NewChallenge(terminal_id, act, std::move(argument), now, lifetime);
  if (!c.ok()) return c;
  HASHDB_TRY(nonces.Issue(c->nonce, c->expires_at, now, SerializeChallenge(*c)));
  return c;
}

std::vector<std::uint8_t> CanonicalBytes(const Challenge& c, const TokenInfo& t,
                                         const KeyId& key_id) {
  std::vector<std::uint8_t> out(kAuthorizationDomain.begin(), kAuthorizationDomain.end());
  PutU16(out, c.version);
  out.insert(out.end(), c.nonce.begin(), c.nonce.end());
  PutString(out, c.terminal_id);
  PutString(out, ActName(c.act));
  PutString(out, c.argument);
  PutU64(out, static_cast<std::uint64_t>(c.issued_at));
  PutU64(out, static_cast<std::uint64_t>(c.expires_at));
  PutString(out, t.token_id);
  PutString(out, t.holder);
  PutString(out, t.organisation);
  PutString(out, t.not_after);
  out.insert(out.end(), key_id.begin(), key_id.end());
  return out;
}

Result<Authorization> SignChallenge(const Challenge& challenge, const TokenInfo& token,
                                    Signer& signer) {
  if (std::string why = CheckFields(challenge, token); !why.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "will not sign: " + why);
  }
  Authorization a{challenge, token, signer.public_key().id(), {}};
  auto sig = signer.Sign(CanonicalBytes(a.challenge, a.token, a.key_id));
  if (!sig.ok()) return sig.error().Wrap("signing the challenge");
  a.signature = std::move(*sig);
  return a;
}

std::string_view AuthzCheckName(AuthzCheck check) {
  switch (check) {
    case AuthzCheck::kOk:
      return "ok";
    case AuthzCheck::kMalformed:
      return "malformed";
    case AuthzCheck::kUnknownKey:
      return "unknown key";
    case AuthzCheck::kSignature:
      return "bad signature";
    case AuthzCheck::kTerminal:
      return "wrong terminal";
    case AuthzCheck::kAct:
      return "wrong act";
    case AuthzCheck::kNotYetValid:
      return "not yet valid";
    case AuthzCheck::kChallengeExpired:
      return "challenge expired";
    case AuthzCheck::kTokenExpired:
      return "token expired";
    case AuthzCheck::kNonceUnknown:
      return "unknown nonce";
    case AuthzCheck::kReplay:
      return "replay";
    case AuthzCheck::kNonceStore:
      return "nonce store";
    case AuthzCheck::kNotAsIssued:
      return "not as issued";
  }
  return "unknown";
}

namespace {
AuthzVerdict Refuse(AuthzCheck check, const std::string& details) {
  return {check, "authorization refused: " + std::string(AuthzCheckName(check)) + ": " + details,
          ""};
}
}  // namespace

std::string ChallengeMismatch(const Challenge& issued, const Challenge& s) {
  if (issued.nonce != s.nonce) return "nonce";
  if (issued.terminal_id != s.terminal_id) return "terminal";
  if (issued.act != s.act) return "act";
  if (issued.argument != s.argument) {
    return issued.act == Act::kMaintenanceStart ? "duration" : "argument";
  }
  if (issued.version != s.version || issued.issued_at != s.issued_at ||
      issued.expires_at != s.expires_at) {
    return "validity";
  }
  return "";
}

AuthzVerdict CheckAuthorization(const Authorization& a, const AuthzRequest& request,
                                const TrustStore& trust) {
  const Challenge& c = a.challenge;
  if (std::string why = CheckFields(c, a.token); !why.empty()) {
    return Refuse(AuthzCheck::kMalformed, why);
  }
  if (a.signature.empty() || a.signature.size() > kMaxSignatureSize) {
    return Refuse(AuthzCheck::kMalformed, "signature is empty or too long");
  }
  const PublicKey* anchor = trust.Find(a.key_id);
  if (anchor == nullptr) {
    return Refuse(AuthzCheck::kUnknownKey, "signer key " + ToHex(a.key_id) + " (token " +
                                               a.token.token_id + ") is not a trust anchor in " +
                                               trust.source());
  }
  if (!anchor->Verify(CanonicalBytes(c, a.token, a.key_id), a.signature)) {
    return Refuse(AuthzCheck::kSignature,
                  "signature does not verify with trust anchor " + ToHex(a.key_id));
  }
  if (c.terminal_id != request.terminal_id) {
    return Refuse(AuthzCheck::kTerminal, "challenge is for terminal " + c.terminal_id +
                                             ", this is terminal " + request.terminal_id);
  }
  if (c.act != request.act || c.argument != request.argument) {
    return Refuse(AuthzCheck::kAct, "challenge authorizes " + std::string(ActName(c.act)) + " \"" +
                                        c.argument + "\", not " +
                                        std::string(ActName(request.act)) + " \"" +
                                        request.argument + "\"");
  }
  if (request.now < c.issued_at) {
    return Refuse(AuthzCheck::kNotYetValid, "challenge issued at " + std::to_string(c.issued_at) +
                                                " is in the future (now " +
                                                std::to_string(request.now) + ")");
  }
  if (request.now >= c.expires_at) {
    return Refuse(AuthzCheck::kChallengeExpired, "challenge expired " +
                                                     std::to_string(request.now - c.expires_at) +
                                                     " s ago; ask for a new one");
  }
  if (!a.token.not_after.empty() && request.now >= *EndOfDayUtc(a.token.not_after)) {
    return Refuse(AuthzCheck::kTokenExpired, "token " + a.token.token_id + " of " + a.token.holder +
                                                 " was valid until " + a.token.not_after);
  }
  return {AuthzCheck::kOk, "authorized", ""};
}

AuthzVerdict VerifyAuthorization(const Authorization& a, const AuthzRequest& request,
                                 const TrustStore& trust, NonceStore& nonces) {
  if (AuthzVerdict v = CheckAuthorization(a, request, trust); !v.ok()) return v;
  const Challenge& c = a.challenge;
  // What was signed must be what was issued with this nonce: lockd's own record, not the
  // client's copy of the challenge (which the client could have changed before signing).
  auto issued_text = nonces.Issued(c.nonce);
  if (!issued_text.ok()) return Refuse(AuthzCheck::kNonceStore, issued_text.error().message);
  if (issued_text->has_value()) {
    auto issued = ParseChallenge(**issued_text, "issued challenge " + ToHex(c.nonce));
    if (!issued.ok()) return Refuse(AuthzCheck::kNonceStore, issued.error().message);
    if (std::string field = ChallengeMismatch(*issued, c); !field.empty()) {
      AuthzVerdict v = Refuse(
          AuthzCheck::kNotAsIssued,
          field + ": nonce " + ToHex(c.nonce).substr(0, 16) + " was issued for " +
              std::string(ActName(issued->act)) + " \"" + issued->argument + "\" on terminal " +
              issued->terminal_id + ", valid " + std::to_string(issued->issued_at) + ".." +
              std::to_string(issued->expires_at) + "; the token signed " +
              std::string(ActName(c.act)) + " \"" + c.argument + "\" on terminal " + c.terminal_id +
              ", valid " + std::to_string(c.issued_at) + ".." + std::to_string(c.expires_at));
      v.mismatch = field;
      return v;
    }
  }
  auto state = nonces.Consume(c.nonce);
  if (!state.ok()) return Refuse(AuthzCheck::kNonceStore, state.error().message);
  switch (*state) {
    case NonceStore::State::kIssued:
      return {AuthzCheck::kOk, "authorized", ""};
    case NonceStore::State::kUsed:
      return Refuse(AuthzCheck::kReplay,
                    "nonce " + ToHex(c.nonce) + " was already used by an earlier authorization");
    case NonceStore::State::kUnknown:
      break;
  }
  return Refuse(AuthzCheck::kNonceUnknown,
                "nonce " + ToHex(c.nonce) + " was not issued by this terminal or has expired");
}

}  // namespace hashdb
