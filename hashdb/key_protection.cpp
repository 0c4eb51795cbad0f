#include "hashdb/key_protection.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace hashdb {

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct SigDeleter {
  void operator()(X509_SIG* s) const { X509_SIG_free(s); }
};
struct Pbe2Deleter {
  void operator()(PBE2PARAM* p) const { PBE2PARAM_free(p); }
};
struct Pbkdf2Deleter {
  void operator()(PBKDF2PARAM* p) const { PBKDF2PARAM_free(p); }
};
struct ScryptDeleter {
  void operator()(SCRYPT_PARAMS* p) const { SCRYPT_PARAMS_free(p); }
};

std::string ObjectName(const ASN1_OBJECT* object) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, object, 0);
  if (n <= 0) return "unknown";
  return std::string(buf, static_cast<std::size_t>(n) < sizeof buf ? n : sizeof buf - 1);
}

// An ASN.1 INTEGER that must be a positive 64-bit value.
Result<std::uint64_t> Positive(const ASN1_INTEGER* value, const std::string& what) {
  std::uint64_t v = 0;
  if (value == nullptr || ASN1_INTEGER_get_uint64(&v, value) != 1 || v == 0) {
    ERR_clear_error();
    return MakeError(ErrorCode::kFormat, what + " is not a positive integer");
  }
  return v;
}

Result<KeyProtection> FromPbes2(const X509_ALGOR* algorithm, const std::string& source) {
  std::unique_ptr<PBE2PARAM, Pbe2Deleter> pbe2(static_cast<PBE2PARAM*>(
      ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), algorithm->parameter)));
  if (!pbe2 || pbe2->keyfunc == nullptr || pbe2->encryption == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorCode::kFormat, source + ": damaged PBES2 parameters");
  }
  KeyProtection out;
  out.cipher = OBJ_nid2sn(OBJ_obj2nid(pbe2->encryption->algorithm));
  if (out.cipher == "UNDEF") out.cipher = ObjectName(pbe2->encryption->algorithm);
  const int kdf = OBJ_obj2nid(pbe2->keyfunc->algorithm);
  if (kdf == NID_id_scrypt) {
    std::unique_ptr<SCRYPT_PARAMS, ScryptDeleter> sp(static_cast<SCRYPT_PARAMS*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter)));
    if (!sp) {
      ERR_clear_error();
      return MakeError(ErrorCode::kFormat, source + ": damaged scrypt parameters");
    }
    auto n = Positive(sp->costParameter, source + ": scrypt N");
    auto r = Positive(sp->blockSize, source + ": scrypt r");
    auto p = Positive(sp->parallelizationParameter, source + ": scrypt p");
    for (const auto* v : {&n, &r, &p}) {
      if (!v->ok()) return v->error();
    }
    out.kdf = KeyKdf::kScrypt;
    out.scrypt = {*n, *r, *p};
    // Checked factor by factor so the product cannot overflow.
    if (*n > kMaxScryptWork || *r > kMaxScryptWork || *p > kMaxScryptWork ||
        *n * *r > kMaxScryptWork || *n * *r * *p > kMaxScryptWork) {
      return MakeError(ErrorCode::kFormat, source + ": scrypt parameters N=" + std::to_string(*n) +
                                               " r=" + std::to_string(*r) +
                                               " p=" + std::to_string(*p) +
                                               " ask for more than 64 times lockctl's own cost; "
                                               "not trying to decrypt");
    }
    return out;
  }
  if (kdf == NID_id_pbkdf2) {
    std::unique_ptr<PBKDF2PARAM, Pbkdf2Deleter> kp(static_cast<PBKDF2PARAM*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)));
    if (!kp) {
      ERR_clear_error();
      return MakeError(ErrorCode::kFormat, source + ": damaged PBKDF2 parameters");
    }
    auto iterations = Positive(kp->iter, source + ": PBKDF2 iteration count");
    if (!iterations.ok()) return iterations.error();
    out.kdf = KeyKdf::kPbkdf2;
    out.pbkdf2_iterations = *iterations;
    // RFC 8018: an absent PRF means HMAC-SHA1.
    out.pbkdf2_prf =
        kp->prf == nullptr ? "hmacWithSHA1" : OBJ_nid2sn(OBJ_obj2nid(kp->prf->algorithm));
    if (*iterations > kMaxPbkdf2Iterations) {
      return MakeError(ErrorCode::kFormat, source + ": PBKDF2 with " + std::to_string(*iterations) +
                                               " iterations is more than " +
                                               std::to_string(kMaxPbkdf2Iterations) +
                                               "; not trying to decrypt");
    }
    return out;
  }
  out.kdf = KeyKdf::kOther;
  out.cipher = "PBES2 with key derivation " + ObjectName(pbe2->keyfunc->algorithm);
  return out;
}

}  // namespace

bool KeyProtection::Weak() const {
  return kdf != KeyKdf::kScrypt || scrypt.n * scrypt.r < kKeyScrypt.n * kKeyScrypt.r ||
         scrypt.Work() < kKeyScrypt.Work();
}

std::string KeyProtection::Describe() const {
  switch (kdf) {
    case KeyKdf::kNone:
      return "none (the private key is not encrypted)";
    case KeyKdf::kPbkdf2:
      return "PBKDF2 " + pbkdf2_prf + ", " + std::to_string(pbkdf2_iterations) + " iterations, " +
             cipher;
    case KeyKdf::kScrypt: {
      const std::uint64_t bytes = scrypt.MemoryBytes();
      const std::string memory = bytes >= 1024 * 1024
                                     ? std::to_string(bytes / (1024 * 1024)) + " MiB"
                                     : std::to_string(bytes / 1024) + " KiB";
      return "scrypt N=" + std::to_string(scrypt.n) + " r=" + std::to_string(scrypt.r) +
             " p=" + std::to_string(scrypt.p) + " (" + memory + "), " + cipher;
    }
    case KeyKdf::kOther:
      return cipher;
  }
  return "unknown";
}

Result<KeyProtection> InspectKeyProtection(std::string_view pem, const std::string& source) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") == std::string_view::npos) {
    // Unencrypted PKCS#8, or OpenSSL's traditional formats ("EC PRIVATE KEY"), which
    // PrivateKey::FromPem reads too.
    if (pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
      KeyProtection legacy;
      legacy.kdf = KeyKdf::kOther;
      legacy.cipher = "legacy PEM encryption (MD5-based key derivation, one iteration)";
      return legacy;
    }
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos) return KeyProtection{};
    return MakeError(ErrorCode::kFormat,
                     source +
                         ": not a PEM private key (expected '-----BEGIN ENCRYPTED "
                         "PRIVATE KEY-----')");
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return MakeError(ErrorCode::kCrypto, source + ": out of memory");
  std::unique_ptr<X509_SIG, SigDeleter> sig(
      PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  if (!sig) {
    ERR_clear_error();
    return MakeError(
        ErrorCode::kFormat,
        source + ": damaged encrypted private key (not a PKCS#8 EncryptedPrivateKeyInfo)");
  }
  const X509_ALGOR* algorithm = nullptr;
  X509_SIG_get0(sig.get(), &algorithm, nullptr);
  if (OBJ_obj2nid(algorithm->algorithm) == NID_pbes2) return FromPbes2(algorithm, source);
  KeyProtection other;
  other.kdf = KeyKdf::kOther;
  other.cipher = ObjectName(algorithm->algorithm);
  return other;
}

}  // namespace hashdb
