#pragma once
// How a passphrase protects a private key file: the key derivation function and its cost,
// read from the PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 / PKCS#5 v2.1 PBES2) without the
// passphrase, and the scrypt parameters lockd's tools encrypt with.
//
// Why it matters: a file token's key.pem sits on a USB stick. Once the stick is lost, the
// passphrase is the only thing between the finder and a key that signs databases and
// authorizations, and the finder can try passphrases offline as fast as the KDF allows.

#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace hashdb {

// scrypt cost parameters (RFC 7914): N (CPU/memory cost, a power of two), r (block size),
// p (parallelization). One derivation does N·r·p units of work and needs 128·N·r bytes.
struct ScryptParams {
  std::uint64_t n = 0;
  std::uint64_t r = 0;
  std::uint64_t p = 0;
  std::uint64_t Work() const { return n * r * p; }
  std::uint64_t MemoryBytes() const { return 128 * n * r; }
};

// What lockctl encrypts every passphrase-protected key with (token create, token rekey).
//
// Why these values (measured; the argument in full: docs/threat-model.md, "A lost token stick"):
// - Memory: N=2^14, r=8 needs 16 MiB per derivation. OpenSSL 3.0 caps scrypt at 32 MiB when
//   it writes or reads a PKCS#8 key (PKCS5_pbe2_set_scrypt and the PEM decoder run the KDF
//   with the default maxmem, SCRYPT_MAX_MEM): N=2^15, r=8 (32 MiB plus a little) is already
//   refused. Staying under the cap keeps key.pem a standard PKCS#8 file that stock
//   `openssl pkey` reads, and an unlock on a terminal at a modest 16 MiB.
// - Time: from p. Each of the p lanes is a full 16 MiB scrypt, run one after the other; one
//   lane costs 25-29 ms of CPU on this project's 2-vCPU AMD EPYC build VM, so p=24 costs
//   0.6-0.7 s per unlock there (more on the Celeron/Core-class CPUs of terminals, a little
//   less on the fastest desktop cores), above the 0.5 s aimed for.
// - An attacker pays N·r·p per guess as well: on a GPU scrypt is bound by memory bandwidth,
//   about 2·128·N·r·p bytes per guess (768 MiB here), whether that work comes from a large N
//   or from p lanes. What a larger N would add (fewer guesses in flight per device, more chip
//   area per guess on an ASIC) is what OpenSSL's cap rules out.
// tests/hashdb/key_protection_test.cpp fails if a decrypt with these costs under 0.3 s here.
inline constexpr ScryptParams kKeyScrypt{1 << 14, 8, 24};

// The most a key file may ask for before it is even tried: a key file comes from a stick
// anyone may have handed over, and scrypt with p in the millions (or PBKDF2 with billions of
// iterations) would hold lockctl for hours. 64 times our own cost: about 40 s here.
inline constexpr std::uint64_t kMaxScryptWork = 64 * kKeyScrypt.n * kKeyScrypt.r * kKeyScrypt.p;
inline constexpr std::uint64_t kMaxPbkdf2Iterations = 50'000'000;

enum class KeyKdf : std::uint8_t {
  kNone,    // not encrypted at all ("PRIVATE KEY")
  kPbkdf2,  // PBES2 with PBKDF2 (what lockctl wrote before scrypt: HMAC-SHA256, 2048 rounds)
  kScrypt,  // PBES2 with scrypt
  kOther,   // anything else (PKCS#5 v1.5 PBE, PKCS#12 PBE, legacy "Proc-Type: ENCRYPTED")
};

struct KeyProtection {
  KeyKdf kdf = KeyKdf::kNone;
  ScryptParams scrypt;                  // kScrypt
  std::uint64_t pbkdf2_iterations = 0;  // kPbkdf2
  std::string pbkdf2_prf;               // kPbkdf2: "hmacWithSHA256", ...
  std::string cipher;                   // "AES-256-CBC"; kOther: what the key uses instead

  // true unless scrypt with at least kKeyScrypt's memory (N·r) and work (N·r·p): anything
  // weaker makes an offline guess cheaper than lockctl's own keys do.
  bool Weak() const;
  // One line for `token show`: "scrypt N=16384 r=8 p=24 (16 MiB), AES-256-CBC".
  std::string Describe() const;
};

// Reads how the PEM private key pem is protected, without decrypting it. Errors (kFormat,
// naming source_name) for text that is no PEM private key. Parameters above kMaxScryptWork or
// kMaxPbkdf2Iterations are a kFormat error as well, so callers refuse such a file before any
// passphrase is tried.
Result<KeyProtection> InspectKeyProtection(std::string_view pem, const std::string& source_name);

}  // namespace hashdb
