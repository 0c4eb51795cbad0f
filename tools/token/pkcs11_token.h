#pragma once
// A PKCS#11 token (smart card, PIV key, HSM; SoftHSM2 in tests): an EC P-256 private key on
// the token signs with CKM_ECDSA over SHA-256(message); the key never leaves the token. The
// signature is returned DER-encoded, as OpenSSL makes them, so verifiers cannot tell the two
// kinds apart.
//
// Token info: from an X.509 certificate on the token with the key's CKA_ID when there is one
// (holder = subject CN, organisation = subject O, not-after = the certificate's notAfter day),
// else holder = token label, organisation = manufacturer, no not-after. Token id = the token's
// serial number.

#include <functional>
#include <memory>
#include <string>

#include "hashdb/result.h"
#include "tools/token/pkcs11_module.h"
#include "tools/token/pkcs11_uri.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"

namespace lockctl {

// Asked for the PIN once the token is found (so "no such token" comes before a prompt).
using PinProvider = std::function<hashdb::Result<Secret>(const std::string& token_label)>;

class Pkcs11Token : public Token {
 public:
  // Loads uri.module_path (or $LOCKD_PKCS11_MODULE), finds exactly one token matching the
  // URI, logs in as user with the PIN and finds exactly one matching EC private key and its
  // public key (a public key object or a certificate with the same CKA_ID). A wrong PIN is an
  // error that says so (CKR_PIN_INCORRECT).
  static hashdb::Result<std::unique_ptr<Pkcs11Token>> Open(const Pkcs11Uri& uri,
                                                           const PinProvider& pin);
  ~Pkcs11Token() override;
  Pkcs11Token(const Pkcs11Token&) = delete;
  Pkcs11Token& operator=(const Pkcs11Token&) = delete;

  const hashdb::TokenInfo& info() const override { return info_; }
  std::string Describe() const override;
  const hashdb::PublicKey& public_key() const override { return public_key_; }
  // Signs on the token, then checks the signature with the public key (a token whose public
  // key object does not belong to its private key is caught here, not on the terminal).
  hashdb::Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) override;

 private:
  Pkcs11Token() = default;
  std::shared_ptr<Pkcs11Module> module_;  // first: destroyed last
  CK_SESSION_HANDLE session_ = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE key_ = CK_INVALID_HANDLE;
  bool always_authenticate_ = false;
  Secret pin_;  // kept only for keys with CKA_ALWAYS_AUTHENTICATE (PIV signature slot)
  std::string label_;
  std::string key_label_;
  hashdb::TokenInfo info_;
  hashdb::PublicKey public_key_;
};

}  // namespace lockctl
