// lockctl maintenance finish: rescan, diff, confirm, build generation + 1, sign with the token,
// stage, have lockd verify and install it. Steps and what a crash at each leaves: see
// tools/maintenance/staging.h (the database in force is only ever replaced by lockd).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "hashdb/database.h"
#include "hashdb/diff.h"
#include "hashdb/small_file.h"
#include "hashdb/trust_store.h"
#include "hashdb/writer.h"
#include "tools/commands.h"
#include "tools/db/build.h"
#include "tools/maintenance/commands.h"
#include "tools/maintenance/diff.h"
#include "tools/maintenance/rescan.h"
#include "tools/maintenance/staging.h"
#include "tools/maintenance/status.h"
#include "tools/maintenance/stop_point.h"
#include "tools/output.h"

namespace lockctl {

namespace {

constexpr char kWho[] = "maintenance finish";
// Learned-list notes printed; the rest are counted.
constexpr std::size_t kNotesShown = 20;
constexpr std::size_t kMaxLearnedList = 256u << 20;

int Fail(const std::string& message, std::ostream& err, int code = kExitUsage) {
  err << "lockctl: " << kWho << ": " << message << "\n";
  return code;
}

}  // namespace

int RunMaintenanceFinish(const FinishOptions& o, std::istream& in, bool in_is_terminal,
                         std::ostream& out, std::ostream& err) {
  if (!o.yes && !in_is_terminal) {
    return Fail("no terminal to confirm on: give --yes to install without asking", err);
  }
  auto config = LoadTerminalConfig(o.terminal);
  if (!config.ok()) return Fail(config.error().message, err);
  const std::string& socket = config->control_socket;

  // 1. Is a window open, and what does lockd say to rescan?
  auto answer = AskControl(socket, "maintenance-status --json");
  if (!answer.ok() || !answer->ok()) return ReportAnswer(answer, kWho, out, err);
  auto status = ParseMaintenanceStatus(answer->body, socket + " maintenance-status");
  if (!status.ok()) return Fail(status.error().message, err);
  if (!status->active()) {
    return Fail("no maintenance window is open (state \"" + status->state +
                    "\"): nothing to finish; `lockctl maintenance start` opens one",
                err, kExitNegative);
  }
  const std::string db_path =
      status->database_path.empty() ? config->database : status->database_path;
  auto trust = hashdb::TrustStore::LoadDirectory(config->trust_dir);
  if (!trust.ok()) return Fail(trust.error().message, err);
  auto current = hashdb::Database::Open(db_path, *trust);
  if (!current.ok()) return Fail("database in force: " + current.error().message, err);
  if (status->generation != 0 && status->generation != (*current)->generation()) {
    return Fail(db_path + " holds generation " + std::to_string((*current)->generation()) +
                    " but lockd has generation " + std::to_string(status->generation) +
                    " in force: run `lockctl reload` or check the file",
                err);
  }
  std::vector<LearnedFile> learned;
  if (!status->learned_list.empty()) {
    auto text = hashdb::ReadSmallFile(status->learned_list, kMaxLearnedList);
    if (!text.ok()) return Fail(text.error().message, err);
    auto parsed = ParseLearnedList(*text, status->learned_list);
    if (!parsed.ok()) return Fail(parsed.error().message, err);
    learned = std::move(*parsed);
  }
  if (!o.updater_only && status->baseline_roots.empty()) {
    return Fail("lockd reports no baseline roots (lockd.toml baseline_roots): nothing to rescan",
                err);
  }

  // 2. The token, before the long scan: a wrong passphrase or an untrusted key fails at once.
  auto token = OpenTokenFromOptions(o.token);
  if (!token.ok()) return Fail(token.error().message, err);
  if (trust->Find((*token)->public_key().id()) == nullptr) {
    return Fail((*token)->Describe() + ": key " + hashdb::ToHex((*token)->public_key().id()) +
                    " is not a trust anchor in " + config->trust_dir +
                    ": lockd would refuse a database it signs",
                err, kExitNegative);
  }
  out << "session:  " << status->session << " (" << status->learned_count << " file(s) learned, "
      << status->not_learned_count << " written or run by processes outside the session)\n"
      << "in force: " << db_path << ", generation " << (*current)->generation() << ", "
      << (*current)->record_count() << " paths, mode "
      << hashdb::ModeName((*current)->policy().mode) << "\n";

  // 3. Rescan.
  RescanOptions rescan_options;
  rescan_options.roots = status->baseline_roots;
  rescan_options.excludes = status->baseline_excludes;
  rescan_options.learned = std::move(learned);
  rescan_options.updater_only = o.updater_only;
  rescan_options.learned_complete = status->learned_dropped == 0;
  if (status->learned_dropped != 0) {
    out << "warning:  lockd could not record " << status->learned_dropped
        << " event(s) of this window (queue full): only files whose exact content the session "
           "wrote or ran are learned\n";
  }
  rescan_options.threads = o.threads;
  StreamProgressReporter reporter(o.progress, "maintenance-rescan", err);
  if (o.progress != ProgressMode::kNone) rescan_options.reporter = &reporter;
  const std::vector<hashdb::FileEntry> before = hashdb::EntriesOf(**current);
  auto rescan = Rescan(rescan_options, before);
  if (!rescan.ok()) return Fail(rescan.error().message, err);
  if (rescan->scan) {
    PrintScanSummary(*rescan->scan, out);
  } else {
    out << "updater only: no rescan of the roots; the current entries plus the updater's files\n";
  }
  out << "learned:  " << rescan->learned_added
      << (o.updater_only ? " file(s) written by the trusted updater taken"
                         : " file(s) outside the scan taken from the window's list");
  if (!rescan->notes.empty()) out << ", " << rescan->notes.size() << " not taken";
  if (!rescan->not_learned.empty()) {
    out << ", " << rescan->not_learned.size() << " NOT learned (listed below the diff)";
  }
  out << "\n";
  for (std::size_t i = 0; i < rescan->notes.size() && i < kNotesShown; ++i) {
    out << "  " << rescan->notes[i] << "\n";
  }
  if (rescan->notes.size() > kNotesShown) {
    out << "  ... and " << (rescan->notes.size() - kNotesShown) << " more\n";
  }
  StopPoint("scanned");
  if (rescan->entries.empty()) {
    return Fail("the new database would allow nothing: refusing (check the baseline roots)", err,
                kExitNegative);
  }

  // 4. The diff, and the engineer's confirmation.
  const hashdb::DatabaseDiff diff = hashdb::DiffEntries(before, rescan->entries);
  out << RenderDiff(diff, o.full ? 0 : kDiffLinesShown, &*rescan);
  const std::uint64_t generation = (*current)->generation() + 1;
  const std::string mode(hashdb::ModeName((*current)->policy().mode));
  if (!o.yes) {
    out << "Sign generation " << generation << " (" << rescan->entries.size() << " paths) with "
        << (*token)->Describe() << ", install it and return to " << mode << "? [yes/no] "
        << std::flush;
    std::string reply;
    std::getline(in, reply);
    if (!IsYes(reply)) {
      out << "not confirmed: nothing installed; the window stays open (finish again, or "
             "`lockctl maintenance abort`)\n";
      return kExitNegative;
    }
  }

  // 5. Build and sign generation + 1 with the same policy; read it back as lockd will.
  hashdb::DatabaseContents contents;
  contents.generation = generation;
  contents.policy = (*current)->policy();
  contents.entries = std::move(rescan->entries);
  // What was an interpreter stays one (by content, and at a path flagged by hand).
  hashdb::CarryInterpreterFlags(**current, contents.entries);
  auto bytes = hashdb::BuildDatabase(contents, **token);
  if (!bytes.ok()) return Fail(bytes.error().message, err);
  const std::string staged = StagingPath(config->state_dir, kMaintenanceStagingName);
  auto check = hashdb::Database::FromBytes(*bytes, staged, *trust);
  if (!check.ok()) return Fail("built database does not read back: " + check.error().message, err);
  StopPoint("built");

  // 6. Stage it where only root can write, then have lockd take it.
  if (auto st = EnsureStagingDir(config->state_dir); !st.ok()) return Fail(st.error().message, err);
  auto sha = StageBytes(staged, *bytes);
  if (!sha.ok()) return Fail(sha.error().message, err);
  out << "staged:   " << staged << " (generation " << generation << ", sha256 " << *sha << ")\n";
  StopPoint("staged");
  auto result =
      SendAuthorized(socket, "maintenance-finish " + staged, hashdb::Act::kMaintenanceFinish, *sha,
                     **token, [] { StopPoint("challenged"); });
  StopPoint("sent");
  const int rc = ReportAnswer(result, kWho, out, err);
  // lockd has its own copy now (or refused it): the staged file is of no further use.
  if (::unlink(staged.c_str()) != 0 && errno != ENOENT) {
    err << "lockctl: " << kWho << ": remove " << staged << ": " << std::strerror(errno) << "\n";
  }
  if (rc == kExitOk) {
    out << "finished: generation " << generation << " installed, back to " << mode << "\n";
  } else if (rc == kExitNegative) {
    err << "lockctl: " << kWho << ": nothing installed; the database in force is unchanged\n";
  }
  return rc;
}

}  // namespace lockctl
