// The maintenance window, its persistence and end, the learned list, the authorizer, database
// install and trust changes: pure logic with an injected clock, real files in a temp dir.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>

#include "hashdb/authorization.h"
#include "hashdb/sha256.h"
#include "hashdb/small_file.h"
#include "lockd/config.h"
#include "lockd/control/authorized_acts.h"
#include "lockd/control/authorizer.h"
#include "lockd/database_manager.h"
#include "lockd/maintenance/controller.h"
#include "lockd/maintenance/db_install.h"
#include "lockd/maintenance/learned_list.h"
#include "lockd/maintenance/trust_anchors.h"
#include "lockd/maintenance/window.h"
#include "tests/support/db_fixture.h"
#include "tests/support/fake_procs.h"
#include "tests/support/lockd/fake_event_kernel.h"

namespace m = lockd::maintenance;
using lockd::ControlReply;
using lockd::DaemonEvent;
using lockd::DaemonEventKind;

namespace {

class RecordingSink : public lockd::DecisionSink {
 public:
  void OnDecision(const lockd::DecisionRecord&) override {}
  void OnDaemonEvent(const DaemonEvent& e) override {
    std::lock_guard lock(mu);
    events.push_back(e);
  }
  std::vector<DaemonEventKind> Kinds() {
    std::lock_guard lock(mu);
    std::vector<DaemonEventKind> k;
    for (const auto& e : events) k.push_back(e.kind);
    return k;
  }
  std::string Field(std::size_t i, const std::string& key) {
    std::lock_guard lock(mu);
    for (const auto& [k, v] : events.at(i).fields) {
      if (k == key) return v;
    }
    return "<none>";
  }
  std::mutex mu;
  std::vector<DaemonEvent> events;
};

const std::string kTerminalId(32, 'a');

// A maintenance_start authorization for minutes, signed by key, its challenge issued at
// issued_at (valid 600 s) for terminal.
hashdb::Authorization StartAuthorization(hashdb::Signer& key, int minutes, std::int64_t issued_at,
                                         const std::string& terminal = kTerminalId) {
  auto c = hashdb::NewChallenge(terminal, hashdb::Act::kMaintenanceStart, std::to_string(minutes),
                                issued_at, 600);
  REQUIRE(c.ok());
  auto a = hashdb::SignChallenge(*c, {"T-0042", "Ada Field", "ACME ATM Service", ""}, key);
  REQUIRE(a.ok());
  return *a;
}

// The window that authorization opens when accepted at accepted.
m::Window WindowOf(const hashdb::Authorization& a, std::int64_t accepted) {
  auto w = m::WindowFor(a, accepted);
  REQUIRE(w.ok());
  return *w;
}

m::Window SampleWindow() {
  static const auto key = testsupport::NewKey();
  return WindowOf(StartAuthorization(*key, 30, 990), 1000);
}

std::string Slurp(const std::string& path) {
  auto t = hashdb::ReadSmallFile(path, 1 << 20);
  REQUIRE_MESSAGE(t.ok(), path);
  return *t;
}

// A terminal in a temp dir: trust anchor, database generation 1, state dir.
struct Terminal {
  testsupport::TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  lockd::Config config;
  std::unique_ptr<lockd::DatabaseManager> databases;
  // What the controller asks of the kernel about writes (the writer's uid, executable and its
  // identity): processes set by hand, files are the real ones in dir.
  testsupport::FakeEventKernel kernel;
  std::int64_t now = 1'000'000;

  Terminal() {
    REQUIRE(::mkdir(dir.Join("trust").c_str(), 0755) == 0);
    testsupport::WriteFile(dir.Join("trust/anchor.pem"), key->public_key().ToPem());
    config.trust_dir = dir.Join("trust");
    config.state_dir = dir.Join("state");
    config.database = dir.Join("allowlist.lockdb");
    WriteDb(config.database, 1, {testsupport::EntryFor("/usr/bin/a", "a")});
    databases = std::make_unique<lockd::DatabaseManager>(config.database, config.trust_dir,
                                                         lockd::StateStore(config.state_dir));
    REQUIRE(databases->Load().ok());
  }
  void WriteDb(const std::string& path, std::uint64_t generation,
               std::vector<hashdb::FileEntry> entries) {
    hashdb::DatabaseContents c;
    c.generation = generation;
    c.entries = std::move(entries);
    auto bytes = testsupport::BuildBytes(c, *key);
    testsupport::WriteFile(path, std::string(bytes.begin(), bytes.end()), 0600);
  }
  // Processes (pids above any pid_max, so /proc has none of them): the engineer's shell
  // kShell ran lockctl kLockctl and a writer kSessionWriter; kOtherWriter belongs to another
  // user, started by init before the window.
  static constexpr pid_t kShell = 5'000'100, kLockctl = 5'000'110, kSessionWriter = 5'000'121,
                         kOtherWriter = 5'000'201;
  testsupport::FakeProcs procs = [] {
    testsupport::FakeProcs p;
    p.Add(1, 0, 1).Add(kShell, 1, 1000).Add(kLockctl, kShell, 1100);
    p.Add(kSessionWriter, kShell, 1200).Add(kOtherWriter, 1, 900);
    return p;
  }();
  m::SessionOrigin Origin() { return *m::OriginOf(kLockctl, 0, procs); }
  // A controller's options for this terminal (injected clock, no thread).
  m::ControllerOptions Options() {
    m::ControllerOptions o;
    o.state_dir = config.state_dir;
    o.trust_dir = config.trust_dir;
    o.terminal_id = kTerminalId;
    o.now = [this] { return now; };
    o.start_thread = false;
    o.procs = &procs;
    return o;
  }
  // The token's side: signs the challenge text the daemon issued.
  std::string Sign(const ControlReply& challenge_reply, hashdb::Signer& signer,
                   const std::string& token_id = "T-0042") {
    REQUIRE(challenge_reply.code == ControlReply::Code::kOk);
    auto challenge = hashdb::ParseChallenge(challenge_reply.body, "challenge");
    REQUIRE(challenge.ok());
    hashdb::TokenInfo info{token_id, "Ada Field", "ACME", ""};
    auto auth = hashdb::SignChallenge(*challenge, info, signer);
    REQUIRE(auth.ok());
    return hashdb::SerializeAuthorization(*auth);
  }
};

}  // namespace

