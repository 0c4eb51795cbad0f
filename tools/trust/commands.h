#pragma once
// `lockctl trust list|add|retire`: the terminal's trust anchors (public keys in lockd's trust
// dir, one *.pem each). add and retire go through lockd, authorized by a token whose key is a
// current anchor; lockd refuses to retire the last anchor. list only reads the directory.

#include <ostream>
#include <string>
#include <vector>

#include "hashdb/keys.h"
#include "hashdb/result.h"
#include "tools/control_client.h"
#include "tools/token/token_options.h"

namespace lockctl {

// A public key PEM larger than this is not a key.
inline constexpr std::size_t kMaxAnchorPem = 64 * 1024;

struct AnchorFile {
  std::string file;  // name in the trust dir
  hashdb::Result<hashdb::PublicKey> key;
};

// Every *.pem in dir, sorted by name, each parsed (a broken file carries its error).
hashdb::Result<std::vector<AnchorFile>> ReadTrustDir(const std::string& dir);

// A key id given on the command line: 64 hex digits (either case) -> lower-case hex.
hashdb::Result<std::string> NormalizeKeyId(const std::string& text);

int RunTrustList(const std::string& trust_dir, const TerminalOptions& terminal, std::ostream& out,
                 std::ostream& err);
int RunTrustAdd(const std::string& pem, const TerminalOptions& terminal, const TokenOptions& token,
                std::ostream& out, std::ostream& err);
int RunTrustRetire(const std::string& key_id, const TerminalOptions& terminal,
                   const TokenOptions& token, std::ostream& out, std::ostream& err);

}  // namespace lockctl
