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

}  // namespace

TEST_CASE("file token: create, open with the passphrase, sign a challenge that verifies") {
  for (auto alg :
       {hashdb::SignatureAlgorithm::kEcdsaP256Sha256, hashdb::SignatureAlgorithm::kEd25519}) {
    testsupport::TempDir dir;
    const std::string folder = dir.Join("LOCKD-TOKEN");
    auto d = FileToken::Create(folder, Holder(), alg, kPassphrase);
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
  REQUIRE(
      FileToken::Create(folder, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase)
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
                            hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase)
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
  REQUIRE(FileToken::Create(a, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase)
              .ok());
  REQUIRE(FileToken::Create(b, Holder(), hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase)
              .ok());
  REQUIRE(::rename((b + "/key.pem").c_str(), (a + "/key.pem").c_str()) == 0);
  SecretPipe pass(kPassphrase);
  auto token = FileToken::Open(a, pass.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "but token.conf names key"));
}

TEST_CASE("file token: create refuses a short passphrase, a non-empty folder, bad fields") {
  testsupport::TempDir dir;
  auto alg = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  auto short_pass = FileToken::Create(dir.Join("T1"), Holder(), alg, "short");
  REQUIRE_FALSE(short_pass.ok());
  CHECK(Contains(short_pass.error().message, "passphrase shorter than 8"));

  tokentest::MakeParents(dir.Join("T2/other"));
  testsupport::WriteFile(dir.Join("T2/other"), "x");
  auto not_empty = FileToken::Create(dir.Join("T2"), Holder(), alg, kPassphrase);
  REQUIRE_FALSE(not_empty.ok());
  CHECK(Contains(not_empty.error().message, "exists and is not empty"));

  auto info = Holder();
  info.holder = "two\nlines";
  auto bad_holder = FileToken::Create(dir.Join("T3"), info, alg, kPassphrase);
  REQUIRE_FALSE(bad_holder.ok());
  CHECK(Contains(bad_holder.error().message, "control character"));
  struct stat st;
  CHECK(::stat(dir.Join("T3").c_str(), &st) != 0);  // nothing written
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
