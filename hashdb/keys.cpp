#include "hashdb/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstring>

#include "hashdb/sha256.h"
#include "hashdb/small_file.h"

namespace hashdb {

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;  // NOLINT(runtime/int): OpenSSL's type
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string_view AlgorithmName(SignatureAlgorithm algorithm) {
  switch (algorithm) {
    case SignatureAlgorithm::kEcdsaP256Sha256:
      return "ecdsa-p256";
    case SignatureAlgorithm::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

Error CryptoError(const std::string& what) {
  std::string detail = OpenSslErrors();
  return MakeError(ErrorCode::kCrypto, detail.empty() ? what : what + " (" + detail + ")");
}

// Which of our algorithms this key is for; error for any other key type or curve.
Result<SignatureAlgorithm> AlgorithmOf(EVP_PKEY* pkey, const std::string& source) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return SignatureAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) == 1 &&
        (std::strcmp(group, "prime256v1") == 0 || std::strcmp(group, "P-256") == 0)) {
      return SignatureAlgorithm::kEcdsaP256Sha256;
    }
    ERR_clear_error();
    return MakeError(ErrorCode::kUnsupported,
                     source + ": EC key is not on curve P-256 (found '" + group + "')");
  }
  return MakeError(ErrorCode::kUnsupported, source + ": key type " +
                                                std::string(EVP_PKEY_get0_type_name(pkey)) +
                                                " is not supported (expected P-256 or Ed25519)");
}

// Key files are small; the cap keeps a wrong path (a device, a log) from being read whole.
constexpr std::size_t kMaxKeyFile = 64 * 1024;

// Builds a PublicKey from any EVP_PKEY (public or private): DER SPKI, key id, algorithm.
Result<PublicKey> PublicFromPkey(EVP_PKEY* pkey, const std::string& source);

}  // namespace

Result<PublicKey> PublicKey::FromDer(std::span<const std::uint8_t> spki_der) {
  const unsigned char* p = spki_der.data();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size()));  // NOLINT
  if (pkey == nullptr) return CryptoError("not a DER SubjectPublicKeyInfo");
  if (p != spki_der.data() + spki_der.size()) {
    EVP_PKEY_free(pkey);
    return MakeError(ErrorCode::kFormat, "trailing bytes after DER SubjectPublicKeyInfo");
  }
  auto result = PublicFromPkey(pkey, "DER public key");
  EVP_PKEY_free(pkey);
  return result;
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem, const std::string& source_name) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return CryptoError(source_name + ": out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    return CryptoError(source_name +
                       ": not a PEM public key (expected '-----BEGIN PUBLIC KEY-----')");
  }
  auto result = PublicFromPkey(pkey, source_name);
  EVP_PKEY_free(pkey);
  return result;
}

Result<PublicKey> PublicKey::FromPemFile(const std::string& path) {
  auto text = ReadSmallFile(path, kMaxKeyFile);
  if (!text) return text.error();
  return FromPem(*text, path);
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), static_cast<EVP_PKEY*>(pkey_.get()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  return std::string(data, static_cast<std::size_t>(len));
}

bool PublicKey::Verify(std::span<const std::uint8_t> message,
                       std::span<const std::uint8_t> signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  const EVP_MD* md = algorithm_ == SignatureAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, static_cast<EVP_PKEY*>(pkey_.get())) == 1 &&
      EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(), message.size()) ==
          1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

namespace {
Result<PublicKey> PublicFromPkey(EVP_PKEY* pkey, const std::string& source) {
  auto algorithm = AlgorithmOf(pkey, source);
  if (!algorithm) return algorithm.error();
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return CryptoError(source + ": cannot encode public key");
  std::vector<std::uint8_t> der_bytes(der, der + len);
  OPENSSL_free(der);
  // Re-read the public half alone so that a PublicKey never holds private material.
  const unsigned char* p = der_bytes.data();
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, len);
  if (pub == nullptr) return CryptoError(source + ": cannot decode public key");
  return PublicKey::FromParts(pub, std::move(der_bytes), *algorithm);
}
}  // namespace

PublicKey PublicKey::FromParts(void* pkey, std::vector<std::uint8_t> der,
                               SignatureAlgorithm algorithm) {
  PublicKey key;
  key.pkey_ =
      std::shared_ptr<void>(pkey, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  key.id_ = Sha256(der);
  key.der_ = std::move(der);
  key.algorithm_ = algorithm;
  return key;
}

PrivateKey::PrivateKey(void* pkey, PublicKey public_key)
    : pkey_(pkey), public_key_(std::move(public_key)) {}

PrivateKey::~PrivateKey() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

Result<std::unique_ptr<PrivateKey>> PrivateKey::Generate(SignatureAlgorithm algorithm) {
  EVP_PKEY* pkey = algorithm == SignatureAlgorithm::kEd25519
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) return CryptoError("key generation failed");
  auto pub = PublicFromPkey(pkey, "generated key");
  if (!pub) {
    EVP_PKEY_free(pkey);
    return pub.error();
  }
  return std::unique_ptr<PrivateKey>(new PrivateKey(pkey, std::move(*pub)));
}

