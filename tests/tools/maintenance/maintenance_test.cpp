// lockctl maintenance pieces that do not need the daemon: control replies and requests, the
// diff as shown, staging paths and files, lockd's status and learned list, single-file entries,
// the rescan (full and updater-only), key ids, confirmation.
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "doctest/doctest.h"
#include "hashdb/sha256.h"
#include "tests/support/db_fixture.h"
#include "tools/commands.h"
#include "tools/control_client.h"
#include "tools/maintenance/commands.h"
#include "tools/maintenance/diff.h"
#include "tools/maintenance/rescan.h"
#include "tools/maintenance/staging.h"
#include "tools/maintenance/status.h"
#include "tools/trust/commands.h"

namespace {

using testsupport::EntryFor;

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("control replies: ok, refused, error, anything else") {
  auto ok = lockctl::ParseControlAnswer("ok\nline 1\nline 2\n", "s");
  REQUIRE(ok.ok());
  CHECK(ok->ok());
  CHECK(ok->body == "line 1\nline 2\n");
  auto refused =
      lockctl::ParseControlAnswer("refused\nauthorization refused: replay: nonce ab\n", "s");
  REQUIRE(refused.ok());
  CHECK(refused->code == lockctl::ControlAnswer::Code::kRefused);
  CHECK(refused->body == "authorization refused: replay: nonce ab\n");
  auto denied = lockctl::ParseControlAnswer("error: permission denied\n", "s");
  REQUIRE(denied.ok());
  CHECK(denied->code == lockctl::ControlAnswer::Code::kError);
  CHECK(denied->body == "permission denied\n");
  auto bare = lockctl::ParseControlAnswer("ok", "s");
  REQUIRE(bare.ok());
  CHECK(bare->body.empty());
  auto junk = lockctl::ParseControlAnswer("HTTP/1.1 200 OK\r\n", "/run/x.sock");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.error().message.find("/run/x.sock: unexpected reply from lockd") == 0);
  CHECK_FALSE(lockctl::ParseControlAnswer("", "s").ok());
}

TEST_CASE("control requests: command, body, challenge") {
  CHECK(lockctl::ComposeRequest("maintenance-abort", "") == "maintenance-abort");
  CHECK(lockctl::ComposeRequest("db-install /s/x", "lockd-authorization-v1\nnonce: 1\n\n") ==
        "db-install /s/x\nlockd-authorization-v1\nnonce: 1");
  CHECK(lockctl::ChallengeRequest(hashdb::Act::kMaintenanceStart, "30") ==
        "challenge maintenance_start 30");
  CHECK(lockctl::ChallengeRequest(hashdb::Act::kMaintenanceAbort, "") ==
        "challenge maintenance_abort");
  CHECK(lockctl::ChallengeRequest(hashdb::Act::kDbInstall, std::string(64, 'a')) ==
        "challenge db_install " + std::string(64, 'a'));
}

TEST_CASE("answers map to exit codes and name lockd's reason") {
  std::ostringstream out, err;
  hashdb::Result<lockctl::ControlAnswer> refused =
      lockctl::ControlAnswer{lockctl::ControlAnswer::Code::kRefused, "authorization refused: x"};
  CHECK(lockctl::ReportAnswer(refused, "trust retire", out, err) == lockctl::kExitNegative);
  CHECK(err.str() == "lockctl: trust retire: refused by lockd: authorization refused: x\n");
  CHECK(out.str().empty());
  err.str("");
  hashdb::Result<lockctl::ControlAnswer> error =
      lockctl::ControlAnswer{lockctl::ControlAnswer::Code::kError, "bad request\n"};
  CHECK(lockctl::ReportAnswer(error, "w", out, err) == lockctl::kExitUsage);
  CHECK(err.str() == "lockctl: w: error from lockd: bad request\n");
  hashdb::Result<lockctl::ControlAnswer> ok =
      lockctl::ControlAnswer{lockctl::ControlAnswer::Code::kOk, "maintenance until 12:00"};
  CHECK(lockctl::ReportAnswer(ok, "w", out, err) == lockctl::kExitOk);
  CHECK(out.str() == "maintenance until 12:00\n");
  err.str("");
  hashdb::Result<lockctl::ControlAnswer> none =
      hashdb::ErrnoError("connect /x (is lockd running?)", ENOENT);
  CHECK(lockctl::ReportAnswer(none, "w", out, err) == lockctl::kExitUsage);
  CHECK(err.str().find("lockctl: w: connect /x (is lockd running?)") == 0);
}

