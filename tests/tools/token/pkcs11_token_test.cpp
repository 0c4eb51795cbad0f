// PKCS#11 tokens against a real module: SoftHSM2, with its token store in a temporary
// directory (SOFTHSM2_CONF), keys made by softhsm2-util and pkcs11-tool as a field engineer's
// PKI team would.
#include "tools/token/pkcs11_token.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tests/support/db_fixture.h"
#include "tests/tools/token/token_test_support.h"
#include "tools/token/token_finder.h"

using tokentest::Contains;
using tokentest::SecretPipe;

namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
const std::string kPin = "246810";

int Run(const std::string& command) {
  const std::string quiet = command + " >/dev/null 2>&1";
  return std::system(quiet.c_str());
}

// Writes a self-signed certificate (CN, O, notAfter = now + days) for a fresh P-256 key; key
// and certificate as DER files for pkcs11-tool --write-object.
void MakeKeyAndCertificate(const std::string& key_der, const std::string& cert_der, long days) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -400L * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Jiro Tanaka"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("ACME PKI"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  REQUIRE(len > 0);
  testsupport::WriteFile(cert_der, std::string(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  der = nullptr;
  len = i2d_PrivateKey(key.get(), &der);
  REQUIRE(len > 0);
  testsupport::WriteFile(key_der, std::string(reinterpret_cast<char*>(der), len), 0600);
  OPENSSL_free(der);
}

// One SoftHSM2 store for the whole test binary, with three tokens:
//   "lockd-fe1": EC P-256 key pair "sign" (id 01) made on the token,
//   "lockd-fe2": an imported key "old" (id 02) with an expired certificate, no public key,
//   "lockd-rsa": an RSA key only.
struct SoftHsm {
  SoftHsm() {
    const std::string conf = dir.Join("softhsm2.conf");
    REQUIRE(::mkdir(dir.Join("tokens").c_str(), 0700) == 0);
    testsupport::WriteFile(conf, "directories.tokendir = " + dir.Join("tokens") +
                                     "\nobjectstore.backend = file\nlog.level = ERROR\n");
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    const std::string tool = std::string("pkcs11-tool --module ") + kModule;
    for (const char* label : {"lockd-fe1", "lockd-fe2", "lockd-rsa"}) {
      REQUIRE(Run(std::string("softhsm2-util --init-token --free --label ") + label +
                  " --so-pin 12345678 --pin " + kPin) == 0);
    }
    REQUIRE(Run(tool + " --token-label lockd-fe1 --login --pin " + kPin +
                " --keypairgen --key-type EC:prime256v1 --label sign --id 01") == 0);
    MakeKeyAndCertificate(dir.Join("old.key.der"), dir.Join("old.crt.der"), -10);
    REQUIRE(Run(tool + " --token-label lockd-fe2 --login --pin " + kPin + " --write-object " +
                dir.Join("old.key.der") + " --type privkey --label old --id 02") == 0);
    REQUIRE(Run(tool + " --token-label lockd-fe2 --login --pin " + kPin + " --write-object " +
                dir.Join("old.crt.der") + " --type cert --label old --id 02") == 0);
    REQUIRE(Run(tool + " --token-label lockd-rsa --login --pin " + kPin +
                " --keypairgen --key-type rsa:2048 --label rsa --id 03") == 0);
  }
  testsupport::TempDir dir;
};

SoftHsm& Hsm() {
  static SoftHsm hsm;
  return hsm;
}

std::string Uri(const std::string& path_attrs) {
  return "pkcs11:" + path_attrs + "?module-path=" + kModule;
}

}  // namespace

