#pragma once
// The trust anchors: the public keys a terminal accepts signatures from, one PEM file each in a
// directory (e.g. /etc/lockd/trust/). Files that are not *.pem are ignored; a *.pem file that
// does not parse is an error (a broken anchor must be noticed, not skipped).

#include <string>
#include <vector>

#include "hashdb/keys.h"
#include "hashdb/result.h"

namespace hashdb {

class TrustStore {
 public:
  static Result<TrustStore> LoadDirectory(const std::string& dir);
  static TrustStore FromKeys(std::vector<PublicKey> keys, std::string source = "(memory)");

  // The anchor with this key id, or nullptr.
  const PublicKey* Find(const KeyId& id) const;
  const std::vector<PublicKey>& keys() const { return keys_; }
  const std::string& source() const { return source_; }

 private:
  std::vector<PublicKey> keys_;
  std::string source_;
};

}  // namespace hashdb