TEST_CASE("diff: counts first, then paths, each section capped") {
  hashdb::DatabaseDiff diff;
  for (int i = 0; i < 45; ++i) {
    diff.added.push_back(
        EntryFor("/opt/app/bin/new" + std::to_string(100 + i), "n" + std::to_string(i)));
  }
  diff.removed.push_back(EntryFor("/opt/app/old\nname", "old", hashdb::Kind::kScript));
  diff.changed.push_back({EntryFor("/opt/app/lib/x.so", "a", hashdb::Kind::kElfSharedObject),
                          EntryFor("/opt/app/lib/x.so", "b", hashdb::Kind::kElfSharedObject)});
  diff.unchanged = 1234;
  const std::string capped = lockctl::RenderDiff(diff, lockctl::kDiffLinesShown);
  CHECK(capped.find("changes: 45 added, 1 removed, 1 changed, 1234 unchanged\n") == 0);
  CHECK(capped.find("added (45):\n") != std::string::npos);
  CHECK(Count(capped, "  + /opt/app/bin/new") == lockctl::kDiffLinesShown);
  CHECK(capped.find("  ... and 5 more (--full lists them all)\n") != std::string::npos);
  // A newline in a file name cannot fake a line of the diff.
  CHECK(capped.find("  - /opt/app/old\\x0aname  (script, ") != std::string::npos);
  const std::string a = hashdb::ToHex(hashdb::Sha256(std::span<const std::uint8_t>(
                                          reinterpret_cast<const std::uint8_t*>("a"), 1)))
                            .substr(0, 16);
  CHECK(capped.find("  ~ /opt/app/lib/x.so  (sha256 " + a + " -> ") != std::string::npos);
  const std::string full = lockctl::RenderDiff(diff, 0);
  CHECK(Count(full, "  + /opt/app/bin/new") == 45);
  CHECK(full.find("more") == std::string::npos);
  const std::string empty = lockctl::RenderDiff(hashdb::DatabaseDiff{}, 10);
  CHECK(empty.find("changes: 0 added, 0 removed, 0 changed, 0 unchanged\nno file added") == 0);
}

