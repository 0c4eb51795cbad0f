#include "hashdb/authorization.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <functional>

#include "hashdb/nonce_store.h"
#include "hashdb/terminal_id.h"
#include "tests/support/db_fixture.h"

using hashdb::Act;
using hashdb::Authorization;
using hashdb::AuthzCheck;
using hashdb::AuthzRequest;
using hashdb::Challenge;
using hashdb::NonceStore;
using hashdb::SignatureAlgorithm;
using hashdb::TokenInfo;

namespace {

constexpr std::int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z
const std::string kTerminal = "00112233445566778899aabbccddeeff";
const std::string kOtherTerminal = "ffeeddccbbaa99887766554433221100";
const std::string kDbDigest = std::string(64, 'a');

struct Fixture {
  explicit Fixture(SignatureAlgorithm alg = SignatureAlgorithm::kEcdsaP256Sha256)
      : key(testsupport::NewKey(alg)), trust(testsupport::TrustOf(*key)) {}

  Challenge Issue(Act act = Act::kDbInstall, const std::string& argument = kDbDigest,
                  const std::string& terminal = kTerminal, std::int64_t lifetime = 300) {
    auto c = hashdb::IssueChallenge(nonces, terminal, act, argument, kNow, lifetime);
    REQUIRE(c.ok());
    return *c;
  }

  Authorization Sign(const Challenge& c, hashdb::Signer* signer = nullptr) {
    auto a = hashdb::SignChallenge(c, token, signer ? *signer : *key);
    REQUIRE(a.ok());
    return *a;
  }

  hashdb::AuthzVerdict Verify(const Authorization& a, Act act = Act::kDbInstall,
                              const std::string& argument = kDbDigest, std::int64_t now = kNow + 10,
                              const std::string& terminal = kTerminal) {
    return hashdb::VerifyAuthorization(a, AuthzRequest{terminal, act, argument, now}, trust,
                                       nonces);
  }

  std::unique_ptr<hashdb::PrivateKey> key;
  hashdb::TrustStore trust;
  hashdb::MemoryNonceStore nonces;
  TokenInfo token{"5f0c3b7e9a1d4c2b8e6f0a1b2c3d4e5f", "Hanako Suzuki", "ACME ATM Services",
                  "2027-03-31"};
};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a signed challenge verifies, with both key types") {
  for (auto alg : {SignatureAlgorithm::kEcdsaP256Sha256, SignatureAlgorithm::kEd25519}) {
    Fixture f(alg);
    auto a = f.Sign(f.Issue());
    auto v = f.Verify(a);
    CHECK(v.ok());
    CHECK(v.check == AuthzCheck::kOk);
  }
}

TEST_CASE("authorization survives its text form and still verifies") {
  Fixture f;
  auto a = f.Sign(f.Issue());
  const std::string text = hashdb::SerializeAuthorization(a);
  CHECK(text.rfind("lockd-authorization-v1\nnonce: ", 0) == 0);
  auto parsed = hashdb::ParseAuthorization(text, "auth.txt");
  REQUIRE(parsed.ok());
  CHECK(hashdb::SerializeAuthorization(*parsed) == text);
  CHECK(f.Verify(*parsed).ok());

  auto c = hashdb::ParseChallenge(hashdb::SerializeChallenge(a.challenge), "challenge.txt");
  REQUIRE(c.ok());
  CHECK(c->nonce == a.challenge.nonce);
  CHECK(c->argument == kDbDigest);
  CHECK(c->expires_at == kNow + 300);
}

TEST_CASE("replayed authorization is refused") {
  Fixture f;
  auto a = f.Sign(f.Issue());
  REQUIRE(f.Verify(a).ok());
  auto again = f.Verify(a);
  CHECK(again.check == AuthzCheck::kReplay);
  CHECK(Contains(again.message, "authorization refused: replay: nonce "));
}

TEST_CASE("another terminal's authorization is refused") {
  Fixture f;
  auto a = f.Sign(f.Issue(Act::kDbInstall, kDbDigest, kOtherTerminal));
  auto v = f.Verify(a);
  CHECK(v.check == AuthzCheck::kTerminal);
  CHECK(Contains(v.message, "challenge is for terminal " + kOtherTerminal + ", this is terminal " +
                                kTerminal));
}

TEST_CASE("expired challenge is refused") {
  Fixture f;
  auto c = f.Issue(Act::kDbInstall, kDbDigest, kTerminal, 300);
  auto a = f.Sign(c);
  CHECK(f.Verify(a, Act::kDbInstall, kDbDigest, c.expires_at - 1).ok());
  Fixture g;
  auto a2 = g.Sign(g.Issue(Act::kDbInstall, kDbDigest, kTerminal, 300));
  auto v = g.Verify(a2, Act::kDbInstall, kDbDigest, kNow + 300);
  CHECK(v.check == AuthzCheck::kChallengeExpired);
  CHECK(Contains(v.message, "challenge expired 0 s ago"));
}