TEST_CASE("window file: round trip, strict parse") {
  const m::Window w = SampleWindow();
  auto back = m::ParseWindow(m::SerializeWindow(w), "window");
  REQUIRE(back.ok());
  CHECK(back->session == w.session);
  CHECK(back->session == m::SessionIdFor(w.authorization));
  CHECK(back->holder == "Ada Field");
  CHECK(back->token_id == "T-0042");
  CHECK(back->key_id == w.key_id);
  CHECK(back->end == w.end);
  CHECK(back->end == 1000 + 30 * 60);
  CHECK(hashdb::SerializeAuthorization(back->authorization) ==
        hashdb::SerializeAuthorization(w.authorization));
  std::string text = m::SerializeWindow(w);
  CHECK(text.rfind("lockd-maintenance-window-v2\nsession: " + w.session + "\nstart: 1000\n", 0) ==
        0);
  CHECK_FALSE(m::ParseWindow(text.substr(0, text.size() - 1), "w").ok());  // torn
  CHECK_FALSE(m::ParseWindow(text + "extra\n", "w").ok());
  std::string swapped = text;
  swapped.replace(swapped.find("start: 1000"), 11, "start: 9999");  // end <= start
  CHECK_FALSE(m::ParseWindow(swapped, "w").ok());
  std::string bare = text.substr(0, text.find("authorization:"));
  auto no_auth = m::ParseWindow(bare, "w");
  REQUIRE_FALSE(no_auth.ok());
  CHECK(no_auth.error().message == "w:8: expected \"authorization:\"");
  // An older lockd's window (no authorization): refused as such, not as garbage.
  auto old = m::ParseWindow(
      "lockd-maintenance-window-v1\nsession: cccccccccccccccccccccccccccccccc\ntoken_id: T\n"
      "holder: H\norganisation: O\nkey_id: d\nstart: 1000\nend: 4102444800\n",
      "w");
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().code == hashdb::ErrorCode::kUnsupported);
  CHECK(old.error().message.find("w:1: a window recorded by an older lockd") == 0);
  auto bad = m::ParseWindow("lockd-maintenance-window-v3\nsession: x\n", "w");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == hashdb::ErrorCode::kFormat);
  CHECK(bad.error().message.find("w:1:") == 0);
  // Only maintenance_start opens a window, for 1..1440 minutes.
  auto key = testsupport::NewKey();
  auto abort = StartAuthorization(*key, 5, 990);
  abort.challenge.act = hashdb::Act::kMaintenanceAbort;
  CHECK_FALSE(m::WindowFor(abort, 1000).ok());
}