TEST_CASE("staging: path, root-only directory, atomic 0600 file, SHA-256 of the bytes") {
  testsupport::TempDir dir;
  CHECK(lockctl::StagingPath("/var/lib/lockd", "x") == "/var/lib/lockd/staging/x");
  CHECK(lockctl::StagingPath("/var/lib/lockd//", "x") == "/var/lib/lockd/staging/x");
  CHECK(lockctl::StagingPath("/", "x") == "/staging/x");
  REQUIRE(lockctl::EnsureStagingDir(dir.path()).ok());
  struct stat st {};
  REQUIRE(::stat(dir.Join("staging").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::chmod(dir.Join("staging").c_str(), 0755) == 0);
  REQUIRE(lockctl::EnsureStagingDir(dir.path()).ok());  // tightened again
  REQUIRE(::stat(dir.Join("staging").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);

  const std::string path = lockctl::StagingPath(dir.path(), lockctl::kMaintenanceStagingName);
  const std::vector<std::uint8_t> bytes{'d', 'b'};
  auto sha = lockctl::StageBytes(path, bytes);
  REQUIRE(sha.ok());
  CHECK(*sha == hashdb::ToHex(hashdb::Sha256(bytes)));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  auto back = lockctl::ReadWholeFile(path, 100);
  REQUIRE(back.ok());
  CHECK(*back == bytes);
  CHECK_FALSE(lockctl::ReadWholeFile(path, 1).ok());  // over the limit

  testsupport::TempDir other;
  REQUIRE(::symlink(dir.Join("staging").c_str(), other.Join("staging").c_str()) == 0);
  auto refused = lockctl::EnsureStagingDir(other.path());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not a symlink") != std::string::npos);
}

TEST_CASE("maintenance status from lockd's JSON") {
  auto s = lockctl::ParseMaintenanceStatus(
      R"({"state":"active","session":"s1","learned_count":2,"learned_list":"/var/lib/lockd/m/learned.jsonl",)"
      R"("baseline_roots":["/opt","/usr"],"baseline_excludes":["/usr/share/*"],)"
      R"("database":{"path":"/var/lib/lockd/allowlist.lockdb","generation":7},"extra":true})",
      "sock");
  REQUIRE(s.ok());
  CHECK(s->active());
  CHECK(s->learned_count == 2);
  CHECK(s->learned_list == "/var/lib/lockd/m/learned.jsonl");
  CHECK(s->baseline_roots == std::vector<std::string>{"/opt", "/usr"});
  CHECK(s->baseline_excludes == std::vector<std::string>{"/usr/share/*"});
  CHECK(s->database_path == "/var/lib/lockd/allowlist.lockdb");
  CHECK(s->generation == 7);
  auto idle = lockctl::ParseMaintenanceStatus(R"({"state":"inactive"})", "sock");
  REQUIRE(idle.ok());
  CHECK_FALSE(idle->active());
  auto bad = lockctl::ParseMaintenanceStatus(R"({"session":"x"})", "sock");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "sock: maintenance status lacks \"state\" (a string)");
  CHECK_FALSE(
      lockctl::ParseMaintenanceStatus(R"({"state":"active","baseline_roots":"/opt"})", "s").ok());
  CHECK_FALSE(lockctl::ParseMaintenanceStatus("not json", "s").ok());
}

namespace {
std::string Hex(const std::string& s) {
  return hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
}  // namespace

TEST_CASE("learned list lines") {
  const std::string d(64, 'a');
  auto l = lockctl::ParseLearnedList(d + "\texec\t" + Hex("/opt/a") + "\n\n-\twrite\t" +
                                         Hex("/opt/b\nx") + "\n" + d + "\tupdater\t" +
                                         Hex("/opt/b\nx") + "\n" + d + "\texec\t" + Hex("/torn"),
                                     "L");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 2);  // the torn last line is ignored
  CHECK((*l)[0].path == "/opt/a");
  CHECK((*l)[1].path == "/opt/b\nx");
  CHECK((*l)[1].hows == std::vector<std::string>{"write", "updater"});
  CHECK((*l)[1].Has("updater"));
  CHECK_FALSE((*l)[0].Has("updater"));
  auto relative = lockctl::ParseLearnedList(
      "-\texec\t" + Hex("/a") + "\n-\texec\t" + Hex("relative") + "\n", "L");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().message == "L:2: expected an absolute path");
  auto upper = lockctl::ParseLearnedList("-\texec\t2F41\n", "L");
  REQUIRE_FALSE(upper.ok());
  CHECK(upper.error().message == "L:1: path is not lower-case hex");
  CHECK_FALSE(lockctl::ParseLearnedList("garbage\n", "L").ok());
}

TEST_CASE("entry for one file, as the scanner records it") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("run.sh"), "#!/bin/sh\necho hi\n", 0755);
  testsupport::WriteFile(dir.Join("notes.txt"), "hello\n", 0644);
  REQUIRE(::symlink("run.sh", dir.Join("link").c_str()) == 0);
  std::string why;
  auto e = lockctl::EntryForFile(dir.Join("run.sh"), &why);
  REQUIRE(e.ok());
  REQUIRE(e->has_value());
  CHECK((*e)->kind == hashdb::Kind::kScript);
  CHECK((*e)->digest == EntryFor("x", "#!/bin/sh\necho hi\n").digest);
  CHECK((*e)->size == 18);
  for (const char* name : {"notes.txt", "link", "missing"}) {
    auto none = lockctl::EntryForFile(dir.Join(name), &why);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("rescan: full scan plus learned files outside the roots; updater-only adds only") {
  testsupport::TempDir dir;
  const std::string root = dir.Join("root"), outside = dir.Join("outside");
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
  testsupport::WriteFile(root + "/kept.sh", "#!/bin/sh\nkept\n", 0755);
  testsupport::WriteFile(root + "/new.sh", "#!/bin/sh\nnew\n", 0755);
  testsupport::WriteFile(outside + "/tool.sh", "#!/bin/sh\ntool\n", 0755);
  testsupport::WriteFile(outside + "/skip.sh", "#!/bin/sh\nskip\n", 0755);
  const std::vector<hashdb::FileEntry> current{EntryFor(root + "/gone.sh", "old"),
                                               EntryFor(root + "/kept.sh", "#!/bin/sh\nkept\n")};
  lockctl::RescanOptions o;
  o.roots = {root};
  o.excludes = {"*/skip.sh"};
  o.learned = {{root + "/new.sh", {"write"}},
               {outside + "/tool.sh", {"write", "updater"}},
               {outside + "/skip.sh", {"exec"}},
               {outside + "/vanished.sh", {"write"}}};
  auto full = lockctl::Rescan(o, current);
  REQUIRE(full.ok());
  std::vector<std::string> paths;
  for (const auto& e : full->entries) paths.push_back(e.path);
  CHECK(paths ==
        std::vector<std::string>{outside + "/tool.sh", root + "/kept.sh", root + "/new.sh"});
  CHECK(full->learned_added == 1);  // tool.sh; new.sh came with the scan
  REQUIRE(full->scan.has_value());
  REQUIRE(full->notes.size() == 2);
  CHECK(full->notes[0].find("skip.sh: not taken: matches a baseline exclude") != std::string::npos);
  CHECK(full->notes[1].find("vanished.sh: not taken: no longer exists") != std::string::npos);
  auto diff = hashdb::DiffEntries(current, full->entries);
  CHECK(diff.added.size() == 2);
  CHECK(diff.removed.size() == 1);
  CHECK(diff.unchanged == 1);

  o.updater_only = true;
  auto updater = lockctl::Rescan(o, current);
  REQUIRE(updater.ok());
  paths.clear();
  for (const auto& e : updater->entries) paths.push_back(e.path);
  CHECK(paths ==
        std::vector<std::string>{outside + "/tool.sh", root + "/gone.sh", root + "/kept.sh"});
  CHECK_FALSE(updater->scan.has_value());
  CHECK(updater->notes.size() == 3);  // new.sh, skip.sh, vanished.sh: not the updater's
  CHECK(updater->notes[0].find("new.sh: not taken: learned by write, not written by the "
                               "trusted updater") != std::string::npos);
}

TEST_CASE("key ids on the command line") {
  const std::string upper(64, 'A');
  auto id = lockctl::NormalizeKeyId(upper);
  REQUIRE(id.ok());
  CHECK(*id == std::string(64, 'a'));
  auto bad = lockctl::NormalizeKeyId("abc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("\"abc\" is not a key id (64 hex digits") == 0);
}

TEST_CASE("trust dir listing: key ids, broken files named") {
  testsupport::TempDir dir;
  auto key = testsupport::NewKey();
  testsupport::WriteFile(dir.Join("b-fe1.pem"), key->public_key().ToPem());
  testsupport::WriteFile(dir.Join("a-broken.pem"), "not a key\n");
  testsupport::WriteFile(dir.Join("README"), "ignored\n");
  auto anchors = lockctl::ReadTrustDir(dir.path());
  REQUIRE(anchors.ok());
  REQUIRE(anchors->size() == 2);
  CHECK((*anchors)[0].file == "a-broken.pem");
  CHECK_FALSE((*anchors)[0].key.ok());
  REQUIRE((*anchors)[1].key.ok());
  CHECK((*anchors)[1].key->id() == key->public_key().id());
  std::ostringstream out, err;
  CHECK(lockctl::RunTrustList(dir.path(), {}, out, err) == lockctl::kExitUsage);
  CHECK(out.str().find(hashdb::ToHex(key->public_key().id()) + "  ecdsa-p256  b-fe1.pem\n") !=
        std::string::npos);
  CHECK(out.str().find("BROKEN  a-broken.pem: ") != std::string::npos);
}

TEST_CASE("confirmation: yes or y only; finish without a terminal needs --yes") {
  CHECK(lockctl::IsYes("yes\n"));
  CHECK(lockctl::IsYes("  Y "));
  CHECK_FALSE(lockctl::IsYes(""));
  CHECK_FALSE(lockctl::IsYes("yes please"));
  CHECK_FALSE(lockctl::IsYes("no"));
  lockctl::FinishOptions o;
  o.terminal.config_path = "/nonexistent/lockd.toml";
  std::istringstream in("yes\n");
  std::ostringstream out, err;
  CHECK(lockctl::RunMaintenanceFinish(o, in, false, out, err) == lockctl::kExitUsage);
  CHECK(err.str() ==
        "lockctl: maintenance finish: no terminal to confirm on: give --yes to install without "
        "asking\n");
}

TEST_CASE("rescan progress: the full rescan counts first and reports to the reporter") {
  testsupport::TempDir dir;
  const std::string root = dir.Join("root");
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  testsupport::WriteFile(root + "/a.sh", "#!/bin/sh\na\n", 0755);
  testsupport::WriteFile(root + "/b.txt", "b\n");
  std::ostringstream json;
  lockctl::StreamProgressReporter reporter(lockctl::ProgressMode::kJson, "maintenance-rescan",
                                           json);
  lockctl::RescanOptions o;
  o.roots = {root};
  o.reporter = &reporter;
  auto full = lockctl::Rescan(o, {});
  REQUIRE(full.ok());
  const std::string text = json.str();
  CHECK(text.find("{\"event\":\"count\",\"task\":\"maintenance-rescan\",\"files_counted\":2,"
                  "\"done\":true}\n") != std::string::npos);
  CHECK(text.find("{\"event\":\"done\",\"task\":\"maintenance-rescan\",\"files_examined\":2,"
                  "\"files_total\":2,\"files_recorded\":1,") != std::string::npos);
  // Updater-only does not scan: no progress at all.
  std::ostringstream none;
  lockctl::StreamProgressReporter quiet(lockctl::ProgressMode::kJson, "maintenance-rescan", none);
  o.reporter = &quiet;
  o.updater_only = true;
  REQUIRE(lockctl::Rescan(o, {}).ok());
  CHECK(none.str().empty());
}
