// lockd: the enforcing daemon. This file only reads the command line; the process becomes the
// supervisor (lockd/supervisor.h), which forks the decider that runs lockd/daemon.cpp.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "hashdb/version.h"
#include "lockd/config.h"
#include "lockd/daemon.h"
#include "lockd/supervisor.h"

namespace {

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: lockd [--config FILE] [--version]\n"
               "  --config FILE  configuration (default %s)\n"
               "  --version      print the version and exit\n",
               lockd::kDefaultConfigPath);
}

}  // namespace

int main(int argc, char** argv) {
  lockd::SupervisorOptions supervisor;
  lockd::DaemonOptions& options = supervisor.daemon;
  options.config_path = lockd::kDefaultConfigPath;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--version") {
      std::printf("lockd %s\n", hashdb::kLockdVersion);
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      Usage(stdout);
      return 0;
    }
    if (arg == "--config" && i + 1 < argc) {
      options.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      options.config_path = arg.substr(std::strlen("--config="));
    } else {
      std::fprintf(stderr, "lockd: unknown argument '%s'\n", arg.c_str());
      Usage(stderr);
      return 2;
    }
  }
  // The writer probe (os/file_probe.h) holds a read lease for a moment; a writer opening the
  // file in that moment breaks it, and the kernel then sends SIGIO to the lease holder, whose
  // default action ends the process. Ignored here, before the decider is forked (it inherits
  // the disposition): a user racing opens against lockd's probe must not kill the decider.
  ::signal(SIGIO, SIG_IGN);
  return lockd::RunSupervised(std::move(supervisor));
}