// Issue 12 item 1: a window file is resumed only when the authorization kept with it proves
// that it opened exactly this window.
TEST_CASE("a recorded window is resumable only as its authorization granted it") {
  auto key = testsupport::NewKey();
  const hashdb::TrustStore trust = testsupport::TrustOf(*key);
  const auto a = StartAuthorization(*key, 30, 10'000);
  const m::Window genuine = WindowOf(a, 10'100);
  CHECK(m::CheckResumable(genuine, kTerminalId, trust).ok());
  auto check = [&](const m::Window& w) { return m::CheckResumable(w, kTerminalId, trust).check; };

  m::Window later = genuine;  // made longer by hand
  later.end += 3600;
  CHECK(check(later) == "window end");
  CHECK(m::CheckResumable(later, kTerminalId, trust).message.find("granted 30 minute(s)") !=
        std::string::npos);
  m::Window shorter = genuine;  // ended sooner by hand: grants less than the token did
  shorter.end = shorter.start + 60;
  CHECK(m::CheckResumable(shorter, kTerminalId, trust).ok());
  m::Window one_more_second = genuine;
  one_more_second.end += 1;
  CHECK(check(one_more_second) == "window end");
  m::Window year2100 = genuine;
  year2100.end = 4102444800;
  CHECK(check(year2100) == "window end");
  m::Window shifted = genuine;  // start and end moved together past the challenge's validity
  shifted.start = a.challenge.expires_at;
  shifted.end = shifted.start + 30 * 60;
  CHECK(check(shifted) == "challenge expired");
  shifted.start = a.challenge.issued_at - 1;
  shifted.end = shifted.start + 30 * 60;
  CHECK(check(shifted) == "not yet valid");
  m::Window other_session = genuine;  // the authorization moved into another window
  other_session.session = std::string(32, 'c');
  CHECK(check(other_session) == "session");
  CHECK(m::CheckResumable(genuine, std::string(32, 'b'), trust).check == "wrong terminal");
  auto stranger = testsupport::NewKey();
  CHECK(m::CheckResumable(genuine, kTerminalId, testsupport::TrustOf(*stranger)).check ==
        "unknown key");
  m::Window forged = genuine;  // the signed minutes edited
  forged.authorization.challenge.argument = "1440";
  forged.end = forged.start + 1440 * 60;
  CHECK(check(forged) == "bad signature");
  // Another act's genuine authorization, with a window built around it.
  auto c =
      hashdb::NewChallenge(kTerminalId, hashdb::Act::kTrustAdd, std::string(64, 'e'), 10'000, 600);
  REQUIRE(c.ok());
  auto trust_add = hashdb::SignChallenge(*c, {"T-0042", "Ada Field", "ACME", ""}, *key);
  REQUIRE(trust_add.ok());
  m::Window wrong_act = genuine;
  wrong_act.authorization = *trust_add;
  wrong_act.session = m::SessionIdFor(*trust_add);
  CHECK(check(wrong_act) == "wrong act");
  // The token's validity is judged at the window's start, as when it was accepted.
  auto expired_key = testsupport::NewKey();
  auto c2 = hashdb::NewChallenge(kTerminalId, hashdb::Act::kMaintenanceStart, "30", 200'000, 600);
  REQUIRE(c2.ok());
  auto old_token = hashdb::SignChallenge(*c2, {"T-1", "H", "O", "1970-01-01"}, *expired_key);
  REQUIRE(old_token.ok());
  CHECK(m::CheckResumable(WindowOf(*old_token, 200'100), kTerminalId,
                          testsupport::TrustOf(*expired_key))
            .check == "token expired");
}

TEST_CASE("window state at a given time: open, ended, clock set back") {
  const m::Window w = SampleWindow();
  CHECK(m::StateAt(w, w.start) == m::WindowState::kOpen);
  CHECK(m::StateAt(w, w.end - 1) == m::WindowState::kOpen);
  CHECK(m::StateAt(w, w.end) == m::WindowState::kExpired);
  CHECK(m::StateAt(w, w.start - m::kClockSlackSeconds) == m::WindowState::kOpen);
  CHECK(m::StateAt(w, w.start - m::kClockSlackSeconds - 1) == m::WindowState::kClockBackwards);
}

TEST_CASE("learned list: format, parse, dedup per session, torn line on resume") {
  m::LearnedLine l{hashdb::Sha256(std::span<const std::uint8_t>()),
                   m::How::kWrite,
                   m::By::kOther,
                   4242,
                   1000,
                   "/usr/bin/cp",
                   "/opt/new\tline\n"};
  const std::string text = m::FormatLearnedLine(l);
  CHECK(text ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\twrite\tother\t4242\t"
        "1000\t2f7573722f62696e2f6370\t2f6f70742f6e6577096c696e650a\n");
  auto back = m::ParseLearnedLine(text.substr(0, text.size() - 1), "l", 1);
  REQUIRE(back.ok());
  CHECK(back->path == l.path);
  CHECK(back->how == m::How::kWrite);
  CHECK(back->by == m::By::kOther);
  CHECK(back->pid == 4242);
  CHECK(back->uid == 1000);
  CHECK(back->exe == "/usr/bin/cp");
  CHECK(m::FormatLearnedLine({std::nullopt, m::How::kExec, m::By::kSession, 7, -1, "", "/x"}) ==
        "-\texec\tsession\t7\t-\t-\t2f78\n");
  CHECK_FALSE(m::ParseLearnedLine("-\tfly\tsession\t7\t-\t-\t2f78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\tnobody\t7\t-\t-\t2f78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\tsession\tx\t-\t-\t2f78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\tsession\t7\t-\t-\t2F78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\tsession\t7\t-\t-\t78", "l", 1).ok());  // relative
  auto old = m::ParseLearnedLine("-\texec\t2f78", "l", 3);  // an older lockd's line
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().message.find("l:3: expected <sha256|->") == 0);

  testsupport::TempDir dir;
  const std::string path = dir.Join("learned");
  auto line = [](m::How how, m::By by, const char* p) {
    return m::LearnedLine{std::nullopt, how, by, 1, 0, "/bin/sh", p};
  };
  {
    auto list = m::LearnedList::Open(path, true);
    REQUIRE(list.ok());
    CHECK(*list->Add(line(m::How::kExec, m::By::kSession, "/a")));
    CHECK_FALSE(*list->Add(line(m::How::kExec, m::By::kSession, "/a")));
    CHECK(*list->Add(line(m::How::kWrite, m::By::kSession, "/a")));
    CHECK(*list->Add(line(m::How::kWrite, m::By::kOther, "/a")));  // another writer: kept
    CHECK(list->count() == 3);
    CHECK(list->learned() == 2);
    CHECK(list->not_learned() == 1);
  }
  // A crash tore a line: resuming drops it and keeps deduplicating.
  {
    const std::string before = Slurp(path);
    testsupport::WriteFile(path, before + "-\texec\t2f", 0600);
    auto list = m::LearnedList::Open(path, false);
    REQUIRE(list.ok());
    CHECK(list->count() == 3);
    CHECK(list->learned() == 2);
    CHECK_FALSE(*list->Add(line(m::How::kWrite, m::By::kSession, "/a")));
    CHECK(*list->Add(line(m::How::kUpdater, m::By::kUpdater, "/b")));
    auto lines = m::ParseLearnedList(Slurp(path), path);
    REQUIRE(lines.ok());
    CHECK(lines->size() == 4);
  }
  {
    auto list = m::LearnedList::Open(path, true);  // new session: emptied
    REQUIRE(list.ok());
    CHECK(list->count() == 0);
    CHECK(Slurp(path).empty());
  }
}

TEST_CASE("controller: start persists, the window ends by itself, records in order") {
  Terminal t;
  RecordingSink sink;
  lockd::ModeSource modes;
  m::Controller c(t.Options(), modes, sink, *t.databases, t.kernel);
  REQUIRE(c.Restore().ok());
  CHECK_FALSE(c.active());
  lockd::Authorized who;
  who.authorization = StartAuthorization(*t.key, 2, t.now - 5);
  who.key_id_hex = hashdb::ToHex(t.key->public_key().id());
  auto reply = c.Start(who, t.Origin());
  REQUIRE(reply.code == ControlReply::Code::kOk);
  CHECK(c.active());
  CHECK(modes.Current(hashdb::Policy{}) == lockd::EffectiveMode::kMaintenance);
  CHECK(c.Start(who, t.Origin()).code == ControlReply::Code::kRefused);  // one at a time
  m::WindowStore store(t.config.state_dir);
  auto saved = store.Load();
  REQUIRE(saved.ok());
  REQUIRE(saved->has_value());
  CHECK((*saved)->end == t.now + 120);
  CHECK((*saved)->token_id == "T-0042");
  CHECK((*saved)->session == m::SessionIdFor(who.authorization));
  CHECK(m::CheckResumable(**saved, kTerminalId, testsupport::TrustOf(*t.key)).ok());
  REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kMaintenanceStart,
                                                       DaemonEventKind::kModeChange});
  CHECK(sink.Field(0, "minutes") == "2");
  CHECK(sink.Field(0, "holder") == "Ada Field");
  CHECK(sink.Field(1, "from") == "enforce");
  CHECK(sink.Field(1, "to") == "maintenance");

  // A would-deny in maintenance, run by the session, is learned once; one run by another
  // process is listed, not learned.
  lockd::DecisionRecord r;
  r.verdict = lockd::Verdict::kWouldDeny;
  r.mode = lockd::EffectiveMode::kMaintenance;
  r.path = "/opt/vendor/bin/new";
  r.digest = hashdb::Sha256(std::span<const std::uint8_t>());
  r.pid = Terminal::kSessionWriter;
  c.OnDecision(r);
  c.OnDecision(r);
  lockd::DecisionRecord foreign = r;
  foreign.pid = Terminal::kOtherWriter;
  foreign.uid = 1000;
  foreign.exe = "/home/kiosk/dropper";
  foreign.path = "/opt/vendor/bin/evil";
  c.OnDecision(foreign);
  c.Process();
  CHECK(c.learned_count() == 1);
  CHECK(c.not_learned_count() == 1);
  auto lines = m::ParseLearnedList(Slurp(c.learned_path()), "learned");
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 2);
  CHECK((*lines)[0].path == "/opt/vendor/bin/new");
  CHECK((*lines)[0].by == m::By::kSession);
  CHECK((*lines)[1].path == "/opt/vendor/bin/evil");
  CHECK((*lines)[1].by == m::By::kOther);
  CHECK((*lines)[1].uid == 1000);
  CHECK((*lines)[1].exe == "/home/kiosk/dropper");
  REQUIRE(sink.Kinds().size() == 4);
  CHECK(sink.Kinds()[2] == DaemonEventKind::kMaintenanceLearned);
  CHECK(sink.Field(2, "how") == "exec");
  CHECK(sink.Field(2, "by") == "session");
  CHECK(sink.Field(2, "sha256") == hashdb::ToHex(*r.digest));
  CHECK(sink.Kinds()[3] == DaemonEventKind::kMaintenanceNotLearned);
  CHECK(sink.Field(3, "by") == "other");
  CHECK(sink.Field(3, "pid") == std::to_string(Terminal::kOtherWriter));
  CHECK(sink.Field(3, "path") == "/opt/vendor/bin/evil");

  t.now += 119;
  c.Tick();
  CHECK(c.active());
  t.now += 1;
  c.Tick();
  CHECK_FALSE(c.active());
  CHECK(modes.Current(hashdb::Policy{}) == lockd::EffectiveMode::kEnforce);
  auto kinds = sink.Kinds();
  REQUIRE(kinds.size() == 6);
  CHECK(kinds[4] == DaemonEventKind::kMaintenanceExpired);
  CHECK(kinds[5] == DaemonEventKind::kModeChange);
  CHECK(sink.Field(5, "to") == "enforce");
  auto gone = store.Load();
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  // Closed: nothing more is learned.
  r.path = "/late";
  c.OnDecision(r);
  c.Process();
  CHECK(sink.Kinds().size() == 6);
}

// Issue 12 item 4: a write is attributed when lockd handles its close-write, from /proc.
TEST_CASE("controller: writes by the session are learned, writes by others are listed") {
  Terminal t;
  RecordingSink sink;
  lockd::ModeSource modes;
  m::Controller c(t.Options(), modes, sink, *t.databases, t.kernel);
  REQUIRE(c.Restore().ok());
  lockd::Authorized who;
  who.authorization = StartAuthorization(*t.key, 30, t.now - 5);
  REQUIRE(c.Start(who, t.Origin()).code == ControlReply::Code::kOk);
  CHECK(m::WindowStore(t.config.state_dir).Load()->value().origin.origin == Terminal::kShell);
  auto write = [&](const std::string& name, pid_t pid) {
    const std::string path = t.dir.Join(name);
    testsupport::WriteFile(path, "#!/bin/sh\necho " + name + "\n", 0755);
    lockd::os::FanotifyEvent e;
    e.mask = FAN_CLOSE_WRITE;
    e.pid = pid;
    e.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(e.fd.valid());
    c.OnWrite(e);
    return path;
  };
  const std::string mine = write("by-session.sh", Terminal::kSessionWriter);
  const std::string theirs = write("by-other.sh", Terminal::kOtherWriter);
  const std::string gone = write("by-gone.sh", 5'000'999);  // exited before lockd looked
  c.Process();
  auto lines = m::ParseLearnedList(Slurp(c.learned_path()), "learned");
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 3);
  CHECK((*lines)[0].path == mine);
  CHECK((*lines)[0].by == m::By::kSession);
  CHECK((*lines)[0].how == m::How::kWrite);
  CHECK((*lines)[0].digest.has_value());
  CHECK((*lines)[1].path == theirs);
  CHECK((*lines)[1].by == m::By::kOther);
  CHECK((*lines)[1].pid == Terminal::kOtherWriter);
  CHECK((*lines)[2].path == gone);
  CHECK((*lines)[2].by == m::By::kUnknown);
  CHECK(c.learned_count() == 1);
  CHECK(c.not_learned_count() == 2);
  const std::string status = c.Status(false, {});
  CHECK(status.find("not learned:  2 file(s) written or run by processes outside the session") !=
        std::string::npos);
  CHECK(status.find("its session: pid " + std::to_string(Terminal::kShell)) != std::string::npos);
  CHECK(c.Status(true, {}).find("\"not_learned_count\":2") != std::string::npos);
}

