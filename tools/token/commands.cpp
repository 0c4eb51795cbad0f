// lockctl token create|show|check|sign|find|rekey: making and using the field engineer's token.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "hashdb/authorization.h"
#include "hashdb/digest.h"
#include "hashdb/small_file.h"
#include "hashdb/trust_store.h"
#include "hashdb/unique_fd.h"
#include "tools/commands.h"
#include "tools/token/file_token.h"
#include "tools/token/passphrase_policy.h"
#include "tools/token/secret.h"
#include "tools/token/token_finder.h"
#include "tools/token/token_options.h"

namespace lockctl {

namespace {

using hashdb::Result;

int Fail(const hashdb::Error& e) {
  std::cerr << "lockctl: " << e.message << "\n";
  return kExitUsage;
}

// path "-" reads standard input.
Result<std::string> ReadFileText(const std::string& path, std::size_t limit) {
  if (path != "-") return hashdb::ReadSmallFile(path, limit);
  return hashdb::ReadSmallFd(0, "standard input", limit);
}

hashdb::Status WriteText(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    return {};
  }
  hashdb::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return hashdb::ErrnoError("create " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd.get()) != 0) {
    return hashdb::ErrnoError("write " + path);
  }
  return {};
}

// The "key protection:" line of a file token: the KDF and its cost, and WEAK when an offline
// guess costs less than it does for the keys lockctl makes today.
void PrintProtection(const hashdb::KeyProtection& p) {
  std::cout << "key protection: " << p.Describe()
            << (p.Weak() ? " -- WEAK: run lockctl token rekey" : "") << "\n";
}

void PrintInfo(const Token& token) {
  const auto& i = token.info();
  std::cout << "token:        " << token.Describe() << "\n"
            << "token id:     " << i.token_id << "\n"
            << "holder:       " << i.holder << "\n"
            << "organisation: " << i.organisation << "\n"
            << "not after:    " << (i.not_after.empty() ? "(none)" : i.not_after) << "\n"
            << "key id:       " << hashdb::ToHex(token.public_key().id()) << " ("
            << hashdb::AlgorithmName(token.public_key().algorithm()) << ")\n";
  if (const auto* file = dynamic_cast<const FileToken*>(&token)) {
    PrintProtection(file->key_protection());
  }
}

struct CreateOptions {
  std::string out, holder, org, not_after, type = "p256", public_out;
  int passphrase_fd = -1;
};

int Create(const CreateOptions& o) {
  const auto& [out, holder, org, not_after, type, public_out, passphrase_fd] = o;
  if (!hashdb::EndOfDayUtc(not_after)) {
    std::cerr << "lockctl: --not-after \"" << not_after << "\" is not a date YYYY-MM-DD\n";
    return kExitUsage;
  }
  const auto algorithm = type == "ed25519" ? hashdb::SignatureAlgorithm::kEd25519
                                           : hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  auto passphrase = ReadSecret(SecretSource{passphrase_fd, ""},
                               "New passphrase for the token (at least " +
                                   std::to_string(kMinPassphraseChars) + " characters): ",
                               true);
  if (!passphrase.ok()) return Fail(passphrase.error());
  auto d = FileToken::Create(out, hashdb::TokenInfo{"", holder, org, not_after}, algorithm,
                             passphrase->value());
  if (!d.ok()) return Fail(d.error().Wrap("token create " + out));
  const std::string public_pem = out + "/" + std::string(kPublicKeyFile);
  if (!public_out.empty()) {
    auto pem = ReadFileText(public_pem, 64 * 1024);
    if (!pem.ok()) return Fail(pem.error());
    if (auto st = WriteText(public_out, *pem); !st.ok()) return Fail(st.error());
  }
  std::cout << "created token " << d->info.token_id << " in " << out << "\n"
            << "holder:     " << d->info.holder << " (" << d->info.organisation << ")\n"
            << "not after:  " << d->info.not_after << "\n"
            << "key id:     " << hashdb::ToHex(d->key_id) << " ("
            << hashdb::AlgorithmName(d->key_type) << ")\n"
            << "public key: " << (public_out.empty() ? public_pem : public_out)
            << " (install it in the terminal's trust dir, e.g. /etc/lockd/trust/)\n";
  return kExitOk;
}

