#include "hashdb/trust_store.h"

#include <dirent.h>

#include <algorithm>

namespace hashdb {

Result<TrustStore> TrustStore::LoadDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("trust directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".pem") == 0) names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  TrustStore store;
  store.source_ = dir;
  for (const auto& name : names) {
    auto key = PublicKey::FromPemFile(dir + "/" + name);
    if (!key) return key.error();
    if (store.Find(key->id()) == nullptr) store.keys_.push_back(std::move(*key));
  }
  if (store.keys_.empty()) {
    return MakeError(ErrorCode::kNotFound, "trust directory " + dir + ": no *.pem public keys");
  }
  return store;
}

TrustStore TrustStore::FromKeys(std::vector<PublicKey> keys, std::string source) {
  TrustStore store;
  store.keys_ = std::move(keys);
  store.source_ = std::move(source);
  return store;
}

const PublicKey* TrustStore::Find(const KeyId& id) const {
  for (const auto& k : keys_) {
    if (k.id() == id) return &k;
  }
  return nullptr;
}

}  // namespace hashdb
