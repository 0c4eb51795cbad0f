#include "lockd/maintenance/trust_anchors.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <span>
#include <vector>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/keys.h"
#include "hashdb/small_file.h"
#include "hashdb/unique_fd.h"

namespace lockd::maintenance {

namespace {

constexpr std::size_t kMaxPem = 64 * 1024;

struct AnchorFile {
  std::string name;
  std::string key_id_hex;
};

hashdb::Result<std::vector<AnchorFile>> ListAnchors(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return hashdb::ErrnoError("trust directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".pem") == 0) names.push_back(name);
  }
  ::closedir(d);
  std::vector<AnchorFile> out;
  for (const auto& name : names) {
    auto key = hashdb::PublicKey::FromPemFile(dir + "/" + name);
    if (!key.ok()) return key.error();
    out.push_back({name, hashdb::ToHex(key->id())});
  }
  return out;
}

}  // namespace

hashdb::Result<std::string> AddAnchor(const std::string& trust_dir, const std::string& pem_path,
                                      const std::string& key_id_hex) {
  auto pem = hashdb::ReadSmallFile(pem_path, kMaxPem);
  if (!pem.ok()) return pem.error();
  auto key = hashdb::PublicKey::FromPem(*pem, pem_path);
  if (!key.ok()) return key.error();
  const std::string id = hashdb::ToHex(key->id());
  if (id != key_id_hex) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             pem_path + ": key id " + id + " is not the authorized " + key_id_hex);
  }
  auto anchors = ListAnchors(trust_dir);
  if (!anchors.ok()) return anchors.error();
  for (const auto& a : *anchors) {
    if (a.key_id_hex == id) {
      return hashdb::MakeError(
          hashdb::ErrorCode::kConflict,
          "key " + id + " is already a trust anchor (" + trust_dir + "/" + a.name + ")");
    }
  }
  const std::string target = trust_dir + "/" + id + ".pem";
  const std::string text = key->ToPem();
  auto written = hashdb::WriteFileAtomically(
      target,
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0644, hashdb::Replace::kRefuse);
  if (!written.ok()) return written.error().Wrap(target);
  return target;
}

hashdb::Result<std::string> RetireAnchor(const std::string& trust_dir,
                                         const std::string& key_id_hex,
                                         const std::string& in_force_signer_hex) {
  auto anchors = ListAnchors(trust_dir);
  if (!anchors.ok()) return anchors.error();
  std::vector<std::string> matching;
  std::size_t others = 0;
  for (const auto& a : *anchors) {
    if (a.key_id_hex == key_id_hex) {
      matching.push_back(a.name);
    } else {
      ++others;
    }
  }
  if (matching.empty()) {
    return hashdb::MakeError(hashdb::ErrorCode::kNotFound,
                             "key " + key_id_hex + " is not a trust anchor in " + trust_dir);
  }
  if (others == 0) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             "key " + key_id_hex +
                                 " is the last trust anchor: retiring it would leave nothing "
                                 "that can authorize or sign (add its successor first)");
  }
  if (key_id_hex == in_force_signer_hex) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             "key " + key_id_hex +
                                 " signed the database in force: lockd would refuse it at the "
                                 "next start (install a database signed by another anchor "
                                 "first)");
  }
  std::string removed;
  for (const auto& name : matching) {
    const std::string path = trust_dir + "/" + name;
    if (::unlink(path.c_str()) != 0) return hashdb::ErrnoError("unlink " + path);
    removed += (removed.empty() ? "" : ", ") + path;
  }
  hashdb::UniqueFd dir(::open(trust_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) return hashdb::ErrnoError("fsync " + trust_dir);
  return removed;
}

}  // namespace lockd::maintenance
