// lockctl: the command-line tool for admins, field engineers and auditors.
#include <CLI/CLI.hpp>
#include <iostream>

#include "hashdb/version.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lockctl: manage the lockd application allowlist"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("lockctl ") + hashdb::kLockdVersion);
  int exit_code = lockctl::kExitOk;
  lockctl::RegisterKeyCommands(app, exit_code);
  lockctl::RegisterDbCommands(app, exit_code);
  lockctl::RegisterTokenCommands(app, exit_code);
  lockctl::RegisterDaemonCommands(app, exit_code);
  lockctl::RegisterLogCommands(app, exit_code);
  lockctl::RegisterDoctorCommands(app, exit_code);
  lockctl::RegisterExportCommands(app, exit_code);
  lockctl::RegisterMaintenanceCommands(app, exit_code);
  lockctl::RegisterTrustCommands(app, exit_code);
  lockctl::RegisterQuarantineCommands(app, exit_code);
  lockctl::RegisterDbInstallCommand(app, exit_code);
  lockctl::RegisterFleetCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return lockctl::kExitUsage;
  }
  return exit_code;
}
