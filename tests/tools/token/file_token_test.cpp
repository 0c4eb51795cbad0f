#include "tools/token/file_token.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "hashdb/digest.h"
#include "tests/support/db_fixture.h"
#include "tests/tools/token/token_test_support.h"
#include "tools/token/token_descriptor.h"

using lockctl::FileToken;
using tokentest::Contains;
using tokentest::kCheapKdf;
using tokentest::SecretPipe;

namespace {

const std::string kPassphrase = "correct horse battery";

hashdb::TokenInfo Holder(const std::string& not_after = "2027-03-31") {
  return {"", "Hanako Suzuki", "ACME ATM Services", not_after};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A copy of tests/tools/token/data/pbkdf2-token/LOCKD-TOKEN in dir: a token made by lockctl before
// scrypt (b4c3166: PBES2, PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC), passphrase
// kOldPassphrase. Its key is trusted nowhere.
const std::string kOldPassphrase = "old-pbkdf2-passphrase";
std::string CopyOldToken(const testsupport::TempDir& dir) {
  const std::string from =
      std::string(LOCKD_TEST_SOURCE_DIR) + "/tests/tools/token/data/pbkdf2-token/LOCKD-TOKEN";
  const std::string to = dir.Join("LOCKD-TOKEN");
  REQUIRE(::mkdir(to.c_str(), 0700) == 0);
  for (const char* f : {"token.conf", "key.pem", "public.pem"}) {
    testsupport::WriteFile(to + "/" + f, Slurp(from + "/" + f), 0600);
  }
  return to;
}

// Two lines on one descriptor: the current passphrase, then the new one (token rekey reads
// them in that order when both come from the same descriptor).
std::string Lines(const std::string& a, const std::string& b) { return a + "\n" + b; }

}  // namespace

TEST_CASE("file token: create, open with the passphrase, sign a challenge that verifies") {
  for (auto alg :
       {hashdb::SignatureAlgorithm::kEcdsaP256Sha256, hashdb::SignatureAlgorithm::kEd25519}) {
    testsupport::TempDir dir;
    const std::string folder = dir.Join("LOCKD-TOKEN");
    auto d = FileToken::Create(folder, Holder(), alg, kPassphrase, kCheapKdf);
    REQUIRE(d.ok());
    CHECK(d->info.token_id.size() == 32);
    struct stat st;
    REQUIRE(::stat((folder + "/key.pem").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(Contains(Slurp(folder + "/key.pem"), "BEGIN ENCRYPTED PRIVATE KEY"));
    auto pub = hashdb::PublicKey::FromPemFile(folder + "/public.pem");
    REQUIRE(pub.ok());
    CHECK(pub->id() == d->key_id);

    SecretPipe pass(kPassphrase);
    auto token = FileToken::Open(folder, pass.source());
    REQUIRE(token.ok());
    CHECK((*token)->info().holder == "Hanako Suzuki");
    CHECK((*token)->info().token_id == d->info.token_id);
    CHECK((*token)->public_key().id() == d->key_id);
    auto verdict = tokentest::SignAndVerify(**token);
    CHECK(verdict.ok());
  }
}

TEST_CASE("file token: wrong passphrase is a clear error") {
  testsupport::TempDir dir;
  const std::string folder = dir.Join("LOCKD-TOKEN");
  REQUIRE(FileToken::Create(folder, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256,
                            kPassphrase, kCheapKdf)
              .ok());
  SecretPipe wrong("incorrect horse");
  auto token = FileToken::Open(folder, wrong.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "file token " + folder));
  CHECK(Contains(token.error().message, "wrong passphrase"));
}

TEST_CASE("file token: expired token still signs, but the terminal refuses it") {
  testsupport::TempDir dir;
  const std::string folder = dir.Join("LOCKD-TOKEN");
  REQUIRE(FileToken::Create(folder, Holder("2026-12-31"),
                            hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase, kCheapKdf)
              .ok());
  SecretPipe pass(kPassphrase);
  auto token = FileToken::Open(folder, pass.source());
  REQUIRE(token.ok());
  auto verdict = tokentest::SignAndVerify(**token);
  CHECK(verdict.check == hashdb::AuthzCheck::kTokenExpired);
  CHECK(Contains(verdict.message, "was valid until 2026-12-31"));
}

TEST_CASE("file token: a key file that is not the descriptor's key is refused") {
  testsupport::TempDir dir;
  const std::string a = dir.Join("A"), b = dir.Join("B");
  REQUIRE(FileToken::Create(a, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase,
                            kCheapKdf)
              .ok());
  REQUIRE(FileToken::Create(b, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase,
                            kCheapKdf)
              .ok());
  REQUIRE(::rename((b + "/key.pem").c_str(), (a + "/key.pem").c_str()) == 0);
  SecretPipe pass(kPassphrase);
  auto token = FileToken::Open(a, pass.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "but token.conf names key"));
}

TEST_CASE("file token: create refuses a weak passphrase, a non-empty folder, bad fields") {
  testsupport::TempDir dir;
  auto alg = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  auto short_pass = FileToken::Create(dir.Join("T1"), Holder(), alg, "short words", kCheapKdf);
  REQUIRE_FALSE(short_pass.ok());
  CHECK(Contains(short_pass.error().message, "passphrase refused: shorter than 12 characters"));
  auto common = FileToken::Create(dir.Join("T1"), Holder(), alg, "Password2024!", kCheapKdf);
  REQUIRE_FALSE(common.ok());
  CHECK(Contains(common.error().message, "one of the most common passwords"));
  auto name = FileToken::Create(dir.Join("T1"), Holder(), alg, "Suzuki.Hanako.1985", kCheapKdf);
  REQUIRE_FALSE(name.ok());
  CHECK(Contains(name.error().message, "the holder's name"));
  struct stat st;
  CHECK(::stat(dir.Join("T1").c_str(), &st) != 0);  // nothing written

  tokentest::MakeParents(dir.Join("T2/other"));
  testsupport::WriteFile(dir.Join("T2/other"), "x");
  auto not_empty = FileToken::Create(dir.Join("T2"), Holder(), alg, kPassphrase, kCheapKdf);
  REQUIRE_FALSE(not_empty.ok());
  CHECK(Contains(not_empty.error().message, "exists and is not empty"));

  auto info = Holder();
  info.holder = "two\nlines";
  auto bad_holder = FileToken::Create(dir.Join("T3"), info, alg, kPassphrase, kCheapKdf);
  REQUIRE_FALSE(bad_holder.ok());
  CHECK(Contains(bad_holder.error().message, "control character"));
  CHECK(::stat(dir.Join("T3").c_str(), &st) != 0);  // nothing written
}

TEST_CASE("file token: lockctl's own create encrypts with kKeyScrypt, openable, not weak") {
  testsupport::TempDir dir;
  const std::string folder = dir.Join("LOCKD-TOKEN");
  // The default kdf: what `lockctl token create` writes.
  REQUIRE(
      FileToken::Create(folder, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase)
          .ok());
  auto p = FileToken::ReadKeyProtection(folder);
  REQUIRE(p.ok());
  CHECK(p->kdf == hashdb::KeyKdf::kScrypt);
  CHECK(p->scrypt.n == hashdb::kKeyScrypt.n);
  CHECK(p->scrypt.r == hashdb::kKeyScrypt.r);
  CHECK(p->scrypt.p == hashdb::kKeyScrypt.p);
  CHECK_FALSE(p->Weak());
  SecretPipe pass(kPassphrase);
  auto token = FileToken::Open(folder, pass.source());
  REQUIRE(token.ok());
  CHECK_FALSE((*token)->key_protection().Weak());
  CHECK(tokentest::SignAndVerify(**token).ok());
}

TEST_CASE("file token: an old PBKDF2 token still opens and signs, and is reported weak") {
  testsupport::TempDir dir;
  const std::string folder = CopyOldToken(dir);
  SecretPipe pass(kOldPassphrase);
  auto token = FileToken::Open(folder, pass.source());
  REQUIRE(token.ok());
  CHECK((*token)->info().holder == "Old Token Holder");
  const auto& p = (*token)->key_protection();
  CHECK(p.kdf == hashdb::KeyKdf::kPbkdf2);
  CHECK(p.pbkdf2_iterations == 2048);
  CHECK(p.pbkdf2_prf == "hmacWithSHA256");
  CHECK(p.Weak());
  CHECK(p.Describe() == "PBKDF2 hmacWithSHA256, 2048 iterations, AES-256-CBC");
  CHECK(tokentest::SignAndVerify(**token).ok());
}

TEST_CASE("file token: rekey turns an old PBKDF2 key into a kKeyScrypt one, same key") {
  testsupport::TempDir dir;
  const std::string folder = CopyOldToken(dir);
  auto before = FileToken::ReadDescriptor(folder);
  REQUIRE(before.ok());
  const std::string new_passphrase = "a new and longer phrase";
  SecretPipe both(Lines(kOldPassphrase, new_passphrase));
  auto p = FileToken::Rekey(folder, both.source(), both.source());
  REQUIRE(p.ok());
  CHECK(p->kdf == hashdb::KeyKdf::kScrypt);
  CHECK(p->scrypt.p == hashdb::kKeyScrypt.p);
  CHECK_FALSE(p->Weak());
  auto on_disk = FileToken::ReadKeyProtection(folder);
  REQUIRE(on_disk.ok());
  CHECK(on_disk->Describe() == p->Describe());
  struct stat st;
  CHECK(::stat((folder + "/key.pem.new").c_str(), &st) != 0);  // no temporary left
  REQUIRE(::stat((folder + "/key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SecretPipe old_pass(kOldPassphrase);
  auto old_open = FileToken::Open(folder, old_pass.source());
  REQUIRE_FALSE(old_open.ok());
  CHECK(Contains(old_open.error().message, "wrong passphrase"));
  SecretPipe new_pass(new_passphrase);
  auto token = FileToken::Open(folder, new_pass.source());
  REQUIRE(token.ok());
  CHECK((*token)->public_key().id() == before->key_id);  // same key: trust anchors still hold
  CHECK(tokentest::SignAndVerify(**token).ok());
}

TEST_CASE("file token: rekey refuses a wrong current passphrase and a weak new one") {
  testsupport::TempDir dir;
  const std::string folder = dir.Join("LOCKD-TOKEN");
  REQUIRE(FileToken::Create(folder, Holder(), hashdb::SignatureAlgorithm::kEd25519, kPassphrase,
                            kCheapKdf)
              .ok());
  const std::string key_before = Slurp(folder + "/key.pem");

  SecretPipe wrong(Lines("incorrect horse", "a new and longer phrase"));
  auto r = FileToken::Rekey(folder, wrong.source(), wrong.source(), kCheapKdf);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == folder + "/key.pem: wrong passphrase (or damaged key file)");

  SecretPipe common(Lines(kPassphrase, "Sunshine123456!"));
  r = FileToken::Rekey(folder, common.source(), common.source(), kCheapKdf);
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error().message, "one of the most common passwords"));

  SecretPipe token_id(
      Lines(kPassphrase, "lockd " + FileToken::ReadDescriptor(folder)->info.token_id));
  r = FileToken::Rekey(folder, token_id.source(), token_id.source(), kCheapKdf);
  REQUIRE_FALSE(r.ok());
  CHECK(Contains(r.error().message, "the token id"));
  CHECK(Slurp(folder + "/key.pem") == key_before);  // nothing written

  // The same passphrase again: only the protection changes (here: cheap to cheap).
  SecretPipe same(Lines(kPassphrase, kPassphrase));
  REQUIRE(FileToken::Rekey(folder, same.source(), same.source(), kCheapKdf).ok());
  CHECK(Slurp(folder + "/key.pem") != key_before);  // new salt and IV
  SecretPipe pass(kPassphrase);
  CHECK(FileToken::Open(folder, pass.source()).ok());
}

TEST_CASE("file token: a folder without token.conf is not a token") {
  testsupport::TempDir dir;
  auto d = FileToken::ReadDescriptor(dir.path());
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == dir.path() + ": not a lockd token folder (no token.conf)");
}

