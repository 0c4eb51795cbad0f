#pragma once
// lockctl command groups. Each Register* function adds its subcommands to the app; a handler
// stores the process exit status in exit_code (see ExitCode).

#include <CLI/CLI.hpp>

namespace lockctl {

enum ExitCode : int {
  kExitOk = 0,        // success, or a positive answer
  kExitNegative = 1,  // a negative answer: not allowed, does not verify
  kExitUsage = 2,     // usage or I/O error
};

void RegisterKeyCommands(CLI::App& app, int& exit_code);
void RegisterDbCommands(CLI::App& app, int& exit_code);
void RegisterTokenCommands(CLI::App& app, int& exit_code);
void RegisterDaemonCommands(CLI::App& app, int& exit_code);
void RegisterLogCommands(CLI::App& app, int& exit_code);
void RegisterDoctorCommands(CLI::App& app, int& exit_code);
void RegisterExportCommands(CLI::App& app, int& exit_code);
void RegisterMaintenanceCommands(CLI::App& app, int& exit_code);
void RegisterTrustCommands(CLI::App& app, int& exit_code);
void RegisterQuarantineCommands(CLI::App& app, int& exit_code);
void RegisterDbInstallCommand(CLI::App& app, int& exit_code);  // after RegisterDbCommands
void RegisterFleetCommands(CLI::App& app, int& exit_code);

}  // namespace lockctl