// Issue 14 item 1: the controller asks the kernel about a writer only through os::EventKernel,
// so who wrote a file (uid, executable, a trusted updater's identity) is tested with the fake.
TEST_CASE("controller: a trusted updater's writes are learned while it runs the allowlisted file") {
  Terminal t;
  // The configured updater: content "a", the digest the database allows (/usr/bin/a).
  const std::string updater = t.dir.Join("updater");
  testsupport::WriteFile(updater, "a", 0755);
  // The same content at a path that is not configured.
  const std::string copy = t.dir.Join("copy-of-updater");
  testsupport::WriteFile(copy, "a", 0755);
  // Outside the maintenance session, started by init: only the updater rule can learn their
  // writes.
  constexpr pid_t kUpdater = 5'000'301, kStaleUpdater = 5'000'302, kCopy = 5'000'303;
  t.procs.Add(kUpdater, 1, 950).Add(kStaleUpdater, 1, 960).Add(kCopy, 1, 970);
  t.kernel.SetProcess(kUpdater, updater, 0);
  t.kernel.SetProcess(kCopy, copy, 1000);
  // kStaleUpdater runs an earlier version of the file now at the configured path (the path was
  // rewritten after it started): what it runs is not what is hashed, so it is not trusted.
  t.kernel.SetProcess(kStaleUpdater, updater, 0);
  struct stat st {};
  REQUIRE(::stat(updater.c_str(), &st) == 0);
  lockd::FileFacts earlier = lockd::FileFacts::FromStat(st);
  earlier.mtime_ns -= 1'000'000'000;
  t.kernel.SetExecutableFacts(kStaleUpdater, earlier);

  m::ControllerOptions options = t.Options();
  options.trusted_updaters = {updater};
  RecordingSink sink;
  lockd::ModeSource modes;
  m::Controller c(options, modes, sink, *t.databases, t.kernel);
  REQUIRE(c.Restore().ok());
  lockd::Authorized who;
  who.authorization = StartAuthorization(*t.key, 30, t.now - 5);
  REQUIRE(c.Start(who, t.Origin()).code == ControlReply::Code::kOk);
  auto write = [&](const std::string& name, pid_t pid, std::uint64_t mask) {
    const std::string path = t.dir.Join(name);
    testsupport::WriteFile(path, "#!/bin/sh\necho " + name + "\n", 0755);
    lockd::os::FanotifyEvent e;
    e.mask = mask;
    e.pid = pid;
    e.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(e.fd.valid());
    c.OnWrite(e);
    return path;
  };
  write("modified.sh", kUpdater, FAN_MODIFY);  // not closed yet: nothing to learn
  const std::string by_updater = write("by-updater.sh", kUpdater, FAN_CLOSE_WRITE);
  const std::string by_stale = write("by-stale.sh", kStaleUpdater, FAN_CLOSE_WRITE);
  const std::string by_copy = write("by-copy.sh", kCopy, FAN_CLOSE_WRITE);
  c.Process();
  auto lines = m::ParseLearnedList(Slurp(c.learned_path()), "learned");
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 3);
  CHECK((*lines)[0].path == by_updater);
  CHECK((*lines)[0].by == m::By::kUpdater);
  CHECK((*lines)[0].how == m::How::kUpdater);
  CHECK((*lines)[0].exe == updater);
  CHECK((*lines)[0].uid == 0);
  CHECK((*lines)[0].digest.has_value());
  CHECK((*lines)[1].path == by_stale);
  CHECK((*lines)[1].by == m::By::kOther);
  CHECK((*lines)[1].how == m::How::kWrite);
  CHECK((*lines)[2].path == by_copy);
  CHECK((*lines)[2].by == m::By::kOther);
  CHECK((*lines)[2].exe == copy);
  CHECK((*lines)[2].uid == 1000);
  CHECK(c.learned_count() == 1);
  CHECK(c.not_learned_count() == 2);
}

