// lockctl trust list|add|retire.
#include "tools/trust/commands.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "hashdb/digest.h"
#include "hashdb/small_file.h"
#include "tools/commands.h"
#include "tools/maintenance/staging.h"
#include "tools/output.h"

namespace lockctl {

hashdb::Result<std::vector<AnchorFile>> ReadTrustDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return hashdb::ErrnoError("open trust dir " + dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".pem") == 0) names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<AnchorFile> out;
  for (const auto& name : names) {
    out.push_back(AnchorFile{name, hashdb::PublicKey::FromPemFile(dir + "/" + name)});
  }
  return out;
}

hashdb::Result<std::string> NormalizeKeyId(const std::string& text) {
  auto id = hashdb::DigestFromHex(text);
  if (!id) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "\"" + EscapeText(text.substr(0, 80)) +
                                 "\" is not a key id (64 hex digits: the SHA-256 of the key's "
                                 "DER SubjectPublicKeyInfo; `lockctl trust list` shows them)");
  }
  return hashdb::ToHex(*id);
}

int RunTrustList(const std::string& trust_dir, const TerminalOptions& terminal, std::ostream& out,
                 std::ostream& err) {
  std::string dir = trust_dir;
  if (dir.empty()) {
    auto config = LoadTerminalConfig(terminal);
    if (!config.ok()) {
      err << "lockctl: trust list: " << config.error().message << "\n";
      return kExitUsage;
    }
    dir = config->trust_dir;
  }
  auto anchors = ReadTrustDir(dir);
  if (!anchors.ok()) {
    err << "lockctl: trust list: " << anchors.error().message << "\n";
    return kExitUsage;
  }
  int rc = kExitOk;
  out << "trust dir: " << dir << " (" << anchors->size() << " anchors)\n";
  for (const AnchorFile& a : *anchors) {
    if (a.key.ok()) {
      out << hashdb::ToHex(a.key->id()) << "  " << hashdb::AlgorithmName(a.key->algorithm()) << "  "
          << EscapeText(a.file) << "\n";
    } else {
      out << "BROKEN  " << EscapeText(a.file) << ": " << a.key.error().message << "\n";
      err << "lockctl: trust list: " << a.key.error().message
          << " (lockd refuses to start or reload with a broken anchor)\n";
      rc = kExitUsage;
    }
  }
  return rc;
}

namespace {

int Authorized(const std::string& who, const TerminalOptions& terminal, const TokenOptions& t,
               const std::string& command, hashdb::Act act, const std::string& argument,
               std::ostream& out, std::ostream& err) {
  auto config = LoadTerminalConfig(terminal);
  if (!config.ok()) {
    err << "lockctl: " << who << ": " << config.error().message << "\n";
    return kExitUsage;
  }
  auto token = OpenTokenFromOptions(t);
  if (!token.ok()) {
    err << "lockctl: " << who << ": " << token.error().message << "\n";
    return kExitUsage;
  }
  return ReportAnswer(SendAuthorized(config->control_socket, command, act, argument, **token), who,
                      out, err);
}

}  // namespace

int RunTrustAdd(const std::string& pem, const TerminalOptions& terminal, const TokenOptions& token,
                std::ostream& out, std::ostream& err) {
  auto fail = [&err](const std::string& message) {
    err << "lockctl: trust add: " << message << "\n";
    return kExitUsage;
  };
  auto text = hashdb::ReadSmallFile(pem, kMaxAnchorPem);
  if (!text.ok()) return fail(text.error().message);
  auto key = hashdb::PublicKey::FromPem(*text, pem);
  if (!key.ok()) return fail(key.error().message);
  const std::string id = hashdb::ToHex(key->id());
  out << "key:      " << pem << ": " << id << " (" << hashdb::AlgorithmName(key->algorithm())
      << ")\n";
  // lockd gets a root-only copy: a path on the stick may hold spaces (the protocol's paths do
  // not), and the bytes lockd reads are the ones checked here.
  auto config = LoadTerminalConfig(terminal);
  if (!config.ok()) return fail(config.error().message);
  if (auto st = EnsureStagingDir(config->state_dir); !st.ok()) return fail(st.error().message);
  const std::string staged = StagingPath(config->state_dir, kAnchorStagingName);
  auto sha =
      StageBytes(staged, {reinterpret_cast<const std::uint8_t*>(text->data()), text->size()});
  if (!sha.ok()) return fail(sha.error().message);
  const int rc = Authorized("trust add", terminal, token, "trust-add " + staged,
                            hashdb::Act::kTrustAdd, id, out, err);
  ::unlink(staged.c_str());
  return rc;
}

int RunTrustRetire(const std::string& key_id, const TerminalOptions& terminal,
                   const TokenOptions& token, std::ostream& out, std::ostream& err) {
  auto id = NormalizeKeyId(key_id);
  if (!id.ok()) {
    err << "lockctl: trust retire: " << id.error().message << "\n";
    return kExitUsage;
  }
  return Authorized("trust retire", terminal, token, "trust-retire " + *id,
                    hashdb::Act::kTrustRetire, *id, out, err);
}

void RegisterTrustCommands(CLI::App& app, int& exit_code) {
  CLI::App* trust = app.add_subcommand("trust", "The terminal's trust anchors (key rotation)");
  trust->require_subcommand(1);

  struct Args {
    std::string arg;
    std::string trust_dir;
    TerminalOptions terminal;
    TokenOptions token;
  };
  auto list = std::make_shared<Args>();
  CLI::App* l = trust->add_subcommand("list", "Key id, algorithm and file of every anchor");
  l->add_option("--trust", list->trust_dir,
                "Trust dir to read (default: lockd's, from the config)");
  l->add_option("--config", list->terminal.config_path, "lockd's config file");
  l->callback([list, &exit_code] {
    exit_code = RunTrustList(list->trust_dir, list->terminal, std::cout, std::cerr);
  });

  auto add = std::make_shared<Args>();
  CLI::App* a = trust->add_subcommand(
      "add", "Add a trust anchor, authorized by a token whose key is a current anchor");
  a->add_option("key", add->arg, "Public key (PEM) of the new anchor")->required();
  AddTerminalOptions(a, add->terminal);
  AddTokenOptions(a, add->token);
  a->callback([add, &exit_code] {
    exit_code = RunTrustAdd(add->arg, add->terminal, add->token, std::cout, std::cerr);
  });

  auto retire = std::make_shared<Args>();
  CLI::App* r = trust->add_subcommand(
      "retire", "Retire a trust anchor (authorized by a token); retiring the last is refused");
  r->add_option("keyid", retire->arg, "Key id of the anchor (64 hex digits)")->required();
  AddTerminalOptions(r, retire->terminal);
  AddTokenOptions(r, retire->token);
  r->callback([retire, &exit_code] {
    exit_code = RunTrustRetire(retire->arg, retire->terminal, retire->token, std::cout, std::cerr);
  });
}

}  // namespace lockctl
