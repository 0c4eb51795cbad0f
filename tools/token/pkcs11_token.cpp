#include "tools/token/pkcs11_token.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <ctime>

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;

namespace {

constexpr std::size_t kMaxAttributeSize = 64 * 1024;
constexpr CK_ULONG kMaxObjects = 16;
// DER of the OID prime256v1 (1.2.840.10045.3.1.7), as CKA_EC_PARAMS holds it.
constexpr std::uint8_t kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
// DER prefix of a P-256 SubjectPublicKeyInfo up to the 65-byte uncompressed point.
constexpr std::uint8_t kP256SpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

Result<std::vector<std::uint8_t>> GetAttribute(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s,
                                               CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  CK_RV rv = f->C_GetAttributeValue(s, o, &attr, 1);
  if (rv != CKR_OK) return Pkcs11Error("C_GetAttributeValue", rv);
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION || attr.ulValueLen > kMaxAttributeSize) {
    return MakeError(ErrorCode::kFormat, "PKCS#11 attribute unavailable or too large");
  }
  std::vector<std::uint8_t> value(attr.ulValueLen);
  attr.pValue = value.data();
  rv = f->C_GetAttributeValue(s, o, &attr, 1);
  if (rv != CKR_OK) return Pkcs11Error("C_GetAttributeValue", rv);
  value.resize(attr.ulValueLen);
  return value;
}

Result<std::vector<CK_OBJECT_HANDLE>> FindObjects(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s,
                                                  std::vector<CK_ATTRIBUTE> tmpl) {
  CK_RV rv = f->C_FindObjectsInit(s, tmpl.data(), tmpl.size());
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> found(kMaxObjects);
  CK_ULONG count = 0;
  rv = f->C_FindObjects(s, found.data(), kMaxObjects, &count);
  f->C_FindObjectsFinal(s);
  if (rv != CKR_OK) return Pkcs11Error("C_FindObjects", rv);
  found.resize(count);
  return found;
}

std::string Label(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
  auto v = GetAttribute(f, s, o, CKA_LABEL);
  return v.ok() ? std::string(v->begin(), v->end()) : std::string("(no label)");
}

// SPKI DER of the public key object with this CKA_ID, from CKA_EC_PARAMS and CKA_EC_POINT.
Result<std::vector<std::uint8_t>> SpkiFromPublicKeyObject(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE s,
                                                          CK_OBJECT_HANDLE o) {
  auto params = GetAttribute(f, s, o, CKA_EC_PARAMS);
  if (!params.ok()) return params.error();
  if (params->size() != sizeof kP256Params ||
      !std::equal(params->begin(), params->end(), kP256Params)) {
    return MakeError(ErrorCode::kUnsupported,
                     "the token's key is not on curve P-256 (prime256v1), the only curve lockd "
                     "accepts from PKCS#11 tokens");
  }
  auto point = GetAttribute(f, s, o, CKA_EC_POINT);
  if (!point.ok()) return point.error();
  std::span<const std::uint8_t> raw(*point);
  // PKCS#11 says CKA_EC_POINT is a DER OCTET STRING; some modules give the bare point.
  if (raw.size() == 67 && raw[0] == 0x04 && raw[1] == 0x41) raw = raw.subspan(2);
  if (raw.size() != 65 || raw[0] != 0x04) {
    return MakeError(ErrorCode::kFormat, "CKA_EC_POINT is not an uncompressed P-256 point");
  }
  std::vector<std::uint8_t> spki(std::begin(kP256SpkiPrefix), std::end(kP256SpkiPrefix));
  spki.insert(spki.end(), raw.begin(), raw.end());
  return spki;
}

std::string NameEntry(X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

struct CertInfo {
  std::vector<std::uint8_t> spki;
  std::string holder, organisation, not_after;
};

Result<CertInfo> ParseCertificate(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (!cert) return MakeError(ErrorCode::kFormat, "the token's certificate is not X.509 DER");
  CertInfo info;
  unsigned char* spki = nullptr;
  int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &spki);
  if (len <= 0) return MakeError(ErrorCode::kFormat, "the token's certificate has no public key");
  info.spki.assign(spki, spki + len);
  OPENSSL_free(spki);
  info.holder = NameEntry(X509_get_subject_name(cert.get()), NID_commonName);
  info.organisation = NameEntry(X509_get_subject_name(cert.get()), NID_organizationName);
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    info.not_after = buf;
  }
  return info;
}

}  // namespace