TEST_CASE("controller: a restart inside the window resumes it, after it closes it") {
  Terminal t;
  m::WindowStore store(t.config.state_dir);
  m::Window w = WindowOf(StartAuthorization(*t.key, 2, t.now - 65), t.now - 60);
  REQUIRE(w.end == t.now + 60);
  REQUIRE(store.Save(w).ok());
  auto make = [&](RecordingSink& sink, lockd::ModeSource& modes) {
    return std::make_unique<m::Controller>(t.Options(), modes, sink, *t.databases, t.kernel);
  };
  {
    RecordingSink sink;
    lockd::ModeSource modes;
    auto c = make(sink, modes);
    REQUIRE(c->Restore().ok());
    CHECK(c->active());
    CHECK(c->window()->session == w.session);
    REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kModeChange});
    CHECK(sink.Field(0, "to") == "maintenance");
  }
  t.now += 60;  // lockd was down when the window ended
  {
    RecordingSink sink;
    lockd::ModeSource modes;
    auto c = make(sink, modes);
    REQUIRE(c->Restore().ok());
    CHECK_FALSE(c->active());
    REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kMaintenanceExpired});
    CHECK(sink.Field(0, "session") == w.session);
    CHECK_FALSE(store.Load()->has_value());
  }
  // The clock set back before the start: closed, fail closed.
  w = WindowOf(StartAuthorization(*t.key, 60, t.now + 3590), t.now + 3600);
  REQUIRE(store.Save(w).ok());
  {
    RecordingSink sink;
    lockd::ModeSource modes;
    auto c = make(sink, modes);
    REQUIRE(c->Restore().ok());
    CHECK_FALSE(c->active());
    CHECK(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kMaintenanceExpired});
  }
  // An unreadable window file: closed, kept aside.
  testsupport::WriteFile(store.path(), "garbage\n", 0600);
  {
    RecordingSink sink;
    lockd::ModeSource modes;
    auto c = make(sink, modes);
    REQUIRE(c->Restore().ok());
    CHECK_FALSE(c->active());
    CHECK(::access((store.path() + ".bad").c_str(), F_OK) == 0);
    REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kAuthorizationRefused});
    CHECK(sink.Field(0, "check") == "unreadable");
  }
}