int Show(const TokenOptions& o) {
  if (o.token.rfind("pkcs11:", 0) != 0) {
    // A file token's descriptor is readable without the passphrase.
    auto folder = ResolveTokenFolder(o.token, DefaultTokenSearch());
    if (!folder.ok()) return Fail(folder.error());
    auto d = FileToken::ReadDescriptor(*folder);
    if (!d.ok()) return Fail(d.error());
    std::cout << "token:        file token " << *folder << "\n"
              << "token id:     " << d->info.token_id << "\n"
              << "holder:       " << d->info.holder << "\n"
              << "organisation: " << d->info.organisation << "\n"
              << "not after:    " << d->info.not_after << "\n"
              << "key id:       " << hashdb::ToHex(d->key_id) << " ("
              << hashdb::AlgorithmName(d->key_type) << ")\n";
    auto protection = FileToken::ReadKeyProtection(*folder);
    if (!protection.ok()) return Fail(protection.error());
    PrintProtection(*protection);
    return kExitOk;
  }
  auto token = OpenTokenFromOptions(o);
  if (!token.ok()) return Fail(token.error());
  PrintInfo(**token);
  return kExitOk;
}

// Opens the token, signs a test message and verifies it; with a trust dir, also says whether
// the terminal trusts the token's key. Exit 1 if the token works but is not trusted or expired.
int Check(const TokenOptions& o, const std::string& trust_dir) {
  auto token = OpenTokenFromOptions(o);
  if (!token.ok()) return Fail(token.error());
  PrintInfo(**token);
  static constexpr std::string_view kProbe = "lockd token self-test";
  auto sig = (*token)->Sign({reinterpret_cast<const std::uint8_t*>(kProbe.data()), kProbe.size()});
  if (!sig.ok()) return Fail(sig.error());
  if (!(*token)->public_key().Verify(
          {reinterpret_cast<const std::uint8_t*>(kProbe.data()), kProbe.size()}, *sig)) {
    std::cerr << "lockctl: " << (*token)->Describe() << ": test signature does not verify\n";
    return kExitNegative;
  }
  std::cout << "signing:      ok\n";
  int rc = kExitOk;
  const auto& not_after = (*token)->info().not_after;
  if (!not_after.empty() && ::time(nullptr) >= *hashdb::EndOfDayUtc(not_after)) {
    std::cout << "validity:     EXPIRED (not after " << not_after << ")\n";
    rc = kExitNegative;
  }
  if (!trust_dir.empty()) {
    auto trust = hashdb::TrustStore::LoadDirectory(trust_dir);
    if (!trust.ok()) return Fail(trust.error());
    bool trusted = trust->Find((*token)->public_key().id()) != nullptr;
    std::cout << "trusted by:   " << trust_dir << ": " << (trusted ? "yes" : "NO") << "\n";
    if (!trusted) rc = kExitNegative;
  }
  return rc;
}

int Sign(const TokenOptions& o, const std::string& challenge_path, const std::string& out) {
  auto text = ReadFileText(challenge_path, hashdb::kMaxAuthorizationText);
  if (!text.ok()) return Fail(text.error());
  // Parse before asking for the passphrase: a bad file is reported without a prompt.
  auto challenge = hashdb::ParseChallenge(*text, challenge_path);
  if (!challenge.ok()) return Fail(challenge.error());
  auto token = OpenTokenFromOptions(o);
  if (!token.ok()) return Fail(token.error());
  auto authorization = AuthorizeChallengeText(*text, challenge_path, **token);
  if (!authorization.ok()) return Fail(authorization.error());
  if (auto st = WriteText(out, *authorization); !st.ok()) return Fail(st.error());
  std::cerr << "signed " << hashdb::ActName(challenge->act) << " for terminal "
            << challenge->terminal_id << " with " << (*token)->Describe() << "\n";
  return kExitOk;
}

struct RekeyOptions {
  std::string folder;
  int passphrase_fd = -1;
  int new_passphrase_fd = -1;
};

