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

// One line of lockd's learned list.
std::string Line(const std::string& digest, const std::string& how, const std::string& by,
                 const std::string& path, const std::string& exe = "/usr/bin/cp", long uid = 0) {
  return digest + "\t" + how + "\t" + by + "\t4242\t" + (uid < 0 ? "-" : std::to_string(uid)) +
         "\t" + (exe.empty() ? "-" : Hex(exe)) + "\t" + Hex(path) + "\n";
}

TEST_CASE("learned list lines") {
  const std::string d(64, 'a');
  auto l = lockctl::ParseLearnedList(Line(d, "exec", "session", "/opt/a") + "\n" +
                                         Line("-", "write", "other", "/opt/b\nx", "", -1) +
                                         Line(d, "updater", "updater", "/opt/b\nx") + d +
                                         "\texec\tsession\t1\t0\t-\t" + Hex("/torn"),
                                     "L");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 2);  // the torn last line is ignored
  CHECK((*l)[0].path == "/opt/a");
  CHECK((*l)[1].path == "/opt/b\nx");
  REQUIRE((*l)[1].writers.size() == 2);
  CHECK((*l)[1].writers[0].by == "other");
  CHECK((*l)[1].writers[0].uid == -1);
  CHECK((*l)[1].writers[0].exe.empty());
  CHECK((*l)[1].writers[1].how == "updater");
  CHECK((*l)[1].writers[1].pid == 4242);
  CHECK((*l)[1].writers[1].exe == "/usr/bin/cp");
  CHECK((*l)[1].Has("updater"));
  CHECK((*l)[1].FirstOutsider() == &(*l)[1].writers[0]);
  CHECK((*l)[1].FirstLearned() == &(*l)[1].writers[1]);
  CHECK_FALSE((*l)[0].Has("updater"));
  CHECK((*l)[0].FirstOutsider() == nullptr);
  auto relative = lockctl::ParseLearnedList(
      Line("-", "exec", "session", "/a") + Line("-", "exec", "session", "relative"), "L");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().message == "L:2: expected an absolute path");
  auto upper = lockctl::ParseLearnedList("-\texec\tsession\t1\t0\t-\t2F41\n", "L");
  REQUIRE_FALSE(upper.ok());
  CHECK(upper.error().message == "L:1: path is not lower-case hex");
  auto who = lockctl::ParseLearnedList("-\texec\tnobody\t1\t0\t-\t2f41\n", "L");
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().message == "L:1: unknown writer kind \"nobody\"");
  CHECK_FALSE(lockctl::ParseLearnedList("-\texec\t2f41\n", "L").ok());  // an older lockd's line
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

namespace {

lockctl::LearnedFile Learned(const std::string& path,
                             std::vector<std::pair<std::string, std::string>> how_by,
                             std::optional<hashdb::Digest> digest = std::nullopt) {
  lockctl::LearnedFile f{path, {}};
  for (auto& [how, by] : how_by) {
    lockctl::LearnedWriter w;
    w.digest = digest;
    w.how = how;
    w.by = by;
    w.pid = by == "session" ? 100 : 200;
    w.uid = by == "session" ? 0 : 1000;
    w.exe = by == "session" ? "/usr/bin/cp" : "/usr/bin/python3";
    w.path = path;
    f.writers.push_back(std::move(w));
  }
  return f;
}

std::vector<std::string> Paths(const std::vector<hashdb::FileEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& e : entries) paths.push_back(e.path);
  return paths;
}

}  // namespace