// Issue 12 item 1: on main, each of these windows was resumed (maintenance, allow-all).
TEST_CASE("controller: a window its authorization does not prove is not resumed") {
  Terminal t;
  m::WindowStore store(t.config.state_dir);
  const m::Window genuine = WindowOf(StartAuthorization(*t.key, 30, t.now - 65), t.now - 60);
  struct Case {
    const char* name;
    std::string text;
    const char* check;
  };
  m::Window longer = genuine;
  longer.end = 4102444800;  // 2100-01-01
  m::Window moved = genuine;
  moved.session = std::string(32, 'c');
  auto stranger = testsupport::NewKey();
  const m::Window foreign = WindowOf(StartAuthorization(*stranger, 30, t.now - 65), t.now - 60);
  const std::vector<Case> cases{
      {"hand-written v1 window ending in 2100",
       "lockd-maintenance-window-v1\nsession: cccccccccccccccccccccccccccccccc\ntoken_id: T\n"
       "holder: H\norganisation: O\nkey_id: d\nstart: 1000\nend: 4102444800\n",
       "no authorization"},
      {"genuine authorization, end moved to 2100", m::SerializeWindow(longer), "window end"},
      {"genuine authorization, another session", m::SerializeWindow(moved), "session"},
      {"signed by a key that is not an anchor", m::SerializeWindow(foreign), "unknown key"},
  };
  REQUIRE(store.Save(genuine).ok());  // creates the directory
  for (const Case& k : cases) {
    CAPTURE(k.name);
    ::unlink((store.path() + ".refused").c_str());
    testsupport::WriteFile(store.path(), k.text, 0600);
    RecordingSink sink;
    lockd::ModeSource modes;
    m::Controller c(t.Options(), modes, sink, *t.databases, t.kernel);
    REQUIRE(c.Restore().ok());
    CHECK_FALSE(c.active());
    CHECK_FALSE(modes.maintenance());
    CHECK(modes.Current(hashdb::Policy{}) == lockd::EffectiveMode::kEnforce);
    REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kAuthorizationRefused});
    CHECK(sink.Field(0, "check") == k.check);
    CHECK(sink.Field(0, "act") == "maintenance_start");
    CHECK(sink.Field(0, "phase") == "resume");
    CHECK(sink.events[0].message.find("not resumed after a restart: " + std::string(k.check)) !=
          std::string::npos);
    // Set aside, not looked at again.
    CHECK(::access(store.path().c_str(), F_OK) != 0);
    CHECK(::access((store.path() + ".refused").c_str(), F_OK) == 0);
  }
  // The genuine one is resumed; a trust dir that cannot be read resumes nothing.
  REQUIRE(store.Save(genuine).ok());
  {
    RecordingSink sink;
    lockd::ModeSource modes;
    auto o = t.Options();
    o.trust_dir = t.dir.Join("no-such-trust-dir");
    m::Controller c(o, modes, sink, *t.databases, t.kernel);
    REQUIRE(c.Restore().ok());
    CHECK_FALSE(c.active());
    CHECK(sink.Field(0, "check") == "trust store");
  }
  REQUIRE(store.Save(genuine).ok());
  RecordingSink sink;
  lockd::ModeSource modes;
  m::Controller c(t.Options(), modes, sink, *t.databases, t.kernel);
  REQUIRE(c.Restore().ok());
  CHECK(c.active());
}

