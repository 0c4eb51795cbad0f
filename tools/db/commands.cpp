// `lockctl db ...`: wiring of the command line to tools/db/commands.h.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "tools/commands.h"
#include "tools/db/commands.h"
#include "tools/token/token_options.h"

namespace lockctl {

namespace {

struct InspectArgs {
  std::string file;
  std::string new_file;
  std::string trust;
  bool no_verify = false;
  bool json = false;
  std::vector<std::string> paths;
};

}  // namespace

void RegisterDbCommands(CLI::App& app, int& exit_code) {
  CLI::App* db = app.add_subcommand("db", "Build and inspect signed allowlist databases");
  db->require_subcommand(1);

  auto build = std::make_shared<DbBuildOptions>();
  CLI::App* b = db->add_subcommand("build", "Scan directories and write a signed database");
  b->add_option("--root", build->roots, "Directory to scan (repeatable)")->required();
  b->add_option("--exclude", build->excludes,
                "fnmatch pattern on the recorded path; '*' also matches '/' (repeatable)");
  auto one_fs_flag = std::make_shared<bool>(false);
  auto* one_fs =
      b->add_flag("--one-file-system", *one_fs_flag, "Do not cross mount points (the default)");
  auto* cross = b->add_flag("--cross-filesystems", build->cross_filesystems,
                            "Cross into other local filesystems below the roots");
  one_fs->excludes(cross);
  b->add_option("--strip-prefix", build->strip_prefix,
                "Remove this prefix from recorded paths (scanning an image mounted there)");
  auto* key = b->add_option("--key", build->key_path, "PKCS#8 PEM private key to sign with");
  AddTokenOptions(b, build->token);
  key->excludes(b->get_option("--token"));
  b->add_option("--out", build->out_path, "Database file to write (atomically)")->required();
  b->add_option("--generation", build->generation, "Generation number (anti-rollback)");
  b->add_option("--mode", build->mode, "Policy mode")->check(CLI::IsMember({"enforce", "audit"}));
  b->add_option("--watch", build->watch,
                "Enforce only on the filesystems of this absolute path and the mounts below it "
                "(repeatable; default: every local filesystem)");
  b->add_flag("--allow-user-namespaces", build->allow_user_namespaces,
              "Leave unprivileged user namespaces on (default: lockd turns them off while this "
              "policy is in force, and puts the value it found back when a policy allows them)");
  b->add_flag("--allow-user-writable-code", build->allow_user_writable_code,
              "Execute and load files that are not owned by root or a trusted owner, or that "
              "group or others may write (default: deny them, reason writable-by-user)");
  b->add_option("--trusted-owner", build->trusted_owners,
                "Numeric uid whose files count as owned by root (repeatable; names are not "
                "taken: they would be resolved on this machine, not the terminal)");
  b->add_option("--interpreter", build->interpreters,
                "Flag this file's content as an interpreter, whatever its name (a path under a "
                "--root; repeatable)");
  b->add_option("--threads", build->threads, "Hashing threads (default: all cores)");
  auto progress = std::make_shared<std::string>("auto");
  b->add_option("--progress", *progress,
                "Progress on stderr: auto (a live line on a terminal, else nothing), none, tty, "
                "json (one JSON object per line)")
      ->check(CLI::IsMember({"auto", "none", "tty", "json"}))
      ->capture_default_str();
  b->callback([&exit_code, build, progress] {
    build->progress = *ParseProgressMode(*progress, ::isatty(STDERR_FILENO) == 1);
    exit_code = RunDbBuild(*build, std::cout, std::cerr);
  });

  auto verify = std::make_shared<InspectArgs>();
  CLI::App* v = db->add_subcommand("verify", "Exit 0 only if FILE is valid and trusted");
  v->add_option("file", verify->file, "Database file")->required();
  v->add_option("--trust", verify->trust, "Directory of trusted public keys (*.pem)")->required();
  v->callback([&exit_code, verify] {
    exit_code = RunDbVerify(verify->file, verify->trust, std::cout, std::cerr);
  });

  for (const char* name : {"show", "list"}) {
    auto args = std::make_shared<InspectArgs>();
    const bool is_show = std::string(name) == "show";
    CLI::App* c = db->add_subcommand(name, is_show ? "Header, signer, counts per kind, policy"
                                                   : "Entries: digest, kind, size, path");
    c->add_option("file", args->file, "Database file")->required();
    auto* trust = c->add_option("--trust", args->trust, "Directory of trusted public keys");
    auto* no_verify =
        c->add_flag("--no-verify", args->no_verify, "Skip the signature check (prints a warning)");
    trust->excludes(no_verify);
    c->add_flag("--json", args->json, "JSON output");
    c->callback([&exit_code, args, is_show] {
      exit_code = is_show ? RunDbShow(args->file, args->trust, args->no_verify, args->json,
                                      std::cout, std::cerr)
                          : RunDbList(args->file, args->trust, args->no_verify, args->json,
                                      std::cout, std::cerr);
    });
  }

  auto lookup = std::make_shared<InspectArgs>();
  CLI::App* l = db->add_subcommand("lookup", "Is each file's content allowed, and as what");
  l->add_option("file", lookup->file, "Database file")->required();
  l->add_option("paths", lookup->paths, "Files to hash and look up")->required();
  l->add_option("--trust", lookup->trust, "Directory of trusted public keys")->required();
  l->callback([&exit_code, lookup] {
    exit_code = RunDbLookup(lookup->file, lookup->trust, lookup->paths, std::cout, std::cerr);
  });

  auto diff = std::make_shared<InspectArgs>();
  CLI::App* d = db->add_subcommand("diff", "Added, removed and changed paths from OLD to NEW");
  d->add_option("old", diff->file, "Old database")->required();
  d->add_option("new", diff->new_file, "New database")->required();
  d->add_option("--trust", diff->trust, "Directory of trusted public keys")->required();
  d->add_flag("--json", diff->json, "JSON output");
  d->callback([&exit_code, diff] {
    exit_code =
        RunDbDiff(diff->file, diff->new_file, diff->trust, diff->json, std::cout, std::cerr);
  });
}

}  // namespace lockctl