// Issue 12 item 4: only what the maintenance session (or the trusted updater) wrote or ran is
// learned; the rest is listed as NOT learned. On main every file under the roots was taken.
TEST_CASE("rescan: the session's files are learned, anyone else's are listed, not learned") {
  testsupport::TempDir dir;
  const std::string root = dir.Join("root"), outside = dir.Join("outside");
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/tmp").c_str(), 0755) == 0);
  testsupport::WriteFile(root + "/kept.sh", "#!/bin/sh\nkept\n", 0755);
  testsupport::WriteFile(root + "/new.sh", "#!/bin/sh\nnew\n", 0755);
  testsupport::WriteFile(root + "/renamed.sh", "#!/bin/sh\nrenamed\n", 0755);
  testsupport::WriteFile(root + "/dropped.sh", "#!/bin/sh\nby someone else\n", 0755);
  testsupport::WriteFile(root + "/both.sh", "#!/bin/sh\nboth\n", 0755);
  testsupport::WriteFile(root + "/app.sh", "#!/bin/sh\napp v2 by someone else\n", 0755);
  testsupport::WriteFile(root + "/planted.sh", "#!/bin/sh\nthere before\n", 0755);
  testsupport::WriteFile(root + "/quick.sh", "#!/bin/sh\nquick\n", 0755);
  testsupport::WriteFile(root + "/ran.sh", "#!/bin/sh\nran\n", 0755);
  testsupport::WriteFile(root + "/tmp/x.sh", "#!/bin/sh\nin tmp\n", 0755);
  testsupport::WriteFile(outside + "/tool.sh", "#!/bin/sh\ntool\n", 0755);
  testsupport::WriteFile(outside + "/foreign.sh", "#!/bin/sh\nforeign\n", 0755);
  testsupport::WriteFile(outside + "/skip.sh", "#!/bin/sh\nskip\n", 0755);
  const auto digest = [](const std::string& content) { return EntryFor("x", content).digest; };
  const std::vector<hashdb::FileEntry> current{
      // sorted by path, as a database is
      EntryFor(root + "/app.sh", "#!/bin/sh\napp v1\n"), EntryFor(root + "/gone.sh", "old"),
      EntryFor(root + "/kept.sh", "#!/bin/sh\nkept\n")};
  lockctl::RescanOptions o;
  o.roots = {root};
  o.excludes = {root + "/tmp", "*/skip.sh"};
  o.learned = {
      Learned(root + "/new.sh", {{"write", "session"}}),
      // Written by the session under a temporary name, then renamed: its bytes count.
      Learned(root + "/.renamed.sh.tmp", {{"write", "session"}}, digest("#!/bin/sh\nrenamed\n")),
      Learned(root + "/dropped.sh", {{"write", "other"}}),
      Learned(root + "/both.sh", {{"write", "session"}, {"write", "other"}}),
      Learned(root + "/app.sh", {{"write", "unknown"}}),
      // The writer was gone before lockd looked: the session's write line does not vouch for
      // the bytes, what the session ran does.
      Learned(root + "/quick.sh", {{"write", "session"}, {"write", "unknown"}},
              digest("#!/bin/sh\nquick\n")),
      Learned(root + "/ran.sh", {{"write", "unknown"}, {"exec", "session"}},
              digest("#!/bin/sh\nran\n")),
      Learned(root + "/tmp/x.sh", {{"write", "session"}}),
      Learned(outside + "/tool.sh", {{"write", "session"}, {"write", "updater"}}),
      Learned(outside + "/foreign.sh", {{"exec", "other"}}),
      Learned(outside + "/skip.sh", {{"exec", "session"}}),
      Learned(outside + "/vanished.sh", {{"write", "session"}})};
  auto full = lockctl::Rescan(o, current);
  REQUIRE(full.ok());
  CHECK(Paths(full->entries) == std::vector<std::string>{outside + "/tool.sh", root + "/app.sh",
                                                         root + "/kept.sh", root + "/new.sh",
                                                         root + "/ran.sh", root + "/renamed.sh"});
  CHECK(full->taken_from.at(root + "/ran.sh").how == "exec");
  // app.sh keeps the entry in force: the new content is not the session's.
  for (const auto& e : full->entries) {
    if (e.path == root + "/app.sh") CHECK(e.digest == digest("#!/bin/sh\napp v1\n"));
  }
  CHECK(full->learned_added == 1);  // tool.sh; the others came with the scan
  REQUIRE(full->taken_from.count(root + "/renamed.sh") == 1);
  CHECK(full->taken_from.at(root + "/renamed.sh").path == root + "/.renamed.sh.tmp");
  CHECK(full->taken_from.at(root + "/new.sh").by == "session");
  std::vector<std::string> not_learned;
  for (const auto& n : full->not_learned) not_learned.push_back(n.entry.path);
  CHECK(not_learned == std::vector<std::string>{outside + "/foreign.sh", root + "/app.sh",
                                                root + "/both.sh", root + "/dropped.sh",
                                                root + "/planted.sh", root + "/quick.sh"});
  for (const auto& n : full->not_learned) {
    CAPTURE(n.entry.path);
    if (n.entry.path == root + "/planted.sh") {
      CHECK(n.writers.empty());
      CHECK(n.why == "not written or run by the maintenance session during the window");
    } else if (n.entry.path == root + "/app.sh" || n.entry.path == root + "/quick.sh") {
      CHECK(n.why ==
            "written during the window by a process that had exited before lockd could tell "
            "whose it was");
    } else {
      CHECK(n.why ==
            "written or run during the window by a process outside the maintenance session");
    }
    CHECK(n.kept.has_value() == (n.entry.path == root + "/app.sh"));
  }
  REQUIRE(full->notes.size() == 4);
  CHECK(full->notes[0].find(".renamed.sh.tmp: not taken: no longer exists") != std::string::npos);
  CHECK(full->notes[1].find("tmp/x.sh: not taken: in a baseline exclude's tree") !=
        std::string::npos);
  CHECK(full->notes[2].find("skip.sh: not taken: in a baseline exclude's tree") !=
        std::string::npos);
  CHECK(full->notes[3].find("vanished.sh: not taken: no longer exists") != std::string::npos);
  auto diff = hashdb::DiffEntries(current, full->entries);
  CHECK(diff.added.size() == 4);  // new, ran, renamed, tool
  CHECK(diff.removed.size() == 1);
  CHECK(diff.changed.empty());
  CHECK(diff.unchanged == 2);

  // Events dropped: a session write to a path no longer vouches for its bytes.
  o.learned_complete = false;
  auto partial = lockctl::Rescan(o, current);
  REQUIRE(partial.ok());
  CHECK(Paths(partial->entries) == std::vector<std::string>{root + "/app.sh", root + "/kept.sh",
                                                            root + "/ran.sh",
                                                            root + "/renamed.sh"});
  o.learned_complete = true;

  o.updater_only = true;
  auto updater = lockctl::Rescan(o, current);
  REQUIRE(updater.ok());
  CHECK(Paths(updater->entries) == std::vector<std::string>{outside + "/tool.sh", root + "/app.sh",
                                                            root + "/gone.sh", root + "/kept.sh"});
  CHECK_FALSE(updater->scan.has_value());
  CHECK(updater->taken_from.at(outside + "/tool.sh").by == "updater");
  CHECK(updater->notes[0].find("new.sh: not taken: write by the session, not written by the "
                               "trusted updater") != std::string::npos);
}

