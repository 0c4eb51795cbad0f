#pragma once
// Keys and signatures: ECDSA P-256 (what smart cards, PIV tokens and HSMs all support) and
// Ed25519. A key is named by its key id: the SHA-256 of its DER SubjectPublicKeyInfo.
//
// Signing goes through the Signer interface so that a private key in a PEM file, a
// passphrase-protected file token and a PKCS#11 token (whose key never leaves it) are used the
// same way by the database writer and the authorization code.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/key_protection.h"
#include "hashdb/result.h"

namespace hashdb {

// Values are part of the on-disk database format.
enum class SignatureAlgorithm : std::uint16_t {
  kEcdsaP256Sha256 = 1,  // signature is DER ECDSA-Sig-Value over SHA-256(message)
  kEd25519 = 2,          // signature is the 64-byte pure Ed25519 signature of message
};

std::string_view AlgorithmName(SignatureAlgorithm algorithm);  // "ecdsa-p256", "ed25519"
using KeyId = Digest;

// A public key. Copyable (shares the underlying EVP_PKEY, which is immutable once loaded).
class PublicKey {
 public:
  static Result<PublicKey> FromPem(std::string_view pem, const std::string& source_name);
  static Result<PublicKey> FromPemFile(const std::string& path);
  static Result<PublicKey> FromDer(std::span<const std::uint8_t> spki_der);

  const KeyId& id() const { return id_; }
  SignatureAlgorithm algorithm() const { return algorithm_; }
  const std::vector<std::uint8_t>& spki_der() const { return der_; }
  std::string ToPem() const;

  // true only if signature is a valid signature of message by this key.
  bool Verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const;

  void* raw() const { return pkey_.get(); }  // EVP_PKEY*, for code that must talk to OpenSSL

  // Takes ownership of pkey (an EVP_PKEY* holding only the public key) whose DER SPKI is der.
  static PublicKey FromParts(void* pkey, std::vector<std::uint8_t> der,
                             SignatureAlgorithm algorithm);

 private:
  std::shared_ptr<void> pkey_;  // EVP_PKEY
  std::vector<std::uint8_t> der_;
  KeyId id_{};
  SignatureAlgorithm algorithm_ = SignatureAlgorithm::kEcdsaP256Sha256;
};

// Something that can sign with one private key. Implementations: PrivateKey below, the file
// token and the PKCS#11 token (tools/). Sign may fail (token removed, wrong PIN).
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const PublicKey& public_key() const = 0;
  virtual Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) = 0;
};

// A private key held in memory, from a PKCS#8 PEM file (optionally passphrase-encrypted).
class PrivateKey : public Signer {
 public:
  static Result<std::unique_ptr<PrivateKey>> Generate(SignatureAlgorithm algorithm);
  // passphrase empty: the PEM must be unencrypted. An encrypted PEM whose KDF asks for more
  // than kMaxScryptWork / kMaxPbkdf2Iterations is refused before the passphrase is tried.
  static Result<std::unique_ptr<PrivateKey>> FromPem(std::string_view pem,
                                                     const std::string& source_name,
                                                     const std::string& passphrase = "");
  static Result<std::unique_ptr<PrivateKey>> FromPemFile(const std::string& path,
                                                         const std::string& passphrase = "");
  ~PrivateKey() override;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  const PublicKey& public_key() const override { return public_key_; }
  Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) override;

  // Unencrypted PKCS#8 PEM ("PRIVATE KEY"): for keys that never leave a signing workstation.
  Result<std::string> ToPkcs8Pem() const;
  // PKCS#8 EncryptedPrivateKeyInfo PEM: PBES2 with scrypt (kdf, a fresh 16-byte salt) and
  // AES-256-CBC (a fresh IV), as `openssl pkcs8 -topk8 -scrypt` writes it. kdf must fit
  // OpenSSL's 32 MiB scrypt limit (see kKeyScrypt); lockctl passes kKeyScrypt, only tests pass
  // cheaper values. An empty passphrase is an error.
  Result<std::string> ToEncryptedPkcs8Pem(const std::string& passphrase,
                                          const ScryptParams& kdf) const;

 private:
  PrivateKey(void* pkey, PublicKey public_key);
  void* pkey_;  // EVP_PKEY*, owned
  PublicKey public_key_;
};

// Drains OpenSSL's error queue into one line ("" when empty).
std::string OpenSslErrors();

}  // namespace hashdb
