#include "hashdb/keys.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hashdb/sha256.h"
#include "hashdb/trust_store.h"
#include "tests/support/db_fixture.h"

using hashdb::PrivateKey;
using hashdb::PublicKey;
using hashdb::SignatureAlgorithm;

namespace {
std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("sign and verify with both algorithms; key id is SHA-256 of the SPKI") {
  for (auto alg : {SignatureAlgorithm::kEcdsaP256Sha256, SignatureAlgorithm::kEd25519}) {
    auto key = testsupport::NewKey(alg);
    const PublicKey& pub = key->public_key();
    CHECK(pub.algorithm() == alg);
    CHECK(pub.id() == hashdb::Sha256(pub.spki_der()));
    auto sig = key->Sign(Bytes("message"));
    REQUIRE(sig.ok());
    CHECK(pub.Verify(Bytes("message"), *sig));
    CHECK_FALSE(pub.Verify(Bytes("messagE"), *sig));
    auto other = testsupport::NewKey(alg);
    CHECK_FALSE(other->public_key().Verify(Bytes("message"), *sig));
  }
}

TEST_CASE("PEM round trips, with and without a passphrase") {
  auto key = testsupport::NewKey();
  auto plain = key->ToPkcs8Pem();
  REQUIRE(plain.ok());
  CHECK(plain->find("BEGIN PRIVATE KEY") != std::string::npos);
  auto back = PrivateKey::FromPem(*plain, "k.pem");
  REQUIRE(back.ok());
  CHECK((*back)->public_key().id() == key->public_key().id());

  auto enc = key->ToEncryptedPkcs8Pem("correct horse", {1 << 10, 8, 1});
  REQUIRE(enc.ok());
  CHECK(enc->find("BEGIN ENCRYPTED PRIVATE KEY") != std::string::npos);
  auto good = PrivateKey::FromPem(*enc, "k.pem", "correct horse");
  REQUIRE(good.ok());
  CHECK((*good)->public_key().id() == key->public_key().id());
  auto wrong = PrivateKey::FromPem(*enc, "k.pem", "wrong");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("k.pem: wrong passphrase") == 0);
  auto none = PrivateKey::FromPem(*enc, "k.pem");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("no passphrase was given") != std::string::npos);

  auto pub = PublicKey::FromPem(key->public_key().ToPem(), "pub.pem");
  REQUIRE(pub.ok());
  CHECK(pub->id() == key->public_key().id());
  auto der = PublicKey::FromDer(key->public_key().spki_der());
  REQUIRE(der.ok());
  CHECK(der->id() == key->public_key().id());
}

TEST_CASE("keys of other types and garbage are refused") {
  CHECK_FALSE(PublicKey::FromPem("not a key", "x.pem").ok());
  // A real RSA key and a real P-384 key: well-formed, but not an algorithm lockd accepts.
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  REQUIRE(rsa != nullptr);
  REQUIRE(p384 != nullptr);
  for (EVP_PKEY* k : {rsa, p384}) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
    auto r = PublicKey::FromPem(std::string(data, static_cast<std::size_t>(len)), "other.pem");
    BIO_free(bio);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == hashdb::ErrorCode::kUnsupported);
    CHECK(r.error().message.find("other.pem") == 0);
  }
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(p384);
}

TEST_CASE("trust store loads a directory of PEM files and finds keys by id") {
  testsupport::TempDir dir;
  auto a = testsupport::NewKey();
  auto b = testsupport::NewKey(SignatureAlgorithm::kEd25519);
  testsupport::WriteFile(dir.Join("a.pem"), a->public_key().ToPem());
  testsupport::WriteFile(dir.Join("b.pem"), b->public_key().ToPem());
  testsupport::WriteFile(dir.Join("README"), "not a key, ignored");
  auto store = hashdb::TrustStore::LoadDirectory(dir.path());
  REQUIRE(store.ok());
  CHECK(store->keys().size() == 2);
  CHECK(store->Find(a->public_key().id()) != nullptr);
  CHECK(store->Find(b->public_key().id()) != nullptr);
  testsupport::WriteFile(dir.Join("broken.pem"), "-----BEGIN PUBLIC KEY-----\nxx\n");
  auto broken = hashdb::TrustStore::LoadDirectory(dir.path());
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message.find("broken.pem") != std::string::npos);
  testsupport::TempDir empty;
  CHECK_FALSE(hashdb::TrustStore::LoadDirectory(empty.path()).ok());
}
