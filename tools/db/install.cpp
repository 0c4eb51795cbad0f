#include "tools/db/install.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>

#include "hashdb/database.h"
#include "hashdb/trust_store.h"
#include "tools/commands.h"
#include "tools/maintenance/staging.h"
#include "tools/output.h"

namespace lockctl {

int RunDbInstall(const std::string& file, const TerminalOptions& terminal,
                 const TokenOptions& token_options, std::ostream& out, std::ostream& err) {
  const std::string who = "db install";
  auto fail = [&](const std::string& message, int code = kExitUsage) {
    err << "lockctl: " << who << ": " << message << "\n";
    return code;
  };
  auto config = LoadTerminalConfig(terminal);
  if (!config.ok()) return fail(config.error().message);
  auto trust = hashdb::TrustStore::LoadDirectory(config->trust_dir);
  if (!trust.ok()) return fail(trust.error().message);
  auto bytes = ReadWholeFile(file, kMaxInstallSize);
  if (!bytes.ok()) return fail(bytes.error().message);
  // Checked here so that a damaged or foreign file is refused before the engineer types a
  // passphrase; lockd checks it again (it is the one that decides).
  auto db = hashdb::Database::FromBytes(*bytes, file, *trust);
  if (!db.ok()) {
    return fail(
        "refused, not installed: " + db.error().message + " (trust dir " + config->trust_dir + ")",
        kExitNegative);
  }
  out << "database: " << file << ": generation " << (*db)->generation() << ", "
      << (*db)->record_count() << " paths, mode " << hashdb::ModeName((*db)->policy().mode)
      << ", signed by " << hashdb::ToHex((*db)->signer_key_id()) << "\n";
  if (auto st = EnsureStagingDir(config->state_dir); !st.ok()) return fail(st.error().message);
  const std::string staged = StagingPath(config->state_dir, kInstallStagingName);
  auto sha = StageBytes(staged, *bytes);
  if (!sha.ok()) return fail(sha.error().message);
  auto token = OpenTokenFromOptions(token_options);
  if (!token.ok()) {
    ::unlink(staged.c_str());
    return fail(token.error().message);
  }
  auto answer = SendAuthorized(config->control_socket, "db-install " + staged,
                               hashdb::Act::kDbInstall, *sha, **token);
  const int rc = ReportAnswer(answer, who, out, err);
  if (::unlink(staged.c_str()) != 0 && errno != ENOENT) {
    err << "lockctl: " << who << ": remove " << staged << ": " << std::strerror(errno) << "\n";
  }
  return rc;
}

void RegisterDbInstallCommand(CLI::App& app, int& exit_code) {
  struct Args {
    std::string file;
    TerminalOptions terminal;
    TokenOptions token;
  };
  auto args = std::make_shared<Args>();
  CLI::App* db = app.get_subcommand("db");
  CLI::App* i = db->add_subcommand(
      "install",
      "Install a database built and signed elsewhere (golden image), authorized by "
      "the token; lockd verifies and loads it, or keeps the one in force");
  i->add_option("file", args->file, "Database file (e.g. on the token stick)")->required();
  AddTerminalOptions(i, args->terminal);
  AddTokenOptions(i, args->token);
  i->callback([args, &exit_code] {
    exit_code = RunDbInstall(args->file, args->terminal, args->token, std::cout, std::cerr);
  });
}

}  // namespace lockctl