TEST_CASE("token descriptor: round trip and strict parsing") {
  lockctl::TokenDescriptor d;
  d.info = {"abc", "Hanako Suzuki", "ACME", "2027-03-31"};
  d.key_type = hashdb::SignatureAlgorithm::kEd25519;
  d.key_id[0] = 0xab;
  const std::string text = lockctl::SerializeTokenDescriptor(d);
  auto back = lockctl::ParseTokenDescriptor(text, "token.conf");
  REQUIRE(back.ok());
  CHECK(back->info.holder == "Hanako Suzuki");
  CHECK(back->key_type == hashdb::SignatureAlgorithm::kEd25519);
  CHECK(back->key_id == d.key_id);

  auto err = [](const std::string& t) {
    auto r = lockctl::ParseTokenDescriptor(t, "token.conf");
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(err(text + "holder = again\n") == "token.conf:9: \"holder\" given twice");
  CHECK(err(text + "colour = blue\n") == "token.conf:9: unknown key \"colour\"");
  CHECK(err(text + "just words\n") == "token.conf:9: expected \"key = value\"");
  std::string no_date = text;
  no_date.replace(no_date.find("2027-03-31"), 10, "31.03.2027");
  CHECK(err(no_date) == "token.conf: not-after \"31.03.2027\" is not a date YYYY-MM-DD");
  std::string missing = text;
  missing.erase(missing.find("organisation"), missing.find('\n', missing.find("organisation")) -
                                                  missing.find("organisation") + 1);
  CHECK(err(missing) == "token.conf: missing \"organisation\"");
}
