// Test-only database builder for the integration tests, used when `lockctl key generate` /
// `lockctl db build` are not available. Built on the fly by tests/integration/lib.sh against
// the build tree's libhashdb.a.
//
//   make_test_db genkey PRIVATE.pem PUBLIC.pem
//   make_test_db build PRIVATE.pem OUT.lockdb GENERATION enforce|audit [--watch=PATH]...
//                [--allow-untrusted-fs] FILE...
//     (each FILE is hashed; its path in the database is the FILE argument)
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "hashdb/keys.h"
#include "hashdb/sha256.h"
#include "hashdb/writer.h"

namespace {

int Die(const std::string& m) {
  std::fprintf(stderr, "make_test_db: %s\n", m.c_str());
  return 2;
}

bool WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return out.good();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "genkey") {
    auto key = hashdb::PrivateKey::Generate(hashdb::SignatureAlgorithm::kEcdsaP256Sha256);
    if (!key.ok()) return Die(key.error().message);
    auto pem = (*key)->ToPkcs8Pem();
    if (!pem.ok()) return Die(pem.error().message);
    if (!WriteAll(argv[2], *pem) || !WriteAll(argv[3], (*key)->public_key().ToPem())) {
      return Die("cannot write key files");
    }
    return 0;
  }
  if (argc >= 6 && std::string(argv[1]) == "build") {
    auto key = hashdb::PrivateKey::FromPemFile(argv[2]);
    if (!key.ok()) return Die(key.error().message);
    hashdb::DatabaseContents c;
    c.generation = std::strtoull(argv[4], nullptr, 10);
    c.policy.mode = std::string(argv[5]) == "audit" ? hashdb::Mode::kAudit : hashdb::Mode::kEnforce;
    for (int i = 6; i < argc; ++i) {
      if (std::string(argv[i]).rfind("--watch=", 0) == 0) {
        c.policy.watch.push_back(std::string(argv[i]).substr(8));
        continue;
      }
      if (std::string(argv[i]) == "--allow-untrusted-fs") {  // deny_untrusted_fs off
        c.policy.deny_untrusted_fs = false;
        continue;
      }
      int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0) return Die(std::string("cannot open ") + argv[i]);
      auto digest = hashdb::Sha256File(fd, -1);
      ::close(fd);
      if (!digest.ok()) return Die(digest.error().message);
      hashdb::FileEntry e;
      e.path = argv[i];
      e.digest = *digest;
      e.kind = hashdb::Kind::kElfExecutable;
      e.mode = 0100755;
      c.entries.push_back(e);
    }
    auto bytes = hashdb::BuildDatabase(c, **key);
    if (!bytes.ok()) return Die(bytes.error().message);
    if (!WriteAll(argv[3], std::string(bytes->begin(), bytes->end()))) {
      return Die(std::string("cannot write ") + argv[3]);
    }
    return 0;
  }
  return Die(
      "usage: make_test_db genkey PRIV PUB | build PRIV OUT GEN MODE [--watch=PATH]... FILE...");
}
