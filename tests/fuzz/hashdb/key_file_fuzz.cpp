// Fuzz target for the key files a token stick or a trust directory holds (hashdb/keys.h,
// hashdb/key_protection.h): a token's key.pem (PKCS#8, plain or PBES2-encrypted, whose KDF
// parameters are read without the passphrase by InspectKeyProtection), public.pem and the PEM
// trust anchors. The files come from a USB stick anyone may hand over. Any bytes are refused
// with an error or parsed; a key whose KDF asks for more than the limits is refused before any
// passphrase is tried; an encrypted key is never opened without a passphrase. Only cheap
// encrypted keys are tried with one (the real limit allows ~40 s of scrypt per input).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/key_protection.h"
#include "hashdb/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view pem(reinterpret_cast<const char*>(data), size);
  auto protection = hashdb::InspectKeyProtection(pem, "key.pem");
  if (protection.ok()) {
    const hashdb::KeyProtection& p = *protection;
    if (p.kdf == hashdb::KeyKdf::kScrypt && p.scrypt.Work() > hashdb::kMaxScryptWork) {
      __builtin_trap();
    }
    if (p.kdf == hashdb::KeyKdf::kPbkdf2 && p.pbkdf2_iterations > hashdb::kMaxPbkdf2Iterations) {
      __builtin_trap();
    }
    (void)p.Weak();
    (void)p.Describe();
    auto plain = hashdb::PrivateKey::FromPem(pem, "key.pem");
    if (plain.ok() && p.kdf != hashdb::KeyKdf::kNone) __builtin_trap();
    const bool cheap = (p.kdf == hashdb::KeyKdf::kScrypt && p.scrypt.MemoryBytes() <= (1u << 20) &&
                        p.scrypt.Work() <= (1u << 12)) ||
                       (p.kdf == hashdb::KeyKdf::kPbkdf2 && p.pbkdf2_iterations <= 4096);
    if (cheap) (void)hashdb::PrivateKey::FromPem(pem, "key.pem", "fuzz passphrase");
  } else {
    (void)hashdb::PrivateKey::FromPem(pem, "key.pem");
  }
  if (auto key = hashdb::PublicKey::FromPem(pem, "public.pem"); key.ok()) {
    (void)key->id();
  }
  return 0;
}
