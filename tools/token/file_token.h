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

#include "hashdb/key_protection.h"
#include "hashdb/keys.h"
#include "hashdb/result.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"
#include "tools/token/token_descriptor.h"

namespace lockctl {

class FileToken : public Token {
 public:
  // Reads dir/token.conf only (no passphrase needed).
  static hashdb::Result<TokenDescriptor> ReadDescriptor(const std::string& dir);

  // How dir/key.pem is protected, read without the passphrase (token show).
  static hashdb::Result<hashdb::KeyProtection> ReadKeyProtection(const std::string& dir);

  // Opens the token in dir: reads the descriptor, then the passphrase from secret, decrypts
  // the key and checks it is the key the descriptor names. A wrong passphrase is a kCrypto
  // error saying so. Old keys (PBKDF2, as lockctl wrote them before scrypt) still open;
  // key_protection().Weak() tells the caller to warn.
  static hashdb::Result<std::unique_ptr<FileToken>> Open(const std::string& dir,
                                                         const SecretSource& secret);

  // Creates a new token in dir (created 0700; must not exist or be empty): a fresh key of
  // key_type, a random token id, token.conf, key.pem (0600) and public.pem. info.token_id is
  // ignored. The passphrase must pass CheckNewPassphrase (passphrase_policy.h). Returns the
  // descriptor written.
  // kdf: lockctl never passes anything but the default; tests (and only tests: the unit tests
  // and tests/integration/helpers/make_test_token.cpp) pass cheap parameters so that a suite
  // unlocking tokens dozens of times stays fast. Such a key still opens, with the weak-key
  // warning.
  static hashdb::Result<TokenDescriptor> Create(
      const std::string& dir, hashdb::TokenInfo info, hashdb::SignatureAlgorithm key_type,
      const std::string& passphrase, const hashdb::ScryptParams& kdf = hashdb::kKeyScrypt);

  // Re-encrypts dir/key.pem under a new passphrase with kdf (token rekey): asks old_secret for
  // the current passphrase (a wrong one is an error naming key.pem; nothing is written), then
  // new_secret for the new one (confirmed when prompted; must pass CheckNewPassphrase; may be
  // the same as the old one, to upgrade an old key's protection only). The new file is
  // decrypted once more in memory before it replaces key.pem: written to a temporary file
  // beside it, fsynced, renamed over key.pem and the folder fsynced, so a stick pulled at any
  // moment holds the old key.pem or the new one, both whole. The key itself (and so the key
  // id, the trust anchors and token.conf) does not change. Returns the new protection.
  static hashdb::Result<hashdb::KeyProtection> Rekey(
      const std::string& dir, const SecretSource& old_secret, const SecretSource& new_secret,
      const hashdb::ScryptParams& kdf = hashdb::kKeyScrypt);

  // How this token's key.pem was protected when it was opened.
  const hashdb::KeyProtection& key_protection() const { return protection_; }

  const hashdb::TokenInfo& info() const override { return descriptor_.info; }
  std::string Describe() const override { return "file token " + dir_; }
  const std::string& dir() const { return dir_; }
  const hashdb::PublicKey& public_key() const override { return key_->public_key(); }
  hashdb::Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) override {
    return key_->Sign(message);
  }

 private:
  FileToken(std::string dir, TokenDescriptor descriptor, std::unique_ptr<hashdb::PrivateKey> key,
            hashdb::KeyProtection protection)
      : dir_(std::move(dir)),
        descriptor_(std::move(descriptor)),
        key_(std::move(key)),
        protection_(std::move(protection)) {}
  std::string dir_;
  TokenDescriptor descriptor_;
  std::unique_ptr<hashdb::PrivateKey> key_;
  hashdb::KeyProtection protection_;
};

}  // namespace lockctl