TEST_CASE("PKCS#11: a SoftHSM2 token signs a challenge that verifies") {
  Hsm();
  SecretPipe pin(kPin);
  auto token = lockctl::OpenToken(Uri("token=lockd-fe1;object=sign"), pin.source());
  REQUIRE(token.ok());
  CHECK((*token)->public_key().algorithm() == hashdb::SignatureAlgorithm::kEcdsaP256Sha256);
  CHECK((*token)->info().holder == "lockd-fe1");
  CHECK((*token)->info().organisation == "SoftHSM project");
  CHECK((*token)->info().not_after.empty());
  CHECK_FALSE((*token)->info().token_id.empty());
  CHECK(Contains((*token)->Describe(), "PKCS#11 token \"lockd-fe1\" key \"sign\""));
  auto verdict = tokentest::SignAndVerify(**token);
  CHECK(verdict.ok());

  // Signatures are DER ECDSA-Sig-Value, as OpenSSL's are, and verify with plain OpenSSL.
  const std::string msg = "hello";
  auto sig = (*token)->Sign({reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()});
  REQUIRE(sig.ok());
  CHECK((*sig)[0] == 0x30);
  auto* pkey = static_cast<EVP_PKEY*>((*token)->public_key().raw());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) == 1);
  CHECK(EVP_DigestVerify(ctx.get(), sig->data(), sig->size(),
                         reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1);
}

TEST_CASE("PKCS#11: wrong PIN is a clear error") {
  Hsm();
  SecretPipe pin("999999");
  auto token = lockctl::OpenToken(Uri("token=lockd-fe1"), pin.source());
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().message ==
        "PKCS#11 token \"lockd-fe1\": login: wrong PIN (CKR_PIN_INCORRECT)");
}

TEST_CASE("PKCS#11: PIN from the URI's pin-source file") {
  Hsm();
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("pin"), kPin + "\n", 0600);
  auto token = lockctl::OpenToken(Uri("token=lockd-fe1") + "&pin-source=file:" + dir.Join("pin"),
                                  lockctl::SecretSource{});
  REQUIRE(token.ok());
  CHECK(tokentest::SignAndVerify(**token).ok());
}

TEST_CASE("PKCS#11: no matching token lists the tokens present") {
  Hsm();
  SecretPipe pin(kPin);
  auto token = lockctl::OpenToken(Uri("token=nope"), pin.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "no token matches the URI (tokens present: "));
  CHECK(Contains(token.error().message, "\"lockd-fe1\""));
}

TEST_CASE("PKCS#11: several matching tokens must be told apart") {
  Hsm();
  SecretPipe pin(kPin);
  auto token = lockctl::OpenToken(Uri(""), pin.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "several tokens match the URI"));
}

TEST_CASE("PKCS#11: certificate on the token gives holder and not-after; expired is refused") {
  Hsm();
  SecretPipe pin(kPin);
  auto token = lockctl::OpenToken(Uri("token=lockd-fe2"), pin.source());
  REQUIRE(token.ok());
  CHECK((*token)->info().holder == "Jiro Tanaka");
  CHECK((*token)->info().organisation == "ACME PKI");
  REQUIRE((*token)->info().not_after.size() == 10);
  // The certificate expired ten days ago (real time), so any challenge now is refused.
  auto verdict = tokentest::SignAndVerify(**token, ::time(nullptr));
  CHECK(verdict.check == hashdb::AuthzCheck::kTokenExpired);
}

TEST_CASE("PKCS#11: a token without an EC key says so") {
  Hsm();
  SecretPipe pin(kPin);
  auto token = lockctl::OpenToken(Uri("token=lockd-rsa"), pin.source());
  REQUIRE_FALSE(token.ok());
  CHECK(token.error().message == "PKCS#11 token \"lockd-rsa\": no EC private key");
}

TEST_CASE("PKCS#11: a module that cannot be loaded is a clear error") {
  SecretPipe pin(kPin);
  auto token =
      lockctl::OpenToken("pkcs11:token=x?module-path=/nonexistent/libp11.so", pin.source());
  REQUIRE_FALSE(token.ok());
  CHECK(Contains(token.error().message, "PKCS#11 module /nonexistent/libp11.so: cannot load"));
  auto relative = lockctl::OpenToken("pkcs11:token=x?module-path=libsofthsm2.so", pin.source());
  REQUIRE_FALSE(relative.ok());
  CHECK(Contains(relative.error().message, "must be an absolute path"));
}
