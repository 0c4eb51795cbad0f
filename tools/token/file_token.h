#pragma once
// A file token: a folder (normally LOCKD-TOKEN/ on a USB stick) holding token.conf (see
// token_descriptor.h), key.pem (the private key, PKCS#8 encrypted with the holder's
// passphrase) and public.pem (the public key, to install in a terminal's trust dir).
//
// Security: whoever has both the folder and the passphrase can authorize anything the key is
// trusted for; the passphrase is the only protection of a lost stick. The descriptor is not
// signed by anyone but the token itself (see docs/authorization.md, "Token expiry").

#include <memory>
#include <string>

#include "hashdb/keys.h"
#include "hashdb/result.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"
#include "tools/token/token_descriptor.h"

namespace lockctl {

// Shortest passphrase token create accepts: the key file is offline-attackable once the stick
// is lost, so a short passphrase would be guessed.
inline constexpr std::size_t kMinPassphraseSize = 8;

class FileToken : public Token {
 public:
  // Reads dir/token.conf only (no passphrase needed).
  static hashdb::Result<TokenDescriptor> ReadDescriptor(const std::string& dir);

  // Opens the token in dir: reads the descriptor, then the passphrase from secret, decrypts
  // the key and checks it is the key the descriptor names. A wrong passphrase is a kCrypto
  // error saying so.
  static hashdb::Result<std::unique_ptr<FileToken>> Open(const std::string& dir,
                                                         const SecretSource& secret);

  // Creates a new token in dir (created 0700; must not exist or be empty): a fresh key of
  // key_type, a random token id, token.conf, key.pem (0600) and public.pem. info.token_id is
  // ignored. Returns the descriptor written.
  static hashdb::Result<TokenDescriptor> Create(const std::string& dir, hashdb::TokenInfo info,
                                                hashdb::SignatureAlgorithm key_type,
                                                const std::string& passphrase);

  const hashdb::TokenInfo& info() const override { return descriptor_.info; }
  std::string Describe() const override { return "file token " + dir_; }
  const hashdb::PublicKey& public_key() const override { return key_->public_key(); }
  hashdb::Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) override {
    return key_->Sign(message);
  }

 private:
  FileToken(std::string dir, TokenDescriptor descriptor, std::unique_ptr<hashdb::PrivateKey> key)
      : dir_(std::move(dir)), descriptor_(std::move(descriptor)), key_(std::move(key)) {}
  std::string dir_;
  TokenDescriptor descriptor_;
  std::unique_ptr<hashdb::PrivateKey> key_;
};

}  // namespace lockctl
