// The maintenance window, its persistence and end, the learned list, the authorizer, database
// install and trust changes: pure logic with an injected clock, real files in a temp dir.
#include <doctest/doctest.h>
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

m::Window SampleWindow() {
  m::Window w;
  w.session = std::string(32, 'c');
  w.token_id = "T-0042";
  w.holder = "Ada Field";
  w.organisation = "ACME ATM Service";
  w.key_id = std::string(64, 'd');
  w.start = 1000;
  w.end = 1000 + 30 * 60;
  return w;
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
  CHECK(back->holder == "Ada Field");
  CHECK(back->end == w.end);
  std::string text = m::SerializeWindow(w);
  CHECK_FALSE(m::ParseWindow(text.substr(0, text.size() - 1), "w").ok());  // torn
  CHECK_FALSE(m::ParseWindow(text + "extra\n", "w").ok());
  std::string swapped = text;
  swapped.replace(swapped.find("start: 1000"), 11, "start: 9999");  // end <= start
  CHECK_FALSE(m::ParseWindow(swapped, "w").ok());
  auto bad = m::ParseWindow("lockd-maintenance-window-v1\nsession: x\n", "w");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("w:") == 0);
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
  m::LearnedLine l{hashdb::Sha256(std::span<const std::uint8_t>()), m::How::kWrite,
                   "/opt/new\tline\n"};
  const std::string text = m::FormatLearnedLine(l);
  CHECK(text ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\twrite\t"
        "2f6f70742f6e6577096c696e650a\n");
  auto back = m::ParseLearnedLine(text.substr(0, text.size() - 1), "l", 1);
  REQUIRE(back.ok());
  CHECK(back->path == l.path);
  CHECK(back->how == m::How::kWrite);
  CHECK(m::FormatLearnedLine({std::nullopt, m::How::kExec, "/x"}) == "-\texec\t2f78\n");
  CHECK_FALSE(m::ParseLearnedLine("-\tfly\t2f78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\t2F78", "l", 1).ok());
  CHECK_FALSE(m::ParseLearnedLine("-\texec\t78", "l", 1).ok());  // relative

  testsupport::TempDir dir;
  const std::string path = dir.Join("learned");
  {
    auto list = m::LearnedList::Open(path, true);
    REQUIRE(list.ok());
    CHECK(*list->Add({std::nullopt, m::How::kExec, "/a"}));
    CHECK_FALSE(*list->Add({std::nullopt, m::How::kExec, "/a"}));
    CHECK(*list->Add({std::nullopt, m::How::kWrite, "/a"}));
    CHECK(list->count() == 2);
  }
  // A crash tore a line: resuming drops it and keeps deduplicating.
  {
    const std::string before = Slurp(path);
    testsupport::WriteFile(path, before + "-\texec\t2f", 0600);
    auto list = m::LearnedList::Open(path, false);
    REQUIRE(list.ok());
    CHECK(list->count() == 2);
    CHECK_FALSE(*list->Add({std::nullopt, m::How::kWrite, "/a"}));
    CHECK(*list->Add({std::nullopt, m::How::kUpdater, "/b"}));
    auto lines = m::ParseLearnedList(Slurp(path), path);
    REQUIRE(lines.ok());
    CHECK(lines->size() == 3);
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
  m::ControllerOptions o;
  o.state_dir = t.config.state_dir;
  o.now = [&t] { return t.now; };
  o.start_thread = false;
  m::Controller c(o, modes, sink, *t.databases);
  REQUIRE(c.Restore().ok());
  CHECK_FALSE(c.active());
  lockd::Authorized who;
  who.authorization.token = {"T-0042", "Ada Field", "ACME", ""};
  who.key_id_hex = std::string(64, 'e');
  auto reply = c.Start(who, 2);
  REQUIRE(reply.code == ControlReply::Code::kOk);
  CHECK(c.active());
  CHECK(modes.Current(hashdb::Policy{}) == lockd::EffectiveMode::kMaintenance);
  CHECK(c.Start(who, 2).code == ControlReply::Code::kRefused);  // one window at a time
  m::WindowStore store(t.config.state_dir);
  auto saved = store.Load();
  REQUIRE(saved.ok());
  REQUIRE(saved->has_value());
  CHECK((*saved)->end == t.now + 120);
  CHECK((*saved)->token_id == "T-0042");
  REQUIRE(sink.Kinds() == std::vector<DaemonEventKind>{DaemonEventKind::kMaintenanceStart,
                                                       DaemonEventKind::kModeChange});
  CHECK(sink.Field(0, "minutes") == "2");
  CHECK(sink.Field(0, "holder") == "Ada Field");
  CHECK(sink.Field(1, "from") == "enforce");
  CHECK(sink.Field(1, "to") == "maintenance");

  // A would-deny in maintenance is learned once.
  lockd::DecisionRecord r;
  r.verdict = lockd::Verdict::kWouldDeny;
  r.mode = lockd::EffectiveMode::kMaintenance;
  r.path = "/opt/vendor/bin/new";
  r.digest = hashdb::Sha256(std::span<const std::uint8_t>());
  c.OnDecision(r);
  c.OnDecision(r);
  c.Process();
  CHECK(c.learned_count() == 1);
  auto lines = m::ParseLearnedList(Slurp(c.learned_path()), "learned");
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 1);
  CHECK((*lines)[0].path == "/opt/vendor/bin/new");
  CHECK(sink.Kinds().back() == DaemonEventKind::kMaintenanceLearned);
  CHECK(sink.Field(2, "how") == "exec");
  CHECK(sink.Field(2, "sha256") == hashdb::ToHex(*r.digest));

  t.now += 119;
  c.Tick();
  CHECK(c.active());
  t.now += 1;
  c.Tick();
  CHECK_FALSE(c.active());
  CHECK(modes.Current(hashdb::Policy{}) == lockd::EffectiveMode::kEnforce);
  auto kinds = sink.Kinds();
  REQUIRE(kinds.size() == 5);
  CHECK(kinds[3] == DaemonEventKind::kMaintenanceExpired);
  CHECK(kinds[4] == DaemonEventKind::kModeChange);
  CHECK(sink.Field(4, "to") == "enforce");
  auto gone = store.Load();
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  // Closed: nothing more is learned.
  r.path = "/late";
  c.OnDecision(r);
  c.Process();
  CHECK(sink.Kinds().size() == 5);
}

TEST_CASE("controller: a restart inside the window resumes it, after it closes it") {
  Terminal t;
  m::WindowStore store(t.config.state_dir);
  m::Window w = SampleWindow();
  w.start = t.now - 60;
  w.end = t.now + 60;
  REQUIRE(store.Save(w).ok());
  auto make = [&](RecordingSink& sink, lockd::ModeSource& modes) {
    m::ControllerOptions o;
    o.state_dir = t.config.state_dir;
    o.now = [&t] { return t.now; };
    o.start_thread = false;
    return std::make_unique<m::Controller>(o, modes, sink, *t.databases);
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
  w.start = t.now + 3600;
  w.end = t.now + 7200;
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
  }
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
}

TEST_CASE("services: finish installs a newer database only, then closes the window") {
  Terminal t;
  RecordingSink sink;
  lockd::ModeSource modes;
  auto services = m::Services::Start(
      t.config, *t.databases, modes, sink, [&t] { return t.now; }, false);
  REQUIRE(services.ok());
  auto& s = **services;
  auto act = [&](hashdb::Act a, const std::string& challenge_arg, const std::string& operand) {
    const std::string auth = t.Sign(s.authorizer().Challenge(a, challenge_arg), *t.key);
    return s.HandleAct({a, operand, auth});
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