Result<std::unique_ptr<Pkcs11Token>> Pkcs11Token::Open(const Pkcs11Uri& uri,
                                                       const PinProvider& pin) {
  std::string module_path = uri.module_path;
  if (module_path.empty()) {
    const char* env = std::getenv("LOCKD_PKCS11_MODULE");
    if (env == nullptr || *env == '\0') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI has no module-path (and LOCKD_PKCS11_MODULE is not set)");
    }
    module_path = env;
  }
  auto module = Pkcs11Module::Load(module_path);
  if (!module.ok()) return module.error();
  CK_FUNCTION_LIST* f = (*module)->f();
  std::unique_ptr<Pkcs11Token> token(new Pkcs11Token());
  token->module_ = *module;
  const std::string where = "PKCS#11 module " + module_path;

  CK_ULONG slot_count = 0;
  CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &slot_count);
  if (rv != CKR_OK) return Pkcs11Error(where + ": C_GetSlotList", rv);
  std::vector<CK_SLOT_ID> slots(slot_count);
  rv = f->C_GetSlotList(CK_TRUE, slots.data(), &slot_count);
  if (rv != CKR_OK) return Pkcs11Error(where + ": C_GetSlotList", rv);
  slots.resize(slot_count);
  std::vector<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> matches;
  std::string present;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO ti{};
    if (f->C_GetTokenInfo(slot, &ti) != CKR_OK) continue;
    const std::string label = PaddedField(ti.label, sizeof ti.label);
    present += (present.empty() ? "\"" : ", \"") + label + "\"";
    if (!(ti.flags & CKF_TOKEN_INITIALIZED)) continue;
    if (uri.slot_id && *uri.slot_id != slot) continue;
    if (!uri.token.empty() && uri.token != label) continue;
    if (!uri.serial.empty() && uri.serial != PaddedField(ti.serialNumber, sizeof ti.serialNumber)) {
      continue;
    }
    if (!uri.manufacturer.empty() &&
        uri.manufacturer != PaddedField(ti.manufacturerID, sizeof ti.manufacturerID)) {
      continue;
    }
    if (!uri.model.empty() && uri.model != PaddedField(ti.model, sizeof ti.model)) continue;
    matches.emplace_back(slot, ti);
  }
  if (matches.empty()) {
    return MakeError(ErrorCode::kNotFound, where + ": no token matches the URI (tokens present: " +
                                               (present.empty() ? std::string("none") : present) +
                                               ")");
  }
  if (matches.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument, where + ": several tokens match the URI (" +
                                                      present +
                                                      "); name one with token= or serial=");
  }
  const auto& [slot, ti] = matches.front();
  token->label_ = PaddedField(ti.label, sizeof ti.label);
  const std::string what = "PKCS#11 token \"" + token->label_ + "\"";

  rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &token->session_);
  if (rv != CKR_OK) return Pkcs11Error(what + ": C_OpenSession", rv);
  auto secret = pin(token->label_);
  if (!secret.ok()) return secret.error();
  rv = f->C_Login(token->session_, CKU_USER,
                  reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(secret->value().data())),
                  secret->value().size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return Pkcs11Error(what + ": login", rv);

  CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY;
  CK_KEY_TYPE ec = CKK_EC;
  std::vector<CK_ATTRIBUTE> tmpl{{CKA_CLASS, &priv_class, sizeof priv_class},
                                 {CKA_KEY_TYPE, &ec, sizeof ec}};
  std::string object = uri.object;
  std::vector<std::uint8_t> id = uri.id.value_or(std::vector<std::uint8_t>{});
  if (!object.empty()) tmpl.push_back({CKA_LABEL, object.data(), object.size()});
  if (uri.id) tmpl.push_back({CKA_ID, id.data(), id.size()});
  auto keys = FindObjects(f, token->session_, tmpl);
  if (!keys.ok()) return keys.error().Wrap(what);
  if (keys->empty()) {
    return MakeError(
        ErrorCode::kNotFound,
        what + ": no EC private key" + (object.empty() ? "" : " labelled \"" + object + "\""));
  }
  if (keys->size() > 1) {
    std::string labels;
    for (auto k : *keys)
      labels += (labels.empty() ? "\"" : ", \"") + Label(f, token->session_, k) + "\"";
    return MakeError(ErrorCode::kInvalidArgument,
                     what + ": several EC private keys (" + labels + "); name one with object=");
  }
  token->key_ = keys->front();
  token->key_label_ = Label(f, token->session_, token->key_);
  auto key_id = GetAttribute(f, token->session_, token->key_, CKA_ID);
  if (!key_id.ok()) return key_id.error().Wrap(what + ": key id");
  auto always = GetAttribute(f, token->session_, token->key_, CKA_ALWAYS_AUTHENTICATE);
  token->always_authenticate_ = always.ok() && always->size() == 1 && (*always)[0] != 0;
  if (token->always_authenticate_) token->pin_ = std::move(*secret);

  CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, cert_class = CKO_CERTIFICATE;
  auto pubs = FindObjects(
      f, token->session_,
      {{CKA_CLASS, &pub_class, sizeof pub_class}, {CKA_ID, key_id->data(), key_id->size()}});
  if (!pubs.ok()) return pubs.error().Wrap(what);
  auto certs = FindObjects(
      f, token->session_,
      {{CKA_CLASS, &cert_class, sizeof cert_class}, {CKA_ID, key_id->data(), key_id->size()}});
  if (!certs.ok()) return certs.error().Wrap(what);
  std::optional<CertInfo> cert;
  if (!certs->empty()) {
    auto value = GetAttribute(f, token->session_, certs->front(), CKA_VALUE);
    if (!value.ok()) return value.error().Wrap(what + ": certificate");
    auto parsed = ParseCertificate(*value);
    if (!parsed.ok()) return parsed.error().Wrap(what);
    cert = std::move(*parsed);
  }
  std::vector<std::uint8_t> spki;
  if (!pubs->empty()) {
    auto s = SpkiFromPublicKeyObject(f, token->session_, pubs->front());
    if (!s.ok()) return s.error().Wrap(what + ": key \"" + token->key_label_ + "\"");
    spki = std::move(*s);
  } else if (cert) {
    spki = cert->spki;
  } else {
    return MakeError(ErrorCode::kNotFound, what +
                                               ": no public key or certificate with the id of "
                                               "key \"" +
                                               token->key_label_ + "\"");
  }
  auto public_key = hashdb::PublicKey::FromDer(spki);
  if (!public_key.ok()) return public_key.error().Wrap(what + ": public key");
  if (public_key->algorithm() != hashdb::SignatureAlgorithm::kEcdsaP256Sha256) {
    return MakeError(ErrorCode::kUnsupported, what + ": public key is not ECDSA P-256");
  }
  token->public_key_ = std::move(*public_key);

  token->info_.token_id = PaddedField(ti.serialNumber, sizeof ti.serialNumber);
  if (token->info_.token_id.empty()) token->info_.token_id = token->label_;
  token->info_.holder = cert && !cert->holder.empty() ? cert->holder : token->label_;
  token->info_.organisation = cert && !cert->organisation.empty()
                                  ? cert->organisation
                                  : PaddedField(ti.manufacturerID, sizeof ti.manufacturerID);
  token->info_.not_after = cert ? cert->not_after : "";
  return token;
}