TEST_CASE("authorizer: one use per challenge, bound to the act; refusals recorded") {
  Terminal t;
  RecordingSink sink;
  lockd::Authorizer authz(std::string(32, 'a'), t.config.trust_dir, sink, [&t] { return t.now; });
  const std::string auth = t.Sign(authz.Challenge(hashdb::Act::kMaintenanceStart, "30"), *t.key);
  ControlReply refusal;
  // Wrong act: refused, nonce not consumed.
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceAbort, std::string(), auth, &refusal));
  CHECK(refusal.code == ControlReply::Code::kRefused);
  CHECK(refusal.body.find("act") != std::string::npos);
  REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kAuthorizationRefused});
  CHECK(sink.Field(0, "check") == "wrong act");
  CHECK(sink.Field(0, "act") == "maintenance_abort");
  CHECK(sink.Field(0, "token_id") == "T-0042");
  auto ok = authz.Verify(hashdb::Act::kMaintenanceStart, std::nullopt, auth, &refusal);
  REQUIRE(ok);
  CHECK(ok->authorization.challenge.argument == "30");
  CHECK(ok->key_id_hex == hashdb::ToHex(t.key->public_key().id()));
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceStart, std::nullopt, auth, &refusal));
  CHECK(sink.Field(1, "check") == "replay");
  // Unknown key.
  auto other = testsupport::NewKey();
  const std::string foreign = t.Sign(authz.Challenge(hashdb::Act::kMaintenanceStart, "30"), *other);
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceStart, std::nullopt, foreign, &refusal));
  CHECK(sink.Field(2, "check") == "unknown key");
  // Garbage.
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceStart, std::nullopt, "hello", &refusal));
  CHECK(sink.Field(3, "check") == "malformed");
  // Expired challenge.
  const std::string late = t.Sign(authz.Challenge(hashdb::Act::kMaintenanceAbort, ""), *t.key);
  t.now += lockd::kChallengeLifetimeSeconds;
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceAbort, std::string(), late, &refusal));
  CHECK(sink.Field(4, "check") == "challenge expired");
  // Issue 12 item 2: the challenge text edited before signing (30 minutes asked, 1440 signed).
  auto issued = hashdb::ParseChallenge(authz.Challenge(hashdb::Act::kMaintenanceStart, "30").body,
                                       "challenge");
  REQUIRE(issued.ok());
  hashdb::Challenge longer = *issued;
  longer.argument = "1440";
  auto signed_longer = hashdb::SignChallenge(longer, {"T-0042", "Ada Field", "ACME", ""}, *t.key);
  REQUIRE(signed_longer.ok());
  CHECK_FALSE(authz.Verify(hashdb::Act::kMaintenanceStart, std::nullopt,
                           hashdb::SerializeAuthorization(*signed_longer), &refusal));
  CHECK(refusal.body.find("authorization refused: not as issued: duration") == 0);
  CHECK(sink.Field(5, "check") == "not as issued");
  CHECK(sink.Field(5, "mismatch") == "duration");
}