TEST_CASE("challenge from the future (clock set back) is refused") {
  Fixture f;
  auto a = f.Sign(f.Issue());
  CHECK(f.Verify(a, Act::kDbInstall, kDbDigest, kNow - 1).check == AuthzCheck::kNotYetValid);
}

TEST_CASE("expired token is refused; not-after is valid through that day (UTC)") {
  Fixture f;
  f.token.not_after = "2027-01-14";  // the day before kNow
  auto v = f.Verify(f.Sign(f.Issue()));
  CHECK(v.check == AuthzCheck::kTokenExpired);
  CHECK(Contains(v.message, "was valid until 2027-01-14"));

  Fixture g;
  g.token.not_after = "2027-01-15";  // kNow's day: still valid
  CHECK(g.Verify(g.Sign(g.Issue())).ok());
}

TEST_CASE("unknown key is refused") {
  Fixture f;
  auto stranger = testsupport::NewKey();
  auto v = f.Verify(f.Sign(f.Issue(), stranger.get()));
  CHECK(v.check == AuthzCheck::kUnknownKey);
  CHECK(Contains(v.message, hashdb::ToHex(stranger->public_key().id())));
  CHECK(Contains(v.message, "is not a trust anchor"));
}

TEST_CASE("authorization for another act or argument is refused") {
  Fixture f;
  auto a = f.Sign(f.Issue(Act::kMaintenanceStart, "60"));
  auto v = f.Verify(a, Act::kTrustAdd, "60");
  CHECK(v.check == AuthzCheck::kAct);
  CHECK(Contains(v.message, "challenge authorizes maintenance_start \"60\", not trust_add"));
  CHECK(f.Verify(a, Act::kMaintenanceStart, "600").check == AuthzCheck::kAct);
  // Refusals before the nonce check leave the nonce usable for the right act.
  CHECK(f.Verify(a, Act::kMaintenanceStart, "60").ok());
}

// The client gets the challenge text and could change it before the token signs: the nonce
// alone must not carry the authorization to another act, argument, window length, terminal
// or validity.
TEST_CASE("the signed challenge must be the one issued with its nonce") {
  struct Case {
    const char* what;
    Act issued_act;
    std::string issued_argument;
    std::function<void(Challenge&)> change;
  };
  const std::string other_key = std::string(64, 'b');
  const std::vector<Case> cases{
      {"act", Act::kMaintenanceAbort, "",
       [](Challenge& c) {
         c.act = Act::kMaintenanceStart;
         c.argument = "30";
       }},
      {"act", Act::kDbInstall, kDbDigest, [](Challenge& c) { c.act = Act::kTrustAdd; }},
      {"argument", Act::kTrustAdd, kDbDigest, [&](Challenge& c) { c.argument = other_key; }},
      {"duration", Act::kMaintenanceStart, "30", [](Challenge& c) { c.argument = "1440"; }},
      {"terminal", Act::kMaintenanceStart, "30",
       [](Challenge& c) { c.terminal_id = kOtherTerminal; }},
      {"validity", Act::kMaintenanceStart, "30", [](Challenge& c) { c.expires_at += 600; }},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Fixture f;
    Challenge c = f.Issue(k.issued_act, k.issued_argument);
    Challenge changed = c;
    k.change(changed);
    auto a = f.Sign(changed);  // the token signs whatever it is given
    // The request matches what was signed: only the issued record tells them apart.
    auto v = f.Verify(a, changed.act, changed.argument, kNow + 10, changed.terminal_id);
    CHECK(v.check == AuthzCheck::kNotAsIssued);
    CHECK(v.mismatch == k.what);
    CHECK(Contains(v.message,
                   "authorization refused: not as issued: " + std::string(k.what) + ": nonce "));
    // The refusal did not burn the nonce: the genuine challenge still works, once.
    CHECK(f.Verify(f.Sign(c), c.act, c.argument).ok());
    CHECK(f.Verify(f.Sign(c), c.act, c.argument).check == AuthzCheck::kReplay);
  }
  CHECK(hashdb::ChallengeMismatch(Challenge{}, Challenge{}).empty());
}