TEST_CASE("the diff shows owners and writers, and lists what was not learned") {
  hashdb::DatabaseDiff diff;
  hashdb::FileEntry added = EntryFor("/opt/app/new", "new");
  added.uid = 0;
  added.gid = 0;
  diff.added.push_back(added);
  lockctl::RescanResult r;
  lockctl::LearnedWriter w;
  w.how = "write";
  w.by = "session";
  w.pid = 4242;
  w.uid = 0;
  w.exe = "/usr/bin/cp";
  w.path = "/opt/app/new";
  r.taken_from.emplace("/opt/app/new", w);
  lockctl::NotLearned n;
  n.entry = EntryFor("/opt/app/evil", "evil");
  n.entry.uid = 54321;
  n.entry.gid = 54321;
  n.why = "written or run during the window by a process outside the maintenance session";
  w.by = "other";
  w.pid = 999;
  w.uid = 54321;
  w.exe = "/usr/bin/python3";
  w.path = "/opt/app/evil";
  n.writers.push_back(w);
  r.not_learned.push_back(n);
  const std::string text = lockctl::RenderDiff(diff, 40, &r);
  CHECK(text.find("  + /opt/app/new  (elf-exec, 3 B, sha256 ") != std::string::npos);
  CHECK(text.find(", owner root:root)\n      written by the maintenance session: pid 4242, uid 0 "
                  "(root), /usr/bin/cp\n") != std::string::npos);
  CHECK(text.find("NOT learned (1), new or changed on disk but not written by the maintenance "
                  "session; not in the new database:\n  ! /opt/app/evil  (") != std::string::npos);
  CHECK(text.find("owner 54321:54321)\n      written or run during the window by a process "
                  "outside the maintenance session\n      written by a process outside the "
                  "maintenance session: pid 999, uid 54321, /usr/bin/python3\n") !=
        std::string::npos);
  CHECK(lockctl::RenderDiff(diff, 40).find("NOT learned") == std::string::npos);
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
