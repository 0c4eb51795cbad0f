#pragma once
// `lockctl key` and `lockctl db`: the command implementations behind tools/commands.h, callable
// from tests with their own output streams. Each returns an ExitCode (0 ok, 1 a negative
// answer such as "does not verify" or "not allowed", 2 usage or I/O error); messages on err name
// the file and the reason.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/progress.h"
#include "tools/token/token_options.h"

namespace lockctl {

// Writes DIR/private.key (PKCS#8 PEM, mode 0600) and DIR/public.pem (mode 0644), creating DIR
// (mode 0700) if needed; never overwrites either file. type: "p256" or "ed25519".
int RunKeyGenerate(const std::string& dir, const std::string& type, std::ostream& out,
                   std::ostream& err);

struct DbBuildOptions {
  std::vector<std::string> roots;
  std::vector<std::string> excludes;
  bool cross_filesystems = false;
  std::string strip_prefix;
  std::string key_path;  // PKCS#8 PEM private key; or, exclusively:
  TokenOptions token;    // a token (--token SPEC): signs on the token, key never on disk
  std::string out_path;
  std::uint64_t generation = 1;
  std::string mode = "enforce";  // policy mode: enforce | audit
  // The signed policy's other settings (hashdb::Policy); each default is the strong one.
  std::vector<std::string> watch;             // --watch: empty = every local filesystem
  bool allow_user_namespaces = false;         // --allow-user-namespaces
  bool allow_user_writable_code = false;      // --allow-user-writable-code
  std::vector<std::uint32_t> trusted_owners;  // --trusted-owner UID (besides root)
  // --interpreter: recorded paths (after --strip-prefix) whose content is flagged as an
  // interpreter, besides every file named like one of the policy's interpreters.
  std::vector<std::string> interpreters;
  unsigned threads = 0;          // 0: all cores
  // Progress on err (tools/progress.h); the caller resolves --progress=auto (a TTY or not).
  ProgressMode progress = ProgressMode::kNone;
};
int RunDbBuild(const DbBuildOptions& options, std::ostream& out, std::ostream& err);

int RunDbVerify(const std::string& file, const std::string& trust_dir, std::ostream& out,
                std::ostream& err);

// trust_dir empty and no_verify: structural checks only, with a loud warning on err.
int RunDbShow(const std::string& file, const std::string& trust_dir, bool no_verify, bool json,
              std::ostream& out, std::ostream& err);
int RunDbList(const std::string& file, const std::string& trust_dir, bool no_verify, bool json,
              std::ostream& out, std::ostream& err);

// Hashes each file (following symlinks, as exec does) and looks its content up.
int RunDbLookup(const std::string& file, const std::string& trust_dir,
                const std::vector<std::string>& paths, std::ostream& out, std::ostream& err);

int RunDbDiff(const std::string& old_file, const std::string& new_file,
              const std::string& trust_dir, bool json, std::ostream& out, std::ostream& err);

}  // namespace lockctl