TEST_CASE("tampered signature or signed field is refused") {
  Fixture f;
  auto a = f.Sign(f.Issue());
  auto bad = a;
  bad.signature[bad.signature.size() / 2] ^= 0x01;
  CHECK(f.Verify(bad).check == AuthzCheck::kSignature);

  auto holder = a;
  holder.token.holder = "Mallory";
  CHECK(f.Verify(holder).check == AuthzCheck::kSignature);

  auto later = a;
  later.token.not_after = "2099-12-31";
  CHECK(f.Verify(later).check == AuthzCheck::kSignature);

  auto longer = a;
  longer.challenge.expires_at += 60;
  auto v = f.Verify(longer);
  CHECK(v.check == AuthzCheck::kSignature);
  CHECK(Contains(v.message, "signature does not verify with trust anchor"));
  CHECK(f.Verify(a).ok());  // the genuine one still works: nothing above burned the nonce
}

TEST_CASE("a nonce this terminal never issued is refused") {
  Fixture f;
  auto c = hashdb::NewChallenge(kTerminal, Act::kDbInstall, kDbDigest, kNow, 300);
  REQUIRE(c.ok());
  auto v = f.Verify(f.Sign(*c));
  CHECK(v.check == AuthzCheck::kNonceUnknown);
  CHECK(Contains(v.message, "was not issued by this terminal"));
}

TEST_CASE("malformed authorizations are refused before any crypto") {
  Fixture f;
  auto a = f.Sign(f.Issue());
  auto empty = a;
  empty.signature.clear();
  CHECK(f.Verify(empty).check == AuthzCheck::kMalformed);
  auto long_window = a;
  long_window.challenge.expires_at = long_window.challenge.issued_at + 100000;
  CHECK(f.Verify(long_window).check == AuthzCheck::kMalformed);
  auto bad_date = a;
  bad_date.token.not_after = "2027-02-30";
  CHECK(f.Verify(bad_date).check == AuthzCheck::kMalformed);
}

TEST_CASE("the signed bytes are domain-separated and length-prefixed") {
  Challenge c;
  c.terminal_id = kTerminal;
  hashdb::KeyId id{};
  auto bytes = hashdb::CanonicalBytes(c, TokenInfo{"t", "ab", "c", ""}, id);
  CHECK(std::string(bytes.begin(), bytes.begin() + 15) == std::string("lockd-authz-v1\0", 15));
  CHECK(bytes != hashdb::CanonicalBytes(c, TokenInfo{"t", "a", "bc", ""}, id));
}

TEST_CASE("NewChallenge: random nonces, lifetime clamped, bad terminal id refused") {
  auto a = hashdb::NewChallenge(kTerminal, Act::kMaintenanceAbort, "", kNow, 999999);
  auto b = hashdb::NewChallenge(kTerminal, Act::kMaintenanceAbort, "", kNow, 300);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->nonce != b->nonce);
  CHECK(a->expires_at == kNow + hashdb::kMaxChallengeLifetime);
  auto bad = hashdb::NewChallenge("NOT-HEX", Act::kMaintenanceAbort, "", kNow, 300);
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.error().message, "terminal id must be 1 to 64 lower-case hex digits"));
  CHECK_FALSE(hashdb::NewChallenge(kTerminal, Act::kDbInstall, "a\nb", kNow, 300).ok());
}

TEST_CASE("SignChallenge refuses token info the verifier would reject") {
  Fixture f;
  auto c = f.Issue();
  f.token.holder = "bad\x01name";
  auto a = hashdb::SignChallenge(c, f.token, *f.key);
  REQUIRE_FALSE(a.ok());
  CHECK(Contains(a.error().message, "holder contains a control character"));
}

