// Test-only file token maker for the integration tests that unlock a token many times
// (tests/integration/maintenance_lib.sh, export_test.sh, maintenance_daemon_test.sh).
//
//   make_test_token --out DIR --holder NAME --org ORG --not-after YYYY-MM-DD
//                   [--public-out FILE] --passphrase-fd FD
//
// The same token as `lockctl token create` (FileToken::Create: descriptor, key.pem, public.pem,
// the same passphrase rules), except that key.pem is encrypted with cheap scrypt parameters
// (N=1024, r=8, p=1: milliseconds) instead of kKeyScrypt (~0.7 s per unlock). lockctl has no way
// to make such a key: this program is built only under tests/ and never installed, and
// lockctl warns about the key's weak protection each time it opens one.
#include <cstdio>
#include <string>

#include "hashdb/digest.h"
#include "tools/token/file_token.h"
#include "tools/token/secret.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: make_test_token --out DIR --holder NAME --org ORG --not-after DATE "
               "[--public-out FILE] --passphrase-fd FD\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, holder, org, not_after, public_out;
  int fd = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i], value = argv[i + 1];
    if (opt == "--out")
      out = value;
    else if (opt == "--holder")
      holder = value;
    else if (opt == "--org")
      org = value;
    else if (opt == "--not-after")
      not_after = value;
    else if (opt == "--public-out")
      public_out = value;
    else if (opt == "--passphrase-fd")
      fd = std::stoi(value);
    else
      return Usage();
  }
  if (argc % 2 != 1 || out.empty() || holder.empty() || org.empty() || not_after.empty() ||
      fd < 0) {
    return Usage();
  }
  auto passphrase = lockctl::ReadSecret(lockctl::SecretSource{fd, ""}, "");
  if (!passphrase.ok()) {
    std::fprintf(stderr, "make_test_token: %s\n", passphrase.error().message.c_str());
    return 2;
  }
  constexpr hashdb::ScryptParams kTestOnlyKdf{1 << 10, 8, 1};
  auto d = lockctl::FileToken::Create(out, {"", holder, org, not_after},
                                      hashdb::SignatureAlgorithm::kEcdsaP256Sha256,
                                      passphrase->value(), kTestOnlyKdf);
  if (!d.ok()) {
    std::fprintf(stderr, "make_test_token: %s\n", d.error().message.c_str());
    return 2;
  }
  if (!public_out.empty()) {
    auto pub = hashdb::PublicKey::FromPemFile(out + "/" + std::string(lockctl::kPublicKeyFile));
    std::FILE* f = pub.ok() ? std::fopen(public_out.c_str(), "w") : nullptr;
    if (f == nullptr || std::fputs(pub->ToPem().c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "make_test_token: cannot write %s\n", public_out.c_str());
      return 2;
    }
  }
  std::printf("created token %s in %s\nkey id:     %s (ecdsa-p256)\n", d->info.token_id.c_str(),
              out.c_str(), hashdb::ToHex(d->key_id).c_str());
  return 0;
}
