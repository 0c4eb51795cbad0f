#pragma once
// The fixed test key that signed the seed corpus in tests/fuzz/corpus/db_reader (private half:
// tests/fuzz/fuzz_key.pem; test-only, never trusted anywhere else).
#include "hashdb/trust_store.h"
namespace fuzzkeys {
inline constexpr const char* kPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtMZaSjF4M3dCTtY1hE5HRunz3ugI\n"
    "oN752+KL6xjjAjTiZ5+mKsibrG15d0O08OTD0aQponQaZVrjbHIxB5GFww==\n"
    "-----END PUBLIC KEY-----\n";
inline hashdb::TrustStore Trust() {
  auto key = hashdb::PublicKey::FromPem(kPublicPem, "fuzz key");
  if (!key.ok()) __builtin_trap();
  return hashdb::TrustStore::FromKeys({*key}, "fuzz-trust");
}
}  // namespace fuzzkeys
