#pragma once
// Finding and opening a token. A spec is one of:
//   ""            look for removable media holding a LOCKD-TOKEN folder (exactly one)
//   pkcs11:...    a PKCS#11 token (see pkcs11_uri.h)
//   PATH          a token folder, or a directory (a mount point) holding LOCKD-TOKEN/
//
// Search for removable media: mount points from /proc/self/mountinfo under /media, /run/media
// and /mnt, each checked for LOCKD-TOKEN/token.conf. If $LOCKD_TOKEN_SEARCH_ROOTS is set
// (colon-separated directories; tests use it), those directories and their children up to two
// levels down are checked instead and mountinfo is not read.

#include <memory>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"

namespace lockctl {

struct TokenSearch {
  std::vector<std::string> mount_prefixes{"/media", "/run/media", "/mnt"};
  std::string mountinfo = "/proc/self/mountinfo";
  std::vector<std::string> roots;  // non-empty: scan these instead of mountinfo
};

// The default search, with $LOCKD_TOKEN_SEARCH_ROOTS applied.
TokenSearch DefaultTokenSearch();

// Every token folder the search finds (paths of LOCKD-TOKEN directories), sorted.
hashdb::Result<std::vector<std::string>> FindTokenFolders(const TokenSearch& search);

// Resolves spec to a token folder (not for pkcs11: specs). Errors say where was looked.
hashdb::Result<std::string> ResolveTokenFolder(const std::string& spec, const TokenSearch& search);

// Opens the token spec names, asking secret for the passphrase or PIN (a PKCS#11 URI's
// pin-source, when present, wins). The one entry point for commands that need a token.
hashdb::Result<std::unique_ptr<Token>> OpenToken(const std::string& spec,
                                                 const SecretSource& secret,
                                                 const TokenSearch& search = DefaultTokenSearch());

}  // namespace lockctl