// Re-encrypts a file token's key under a new passphrase with today's scrypt cost.
int Rekey(const RekeyOptions& o) {
  if (o.folder.rfind("pkcs11:", 0) == 0) {
    std::cerr << "lockctl: token rekey: only file tokens have a key file to re-encrypt; a "
                 "PKCS#11 token's PIN is changed with the card's own tools\n";
    return kExitUsage;
  }
  auto folder = ResolveTokenFolder(o.folder, DefaultTokenSearch());
  if (!folder.ok()) return Fail(folder.error());
  auto protection = FileToken::Rekey(*folder, SecretSource{o.passphrase_fd, ""},
                                     SecretSource{o.new_passphrase_fd, ""});
  if (!protection.ok()) return Fail(protection.error().Wrap("token rekey " + *folder));
  std::cout << "re-encrypted " << *folder << "/" << kPrivateKeyFile << "\n";
  PrintProtection(*protection);
  return kExitOk;
}

int Find() {
  auto found = FindTokenFolders(DefaultTokenSearch());
  if (!found.ok()) return Fail(found.error());
  for (const auto& f : *found) std::cout << f << "\n";
  return found->empty() ? kExitNegative : kExitOk;
}

}  // namespace

void RegisterTokenCommands(CLI::App& app, int& exit_code) {
  CLI::App* token = app.add_subcommand("token", "create and use field-engineer tokens");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "create a file token (a LOCKD-TOKEN folder)");
  auto c = std::make_shared<CreateOptions>();
  create->add_option("--out", c->out, "token folder to create, e.g. /media/usb/LOCKD-TOKEN")
      ->required();
  create->add_option("--holder", c->holder, "name of the person the token is issued to")
      ->required();
  create->add_option("--org", c->org, "organisation of the holder")->required();
  create->add_option("--not-after", c->not_after, "last day the token is valid, YYYY-MM-DD")
      ->required();
  create->add_option("--type", c->type, "key type")->check(CLI::IsMember({"p256", "ed25519"}));
  create
      ->add_option("--passphrase-fd", c->passphrase_fd,
                   "read the new passphrase from this file descriptor (default: prompt twice)")
      ->check(CLI::NonNegativeNumber);
  create->add_option("--public-out", c->public_out,
                     "also write the public key PEM here (for the terminal's trust dir)");
  create->callback([c, &exit_code] { exit_code = Create(*c); });

  auto show_opts = std::make_shared<TokenOptions>();
  auto* show = token->add_subcommand("show", "show who a token belongs to and its key id");
  AddTokenOptions(show, *show_opts);
  show->callback([show_opts, &exit_code] { exit_code = Show(*show_opts); });

  auto check_opts = std::make_shared<TokenOptions>();
  auto check_trust = std::make_shared<std::string>();
  auto* check = token->add_subcommand("check", "unlock the token and test that it can sign");
  AddTokenOptions(check, *check_opts);
  check->add_option("--trust", *check_trust, "also check the key is a trust anchor in this dir");
  check->callback(
      [check_opts, check_trust, &exit_code] { exit_code = Check(*check_opts, *check_trust); });

  auto sign_opts = std::make_shared<TokenOptions>();
  auto sign_files = std::make_shared<std::pair<std::string, std::string>>();
  auto* sign = token->add_subcommand("sign", "sign a challenge file, writing an authorization");
  AddTokenOptions(sign, *sign_opts);
  sign->add_option("--challenge", sign_files->first, "challenge file from lockd ('-': stdin)")
      ->required();
  sign->add_option("--out", sign_files->second, "authorization file (default: stdout)");
  sign->callback([sign_opts, sign_files, &exit_code] {
    exit_code = Sign(*sign_opts, sign_files->first, sign_files->second);
  });

  auto r = std::make_shared<RekeyOptions>();
  auto* rekey = token->add_subcommand(
      "rekey", "re-encrypt a file token's key under a new passphrase (scrypt, today's cost)");
  rekey->add_option("folder", r->folder, "the token folder (LOCKD-TOKEN) or the stick holding it")
      ->required();
  rekey
      ->add_option("--passphrase-fd", r->passphrase_fd,
                   "read the current passphrase from this file descriptor (default: prompt)")
      ->check(CLI::NonNegativeNumber);
  rekey
      ->add_option("--new-passphrase-fd", r->new_passphrase_fd,
                   "read the new passphrase from this file descriptor, after the current one "
                   "when it is the same descriptor (default: prompt twice)")
      ->check(CLI::NonNegativeNumber);
  rekey->callback([r, &exit_code] { exit_code = Rekey(*r); });

  auto* find = token->add_subcommand("find", "list token folders on removable media");
  find->callback([&exit_code] { exit_code = Find(); });
}

}  // namespace lockctl
