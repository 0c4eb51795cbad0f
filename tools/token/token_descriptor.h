#pragma once
// The descriptor of a file token: LOCKD-TOKEN/token.conf, a small "key = value" text file
// (documented in docs/runbook.md, "The token folder"):
//
//   # lockd file token
//   format = lockd-token-v1
//   token-id = 5f0c3b7e9a1d4c2b8e6f0a1b2c3d4e5f
//   holder = Hanako Suzuki
//   organisation = ACME ATM Services
//   not-after = 2027-03-31
//   key-type = ecdsa-p256
//   key-id = <64 hex digits: SHA-256 of the public key's DER SubjectPublicKeyInfo>
//
// '#' starts a comment line; blank lines are ignored; every key exactly once; unknown keys are
// errors (a typo must not silently drop a field).

#include <string>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/keys.h"
#include "hashdb/result.h"

namespace lockctl {

inline constexpr std::string_view kTokenFolderName = "LOCKD-TOKEN";
inline constexpr std::string_view kDescriptorFile = "token.conf";
inline constexpr std::string_view kPrivateKeyFile = "key.pem";
inline constexpr std::string_view kPublicKeyFile = "public.pem";
inline constexpr std::size_t kMaxDescriptorSize = 4096;

struct TokenDescriptor {
  hashdb::TokenInfo info;
  hashdb::SignatureAlgorithm key_type = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  hashdb::KeyId key_id{};
};

// Errors name source_name, the line and what was expected.
hashdb::Result<TokenDescriptor> ParseTokenDescriptor(std::string_view text,
                                                     const std::string& source_name);
std::string SerializeTokenDescriptor(const TokenDescriptor& descriptor);

}  // namespace lockctl