Pkcs11Token::~Pkcs11Token() {
  if (session_ != CK_INVALID_HANDLE) {
    module_->f()->C_Logout(session_);
    module_->f()->C_CloseSession(session_);
  }
}

std::string Pkcs11Token::Describe() const {
  return "PKCS#11 token \"" + label_ + "\" key \"" + key_label_ + "\" (" + module_->path() + ")";
}

Result<std::vector<std::uint8_t>> Pkcs11Token::Sign(std::span<const std::uint8_t> message) {
  CK_FUNCTION_LIST* f = module_->f();
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(message.data(), message.size(), digest);
  CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
  const std::string what = Describe();
  CK_RV rv = f->C_SignInit(session_, &mechanism, key_);
  if (rv != CKR_OK) return Pkcs11Error(what + ": C_SignInit", rv);
  if (always_authenticate_) {
    rv = f->C_Login(session_, CKU_CONTEXT_SPECIFIC,
                    reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin_.value().data())),
                    pin_.value().size());
    if (rv != CKR_OK) return Pkcs11Error(what + ": context login", rv);
  }
  std::uint8_t raw[132];
  CK_ULONG raw_len = sizeof raw;
  rv = f->C_Sign(session_, digest, sizeof digest, raw, &raw_len);
  if (rv != CKR_OK) return Pkcs11Error(what + ": C_Sign", rv);
  if (raw_len != 64) {
    return MakeError(ErrorCode::kFormat, what + ": signature of " + std::to_string(raw_len) +
                                             " bytes, expected 64 (P-256 r||s)");
  }
  // Raw r||s to DER ECDSA-Sig-Value, the form OpenSSL produces and PublicKey::Verify expects.
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return MakeError(ErrorCode::kCrypto, what + ": cannot encode signature");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return MakeError(ErrorCode::kCrypto, what + ": cannot encode signature");
  std::vector<std::uint8_t> out(der, der + der_len);
  OPENSSL_free(der);
  if (!public_key_.Verify(message, out)) {
    return MakeError(ErrorCode::kSignature,
                     what + ": the token's signature does not verify with its public key");
  }
  return out;
}

}  // namespace lockctl
