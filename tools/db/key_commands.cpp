// `lockctl key generate`: a signing key pair as PEM files.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/keys.h"
#include "tools/commands.h"
#include "tools/db/commands.h"

namespace lockctl {

namespace {

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

int RunKeyGenerate(const std::string& dir, const std::string& type, std::ostream& out,
                   std::ostream& err) {
  hashdb::SignatureAlgorithm algorithm;
  if (type == "p256") {
    algorithm = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  } else if (type == "ed25519") {
    algorithm = hashdb::SignatureAlgorithm::kEd25519;
  } else {
    err << "lockctl key generate: --type must be p256 or ed25519, not '" << type << "'\n";
    return kExitUsage;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    err << "lockctl key generate: " << dir << ": " << std::strerror(errno) << "\n";
    return kExitUsage;
  }
  const std::string private_path = dir + "/private.key";
  const std::string public_path = dir + "/public.pem";
  struct stat st;
  for (const std::string& p : {private_path, public_path}) {
    if (::lstat(p.c_str(), &st) == 0) {
      err << "lockctl key generate: " << p << ": already exists, not overwritten\n";
      return kExitUsage;
    }
  }
  auto key = hashdb::PrivateKey::Generate(algorithm);
  if (!key.ok()) {
    err << "lockctl key generate: " << key.error().message << "\n";
    return kExitUsage;
  }
  auto pem = (*key)->ToPkcs8Pem();
  if (!pem.ok()) {
    err << "lockctl key generate: " << pem.error().message << "\n";
    return kExitUsage;
  }
  if (auto s =
          hashdb::WriteFileAtomically(private_path, Bytes(*pem), 0600, hashdb::Replace::kRefuse);
      !s.ok()) {
    err << "lockctl key generate: " << s.error().message << "\n";
    return kExitUsage;
  }
  const std::string public_pem = (*key)->public_key().ToPem();
  if (auto s = hashdb::WriteFileAtomically(public_path, Bytes(public_pem), 0644,
                                           hashdb::Replace::kRefuse);
      !s.ok()) {
    err << "lockctl key generate: " << s.error().message << "\n";
    return kExitUsage;
  }
  out << "key id:      " << hashdb::ToHex((*key)->public_key().id()) << "\n"
      << "algorithm:   " << hashdb::AlgorithmName(algorithm) << "\n"
      << "private key: " << private_path
      << " (PKCS#8, mode 0600: keep it on the signing workstation, never on a terminal)\n"
      << "public key:  " << public_path << " (install into /etc/lockd/trust/ on terminals)\n";
  return kExitOk;
}

void RegisterKeyCommands(CLI::App& app, int& exit_code) {
  CLI::App* key = app.add_subcommand("key", "Signing keys for allowlist databases");
  key->require_subcommand(1);
  CLI::App* gen = key->add_subcommand("generate", "Generate a key pair as PEM files");
  auto dir = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("p256");
  gen->add_option("--out", *dir, "Directory for private.key and public.pem")->required();
  gen->add_option("--type", *type, "Key type")->check(CLI::IsMember({"p256", "ed25519"}));
  gen->callback(
      [&exit_code, dir, type] { exit_code = RunKeyGenerate(*dir, *type, std::cout, std::cerr); });
}

}  // namespace lockctl