TEST_CASE("text parser errors name the source, the line and what was expected") {
  Fixture f;
  const std::string good = hashdb::SerializeAuthorization(f.Sign(f.Issue()));
  auto err = [](const std::string& text) {
    auto r = hashdb::ParseAuthorization(text, "stick/auth.txt");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(err("lockd-challenge-v1\n") == "stick/auth.txt:1: expected \"lockd-authorization-v1\"");
  CHECK(err(good + "extra\n") == "stick/auth.txt:14: unexpected text after the last field");
  std::string swapped = good;
  swapped.replace(swapped.find("holder:"), 7, "holdr: ");
  CHECK(err(swapped) == "stick/auth.txt:9: expected \"holder:\"");
  std::string act = good;
  act.replace(act.find("db_install"), 10, "db_instalX");
  CHECK(err(act) == "stick/auth.txt:4: unknown act \"db_instalX\"");
  CHECK(err(good.substr(0, good.find("signature:"))) ==
        "stick/auth.txt:13: unexpected end of text");
  std::string neg = good;
  neg.replace(neg.find("issued-at: ") + 11, 1, "-");
  CHECK(err(neg) == "stick/auth.txt:6: issued-at must be a non-negative decimal number");
  CHECK(err(std::string(9000, 'x')).find("longer than 8192 bytes") != std::string::npos);
}

TEST_CASE("EndOfDayUtc") {
  CHECK(hashdb::EndOfDayUtc("1970-01-01") == 86400);
  CHECK(hashdb::EndOfDayUtc("2028-02-29").has_value());
  CHECK_FALSE(hashdb::EndOfDayUtc("2027-02-29").has_value());
  CHECK_FALSE(hashdb::EndOfDayUtc("2027-1-01").has_value());
  CHECK_FALSE(hashdb::EndOfDayUtc("2027-01-01x").has_value());
  CHECK_FALSE(hashdb::EndOfDayUtc("+027-01-01").has_value());
}

TEST_CASE("file nonce store: single use, survives reopening, refuses unknown nonces") {
  testsupport::TempDir dir;
  hashdb::Nonce n1{}, n2{}, never{};
  n1[0] = 1;
  n2[0] = 2;
  never[0] = 3;
  {
    auto store = hashdb::FileNonceStore::Open(dir.Join("nonces"));
    REQUIRE(store.ok());
    REQUIRE((*store)->Issue(n1, kNow + 300, kNow, "challenge one\n").ok());
    REQUIRE((*store)->Issue(n2, kNow + 300, kNow, "challenge two\n").ok());
    CHECK_FALSE((*store)->Issue(n1, kNow + 300, kNow, "again\n").ok());
    CHECK(**(*store)->Issued(n1) == "challenge one\n");
    CHECK(*(*store)->Consume(n1) == NonceStore::State::kIssued);
    CHECK_FALSE((*store)->Issued(n1)->has_value());  // used: no longer offered
  }
  auto store = hashdb::FileNonceStore::Open(dir.Join("nonces"));
  REQUIRE(store.ok());
  CHECK(*(*store)->Consume(n1) == NonceStore::State::kUsed);
  CHECK(**(*store)->Issued(n2) == "challenge two\n");  // kept across reopening
  CHECK(*(*store)->Consume(n2) == NonceStore::State::kIssued);
  CHECK_FALSE((*store)->Issued(never)->has_value());
  CHECK(*(*store)->Consume(never) == NonceStore::State::kUnknown);
  // Issuing later prunes what has expired; a pruned nonce is unknown, never usable again.
  hashdb::Nonce n4{};
  n4[0] = 4;
  REQUIRE((*store)->Issue(n4, kNow + 1000, kNow + 400, "").ok());
  CHECK((*store)
            ->Issue(n1, kNow + 1000, kNow + 400, std::string(hashdb::kMaxIssuedText + 1, 'x'))
            .error()
            .code == hashdb::ErrorCode::kInvalidArgument);
  CHECK(*(*store)->Consume(n1) == NonceStore::State::kUnknown);
  struct stat st;
  REQUIRE(::stat(dir.Join("nonces").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("nonce stores are bounded; the earliest-expiring nonce is dropped") {
  testsupport::TempDir dir;
  auto file = hashdb::FileNonceStore::Open(dir.Join("n"));
  REQUIRE(file.ok());
  hashdb::MemoryNonceStore memory;
  for (NonceStore* store :
       {static_cast<NonceStore*>(file->get()), static_cast<NonceStore*>(&memory)}) {
    for (std::size_t i = 0; i <= hashdb::kMaxOutstandingNonces; ++i) {
      hashdb::Nonce n{};
      n[0] = static_cast<std::uint8_t>(i);
      REQUIRE(store->Issue(n, kNow + 100 + static_cast<std::int64_t>(i), kNow, "c").ok());
    }
    hashdb::Nonce first{}, last{};
    last[0] = static_cast<std::uint8_t>(hashdb::kMaxOutstandingNonces);
    CHECK(*store->Consume(first) == NonceStore::State::kUnknown);
    CHECK(*store->Consume(last) == NonceStore::State::kIssued);
  }
}

TEST_CASE("terminal id: created once, stable, never overwritten") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("terminal-id");
  CHECK(hashdb::LoadTerminalId(path).error().code == hashdb::ErrorCode::kNotFound);
  auto id = hashdb::LoadOrCreateTerminalId(path);
  REQUIRE(id.ok());
  CHECK(id->size() == 32);
  CHECK(*hashdb::LoadOrCreateTerminalId(path) == *id);
  CHECK(*hashdb::LoadTerminalId(path) == *id);

  testsupport::WriteFile(dir.Join("broken"), "not an id\n");
  auto broken = hashdb::LoadOrCreateTerminalId(dir.Join("broken"));
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message ==
        dir.Join("broken") + ": expected a terminal id of 32 lower-case hex digits");
}