namespace {
int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pass = static_cast<const std::string*>(u);
  if (pass == nullptr || pass->empty()) return -1;  // no passphrase: refuse encrypted keys
  int n = static_cast<int>(pass->size());
  if (n > size) return -1;
  std::memcpy(buf, pass->data(), static_cast<std::size_t>(n));
  return n;
}
}  // namespace

Result<std::unique_ptr<PrivateKey>> PrivateKey::FromPem(std::string_view pem,
                                                        const std::string& source_name,
                                                        const std::string& passphrase) {
  if (!passphrase.empty() && pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos) {
    auto protection = InspectKeyProtection(pem, source_name);
    if (!protection.ok()) return protection.error();
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return CryptoError(source_name + ": out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback,
                                           const_cast<std::string*>(&passphrase));
  if (pkey == nullptr) {
    std::string detail = OpenSslErrors();
    bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
    std::string why = !encrypted           ? "not a PEM private key (expected PKCS#8)"
                      : passphrase.empty() ? "the key is encrypted and no passphrase was given"
                                           : "wrong passphrase (or damaged key file)";
    // OpenSSL's own text adds nothing for a wrong passphrase ("bad decrypt", repeated); keep
    // it only where it may say what is wrong with the file.
    bool wrong_passphrase = encrypted && !passphrase.empty();
    return MakeError(
        ErrorCode::kCrypto,
        source_name + ": " + why + (detail.empty() || wrong_passphrase ? "" : " [" + detail + "]"));
  }
  auto pub = PublicFromPkey(pkey, source_name);
  if (!pub) {
    EVP_PKEY_free(pkey);
    return pub.error();
  }
  return std::unique_ptr<PrivateKey>(new PrivateKey(pkey, std::move(*pub)));
}

Result<std::unique_ptr<PrivateKey>> PrivateKey::FromPemFile(const std::string& path,
                                                            const std::string& passphrase) {
  auto text = ReadSmallFile(path, kMaxKeyFile);
  if (!text) return text.error();
  auto key = FromPem(*text, path, passphrase);
  OPENSSL_cleanse(text->data(), text->size());
  return key;
}

Result<std::vector<std::uint8_t>> PrivateKey::Sign(std::span<const std::uint8_t> message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return CryptoError("out of memory");
  const EVP_MD* md =
      public_key_.algorithm() == SignatureAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  std::vector<std::uint8_t> sig;
  std::size_t len = 0;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return CryptoError("signing failed");
  return sig;
}

namespace {
Result<std::string> BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  return std::string(data, static_cast<std::size_t>(len));
}
}  // namespace

Result<std::string> PrivateKey::ToPkcs8Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), static_cast<EVP_PKEY*>(pkey_), nullptr,
                                            nullptr, 0, nullptr, nullptr) != 1) {
    return CryptoError("cannot encode private key");
  }
  return BioText(bio.get());
}

Result<std::string> PrivateKey::ToEncryptedPkcs8Pem(const std::string& passphrase,
                                                    const ScryptParams& kdf) const {
  if (passphrase.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot encrypt a key with an empty passphrase");
  }
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) return CryptoError("no random salt");
  // PKCS5_pbe2_set_scrypt checks the parameters against OpenSSL's scrypt memory limit and
  // draws a random IV (aiv nullptr).
  X509_ALGOR* pbe =
      PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof salt, nullptr, kdf.n, kdf.r, kdf.p);
  if (pbe == nullptr) {
    return CryptoError("scrypt N=" + std::to_string(kdf.n) + " r=" + std::to_string(kdf.r) +
                       " p=" + std::to_string(kdf.p) + " refused");
  }
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(static_cast<EVP_PKEY*>(pkey_));
  if (info == nullptr) {
    X509_ALGOR_free(pbe);
    return CryptoError("cannot encode private key");
  }
  // Takes pbe on success only.
  X509_SIG* sig = PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), info, pbe);
  PKCS8_PRIV_KEY_INFO_free(info);  // clears the key bytes
  if (sig == nullptr) {
    X509_ALGOR_free(pbe);
    return CryptoError("cannot encrypt private key");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  const bool ok = bio && PEM_write_bio_PKCS8(bio.get(), sig) == 1;
  X509_SIG_free(sig);
  if (!ok) return CryptoError("cannot encode encrypted private key");
  return BioText(bio.get());
}

}  // namespace hashdb
