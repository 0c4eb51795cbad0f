#pragma once
// The token options every command that needs a token takes (token sign, maintenance, db
// install, trust add/retire), so they read the same everywhere:
//   --token SPEC                  folder, mount point or pkcs11: URI (default: search)
//   --passphrase-fd N / --pin-fd N  read the secret from descriptor N (default: prompt)
// and the one call that turns a challenge from lockd into an authorization.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/result.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"

namespace lockctl {

struct TokenOptions {
  std::string token;   // "", PATH or pkcs11:...
  int secret_fd = -1;  // -1: prompt on the terminal
  SecretSource Secret() const { return SecretSource{secret_fd, ""}; }
};

// Adds --token and --passphrase-fd/--pin-fd to cmd, storing into options (which must outlive
// parsing: keep it in a shared_ptr captured by the callback).
void AddTokenOptions(CLI::App* cmd, TokenOptions& options);

// Opens the token options name (OpenToken with the default search). A file token whose key
// protection is weak (an old PBKDF2 key) opens, with a warning on stderr that says to rekey it.
hashdb::Result<std::unique_ptr<Token>> OpenTokenFromOptions(const TokenOptions& options);

// Signs the challenge text lockd sent (source_name for errors) with token, after parsing it
// strictly; returns the authorization text to send back. The token signs only well-formed
// challenges; whether this terminal accepts the result is lockd's decision.
hashdb::Result<std::string> AuthorizeChallengeText(std::string_view challenge_text,
                                                   const std::string& source_name, Token& token);

}  // namespace lockctl
