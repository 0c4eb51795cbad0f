// `lockctl db build`: scan, classify, hash, sign, write atomically; progress and summary.
#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "hashdb/atomic_file.h"
#include "hashdb/database.h"
#include "hashdb/keys.h"
#include "hashdb/scanner.h"
#include "hashdb/trust_store.h"
#include "hashdb/writer.h"
#include "tools/commands.h"
#include "tools/db/build.h"
#include "tools/db/commands.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/token/token_options.h"

namespace lockctl {

namespace {

// Skipped paths printed in the summary; the rest are counted.
constexpr std::size_t kSkippedShown = 50;

}  // namespace

void PrintScanSummary(const hashdb::ScanResult& scan, std::ostream& out) {
  const hashdb::ScanReport& r = scan.report;
  std::array<std::uint64_t, 5> per_kind{};
  for (const hashdb::FileEntry& e : scan.entries) ++per_kind[static_cast<std::size_t>(e.kind)];
  char rate[160];
  std::snprintf(rate, sizeof(rate), "%.2f s on %u threads: %s/s, %.0f files/s", r.seconds,
                r.threads, HumanBytes(r.BytesPerSecond()).c_str(), r.FilesPerSecond());
  out << "scan:     " << rate << "\n"
      << "recorded: " << r.files_recorded << " files, "
      << HumanBytes(static_cast<double>(r.bytes_hashed)) << " (";
  for (std::uint8_t k = 1; k <= 4; ++k) {
    out << (k > 1 ? ", " : "") << hashdb::KindName(static_cast<hashdb::Kind>(k)) << " "
        << per_kind[k];
  }
  out << ")\n"
      << "examined: " << r.files_examined << " regular files in " << r.directories
      << " directories; " << r.not_code << " not code, " << r.not_regular
      << " symlinks/devices/FIFOs/sockets not opened, " << r.excluded << " excluded, " << r.retries
      << " re-hashed after a change\n"
      << "skipped:  " << r.skipped_total;
  if (r.skipped_total > 0) {
    out << " (";
    bool first = true;
    for (std::size_t i = 0; i < hashdb::kSkipReasonCount; ++i) {
      if (r.skipped_by_reason[i] == 0) continue;
      out << (first ? "" : ", ") << hashdb::SkipReasonName(static_cast<hashdb::SkipReason>(i))
          << " " << r.skipped_by_reason[i];
      first = false;
    }
    out << ")";
  }
  out << "\n";
  for (std::size_t i = 0; i < r.skipped.size() && i < kSkippedShown; ++i) {
    const hashdb::SkippedPath& s = r.skipped[i];
    out << "  " << hashdb::SkipReasonName(s.reason) << " " << EscapeText(s.path)
        << (s.detail.empty() ? "" : ": " + EscapeText(s.detail)) << "\n";
  }
  if (r.skipped_total > kSkippedShown) {
    out << "  ... and " << (r.skipped_total - kSkippedShown) << " more\n";
  }
}

int RunDbBuild(const DbBuildOptions& options, std::ostream& out, std::ostream& err) {
  const std::string who = "lockctl db build";
  hashdb::Policy policy;
  if (options.mode == "enforce") {
    policy.mode = hashdb::Mode::kEnforce;
  } else if (options.mode == "audit") {
    policy.mode = hashdb::Mode::kAudit;
  } else {
    err << who << ": --mode must be enforce or audit, not '" << options.mode << "'\n";
    return kExitUsage;
  }
  policy.watch = options.watch;
  policy.restrict_user_namespaces = !options.allow_user_namespaces;
  policy.deny_user_writable = !options.allow_user_writable_code;
  policy.trusted_owners = options.trusted_owners;
  std::sort(policy.trusted_owners.begin(), policy.trusted_owners.end());
  policy.trusted_owners.erase(
      std::unique(policy.trusted_owners.begin(), policy.trusted_owners.end()),
      policy.trusted_owners.end());
  if (auto valid = hashdb::ValidatePolicy(policy); !valid.ok()) {
    err << who << ": " << valid.error().message << "\n";
    return kExitUsage;
  }
  // --interpreter names a file the scan will record: as given, less --strip-prefix.
  std::set<std::string> interpreter_paths;
  for (const std::string& path : options.interpreters) {
    std::string recorded = path;
    if (!options.strip_prefix.empty() && recorded.rfind(options.strip_prefix + "/", 0) == 0) {
      recorded = recorded.substr(options.strip_prefix.size());
    }
    if (!hashdb::IsCanonicalAbsolutePath(recorded)) {
      err << who << ": --interpreter " << EscapeText(path)
          << ": expected an absolute path without '.', '..' or empty components\n";
      return kExitUsage;
    }
    interpreter_paths.insert(recorded);
  }
  if (options.generation == 0) {
    err << who << ": --generation must be at least 1\n";
    return kExitUsage;
  }
  if (options.key_path.empty() == options.token.token.empty()) {
    err << who << ": sign with exactly one of --key FILE or --token SPEC\n";
    return kExitUsage;
  }
  // Open the key or token before the (long) scan so that a wrong path or passphrase fails at
  // once.
  std::unique_ptr<hashdb::Signer> key;
  std::string signer_name = options.key_path;
  if (!options.key_path.empty()) {
    auto pem = hashdb::PrivateKey::FromPemFile(options.key_path);
    if (!pem.ok()) {
      err << who << ": " << pem.error().message << "\n";
      return kExitUsage;
    }
    key = std::move(*pem);
  } else {
    auto token = OpenTokenFromOptions(options.token);
    if (!token.ok()) {
      err << who << ": " << token.error().message << "\n";
      return kExitUsage;
    }
    signer_name = (*token)->Describe();
    key = std::move(*token);
  }

  hashdb::ScanOptions scan_options;
  scan_options.roots = options.roots;
  scan_options.excludes = options.excludes;
  scan_options.one_file_system = !options.cross_filesystems;
  scan_options.strip_prefix = options.strip_prefix;
  scan_options.threads = options.threads;
  StreamProgressReporter reporter(options.progress, "db-build", err);
  if (options.progress != ProgressMode::kNone) {
    scan_options.reporter = &reporter;
    scan_options.count_first = true;
  }
  auto scan = hashdb::Scan(scan_options);
  if (!scan.ok()) {
    err << who << ": " << scan.error().message << "\n";
    return kExitUsage;
  }
  PrintScanSummary(*scan, out);

  std::size_t flagged_by_hand = 0;
  for (hashdb::FileEntry& e : scan->entries) {
    if (interpreter_paths.erase(e.path) > 0) {
      e.interpreter = true;
      ++flagged_by_hand;
    }
  }
  if (!interpreter_paths.empty()) {
    err << who << ": --interpreter " << EscapeText(*interpreter_paths.begin())
        << ": not recorded by the scan (not a regular code file under a --root, excluded, or "
           "a symbolic link: name the file it points to)\n";
    return kExitUsage;
  }

  hashdb::DatabaseContents contents;
  contents.generation = options.generation;
  contents.policy = policy;
  contents.entries = std::move(scan->entries);
  auto bytes = hashdb::BuildDatabase(contents, *key);
  if (!bytes.ok()) {
    err << who << ": " << options.out_path << ": " << bytes.error().message << "\n";
    return kExitUsage;
  }
  // Read back what we are about to write, with the reader lockd uses, before it replaces
  // anything.
  auto trust = hashdb::TrustStore::FromKeys({key->public_key()}, signer_name);
  auto check = hashdb::Database::FromBytes(*bytes, options.out_path, trust);
  if (!check.ok()) {
    err << who << ": built database does not read back: " << check.error().message << "\n";
    return kExitUsage;
  }
  if (auto s = hashdb::WriteFileAtomically(options.out_path, *bytes, 0644); !s.ok()) {
    err << who << ": " << s.error().message << "\n";
    return kExitUsage;
  }
  std::uint32_t interpreter_digests = 0;
  for (std::uint32_t i = 0; i < (*check)->digest_count(); ++i) {
    if ((*check)->InterpreterAt(i)) ++interpreter_digests;
  }
  out << "flagged:  " << interpreter_digests
      << " distinct contents as interpreters (files named like one of the policy's "
         "interpreters, and "
      << flagged_by_hand << " file(s) by --interpreter)\n";
  out << "wrote:    " << options.out_path << ": generation " << options.generation << ", "
      << (*check)->record_count() << " paths, " << (*check)->digest_count() << " distinct digests, "
      << HumanBytes(static_cast<double>(bytes->size())) << ", mode "
      << hashdb::ModeName(policy.mode) << ", signed by " << hashdb::ToHex(key->public_key().id())
      << " (" << hashdb::AlgorithmName(key->public_key().algorithm()) << ")"
      << (options.token.token.empty() ? "" : " on " + signer_name) << "\n";
  return kExitOk;
}

}  // namespace lockctl
