#include "tests/support/db_fixture.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "hashdb/sha256.h"

namespace testsupport {

hashdb::FileEntry EntryFor(const std::string& path, const std::string& content, hashdb::Kind kind) {
  hashdb::FileEntry e;
  e.path = path;
  e.digest = hashdb::Sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
  e.kind = kind;
  e.size = content.size();
  e.mode = 0100755;
  return e;
}

std::unique_ptr<hashdb::PrivateKey> NewKey(hashdb::SignatureAlgorithm alg) {
  auto key = hashdb::PrivateKey::Generate(alg);
  REQUIRE_MESSAGE(key.ok(), (key.ok() ? "" : key.error().message));
  return std::move(*key);
}

std::vector<std::uint8_t> BuildBytes(const hashdb::DatabaseContents& contents,
                                     hashdb::Signer& signer) {
  auto bytes = hashdb::BuildDatabase(contents, signer);
  REQUIRE_MESSAGE(bytes.ok(), (bytes.ok() ? "" : bytes.error().message));
  return std::move(*bytes);
}

hashdb::TrustStore TrustOf(const hashdb::Signer& signer) {
  return hashdb::TrustStore::FromKeys({signer.public_key()}, "test-trust");
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lockd-test-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  REQUIRE(p != nullptr);
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions first so that tests that chmod 000 still clean up.
  for (auto it = std::filesystem::recursive_directory_iterator(
           path_, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  }
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    REQUIRE_MESSAGE(out.good(), path);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace testsupport