TEST_CASE("services: finish installs a newer database only, then closes the window") {
  Terminal t;
  RecordingSink sink;
  lockd::ModeSource modes;
  auto services = m::Services::Start(
      t.config, *t.databases, modes, sink, t.kernel, [&t] { return t.now; }, false);
  REQUIRE(services.ok());
  auto& s = **services;
  auto act = [&](hashdb::Act a, const std::string& challenge_arg, const std::string& operand) {
    const std::string auth = t.Sign(s.authorizer().Challenge(a, challenge_arg), *t.key);
    return s.HandleAct({a, operand, auth, ::getpid()});
  };
  CHECK(act(hashdb::Act::kMaintenanceAbort, "", "").body == "not in maintenance\n");
  REQUIRE(act(hashdb::Act::kMaintenanceStart, "10", "").code == ControlReply::Code::kOk);
  CHECK(modes.maintenance());

  // Same generation: refused, old database and window stay.
  const std::string same = t.dir.Join("same.lockdb");
  t.WriteDb(same, 1, {testsupport::EntryFor("/usr/bin/b", "b")});
  auto same_file = m::ReadDatabaseFile(same);
  REQUIRE(same_file.ok());
  auto r = act(hashdb::Act::kMaintenanceFinish, same_file->sha256_hex, same);
  CHECK(r.code == ControlReply::Code::kRefused);
  CHECK(r.body.find("not greater than generation 1") != std::string::npos);
  CHECK(modes.maintenance());
  CHECK(t.databases->Current()->generation() == 1);

  // Authorized for other bytes: refused as "act".
  const std::string next = t.dir.Join("next.lockdb");
  t.WriteDb(next, 2,
            {testsupport::EntryFor("/usr/bin/a", "a2"), testsupport::EntryFor("/usr/bin/b", "b")});
  r = act(hashdb::Act::kMaintenanceFinish, same_file->sha256_hex, next);
  CHECK(r.code == ControlReply::Code::kRefused);
  CHECK(r.body.find("authorization refused: wrong act") == 0);

  auto next_file = m::ReadDatabaseFile(next);
  REQUIRE(next_file.ok());
  r = act(hashdb::Act::kMaintenanceFinish, next_file->sha256_hex, next);
  REQUIRE_MESSAGE(r.code == ControlReply::Code::kOk, r.body);
  CHECK(t.databases->Current()->generation() == 2);
  CHECK_FALSE(modes.maintenance());
  CHECK(Slurp(t.config.database) == Slurp(next));
  CHECK(::access((t.config.database + ".previous").c_str(), F_OK) != 0);
  // maintenance_finish with the diff counts.
  bool found = false;
  for (std::size_t i = 0; i < sink.events.size(); ++i) {
    if (sink.events[i].kind != DaemonEventKind::kMaintenanceFinish) continue;
    found = true;
    CHECK(sink.events[i].db_generation == 2);
    CHECK(sink.Field(i, "previous_generation") == "1");
    CHECK(sink.Field(i, "added") == "1");
    CHECK(sink.Field(i, "changed") == "1");
    CHECK(sink.Field(i, "removed") == "0");
    CHECK(sink.Field(i, "db_sha256") == next_file->sha256_hex);
  }
  CHECK(found);
  // db-install outside maintenance: generation 3 accepted, 3 again refused.
  const std::string third = t.dir.Join("third.lockdb");
  t.WriteDb(third, 3, {});
  auto third_file = m::ReadDatabaseFile(third);
  REQUIRE(third_file.ok());
  CHECK(act(hashdb::Act::kDbInstall, third_file->sha256_hex, third).code ==
        ControlReply::Code::kOk);
  CHECK(t.databases->Current()->generation() == 3);
  CHECK(act(hashdb::Act::kDbInstall, third_file->sha256_hex, third).code ==
        ControlReply::Code::kRefused);
}

TEST_CASE("trust anchors: add needs the authorized key id; the last or in-force one stays") {
  Terminal t;
  const std::string signer = hashdb::ToHex(t.key->public_key().id());
  auto other = testsupport::NewKey();
  const std::string other_id = hashdb::ToHex(other->public_key().id());
  testsupport::WriteFile(t.dir.Join("new.pem"), other->public_key().ToPem());
  CHECK_FALSE(m::AddAnchor(t.config.trust_dir, t.dir.Join("new.pem"), signer).ok());
  auto added = m::AddAnchor(t.config.trust_dir, t.dir.Join("new.pem"), other_id);
  REQUIRE(added.ok());
  CHECK(*added == t.config.trust_dir + "/" + other_id + ".pem");
  CHECK_FALSE(m::AddAnchor(t.config.trust_dir, t.dir.Join("new.pem"), other_id).ok());  // twice
  auto in_force = m::RetireAnchor(t.config.trust_dir, signer, signer);
  REQUIRE_FALSE(in_force.ok());
  CHECK(in_force.error().message.find("database in force") != std::string::npos);
  REQUIRE(m::RetireAnchor(t.config.trust_dir, other_id, signer).ok());
  auto last = m::RetireAnchor(t.config.trust_dir, signer, "");
  REQUIRE_FALSE(last.ok());
  CHECK(last.error().message.find("last trust anchor") != std::string::npos);
  CHECK_FALSE(m::RetireAnchor(t.config.trust_dir, other_id, signer).ok());  // gone
}
