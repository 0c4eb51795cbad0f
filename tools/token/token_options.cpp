#include "tools/token/token_options.h"

#include <iostream>

#include "tools/token/file_token.h"
#include "tools/token/token_finder.h"

namespace lockctl {

void AddTokenOptions(CLI::App* cmd, TokenOptions& o) {
  cmd->add_option("--token", o.token,
                  "token folder, mount point or pkcs11: URI (default: search removable media)");
  cmd->add_option("--passphrase-fd,--pin-fd", o.secret_fd,
                  "read the passphrase or PIN from this file descriptor (default: prompt)")
      ->check(CLI::NonNegativeNumber);
}

hashdb::Result<std::unique_ptr<Token>> OpenTokenFromOptions(const TokenOptions& options) {
  auto token = OpenToken(options.token, options.Secret());
  if (token.ok()) {
    if (const auto* file = dynamic_cast<const FileToken*>(token->get());
        file != nullptr && file->key_protection().Weak()) {
      std::cerr << "lockctl: warning: " << file->Describe() << " uses weak key protection ("
                << file->key_protection().Describe()
                << "): a lost stick can be brute-forced offline far faster than with today's "
                   "scrypt; re-encrypt it with `lockctl token rekey "
                << file->dir() << "`\n";
    }
  }
  return token;
}

hashdb::Result<std::string> AuthorizeChallengeText(std::string_view challenge_text,
                                                   const std::string& source_name, Token& token) {
  auto challenge = hashdb::ParseChallenge(challenge_text, source_name);
  if (!challenge.ok()) return challenge.error();
  auto authorization = hashdb::SignChallenge(*challenge, token.info(), token);
  if (!authorization.ok()) return authorization.error().Wrap(token.Describe());
  return hashdb::SerializeAuthorization(*authorization);
}

}  // namespace lockctl
