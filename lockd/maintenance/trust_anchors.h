#pragma once
// Adding and retiring trust anchors (the *.pem public keys in the trust directory), each after
// a token's authorization signed by a current anchor. Files are written atomically; the trust
// directory is re-read by every later verification (DatabaseManager::Load, Authorizer).
//
// Refused: adding a key whose id is not the authorized one, or one already trusted; retiring
// the last anchor (nothing could ever be authorized or loaded again), or the anchor that signed
// the database in force (the next start would refuse that database: install one signed by
// another anchor first).

#include <string>

#include "hashdb/result.h"

namespace lockd::maintenance {

// Reads the PEM public key at pem_path, checks its key id is key_id_hex, writes it as
// <trust_dir>/<key_id_hex>.pem (mode 0644). Returns the written path.
hashdb::Result<std::string> AddAnchor(const std::string& trust_dir, const std::string& pem_path,
                                      const std::string& key_id_hex);

// Removes every *.pem in trust_dir whose key id is key_id_hex (fsyncs the directory).
// in_force_signer_hex: signer of the database in force. Returns the removed file names.
hashdb::Result<std::string> RetireAnchor(const std::string& trust_dir,
                                         const std::string& key_id_hex,
                                         const std::string& in_force_signer_hex);

}  // namespace lockd::maintenance
