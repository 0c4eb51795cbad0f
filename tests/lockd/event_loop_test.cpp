// lockd/event_loop.h: HandleBatch against a fake kernel (no root, no fanotify): own accesses,
// the triage of plain opens, the drain before a cache lookup, overflows, the round limit, and
// events the kernel could not open.
#include "lockd/event_loop.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "lockd/startup_responder.h"
#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"
#include "tests/support/lockd/loaded_database.h"

using testsupport::EntryFor;
using testsupport::FakeEventKernel;

namespace {

struct CountingSink : lockd::DecisionSink {
  std::mutex mu;
  std::vector<lockd::DecisionRecord> records;
  std::vector<lockd::DaemonEventKind> events;
  void OnDecision(const lockd::DecisionRecord& r) override {
    std::lock_guard lock(mu);
    records.push_back(r);
  }
  void OnDaemonEvent(const lockd::DaemonEvent& e) override {
    std::lock_guard lock(mu);
    events.push_back(e.kind);
  }
};

// Every filesystem is filesystem-marked and trusted.
struct AllMarked : lockd::FilesystemCoverage {
  bool FilesystemMarked(std::uint64_t) const override { return true; }
  bool Untrusted(std::uint64_t) const override { return untrusted; }
  bool untrusted = false;  // every filesystem is FUSE or network
  std::string EventPath(int, const std::string& raw) const override { return raw; }
};

void Write(const std::string& path, const std::string& bytes, mode_t mode) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  ::chmod(path.c_str(), mode);
}

// A loadable ELF head (ET_DYN), padded: enough for the sniff.
std::string ElfDyn(const std::string& tail) {
  std::string h =
      "\x7f"
      "ELF";
  h += std::string("\x02\x01\x01", 3) + std::string(9, '\0');
  h += std::string("\x03\x00", 2);  // e_type ET_DYN
  return h + std::string(20, '\0') + tail;
}

struct Fixture {
  testsupport::TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  FakeEventKernel kernel;
  lockd::DecisionCache cache;
  lockd::Stats stats;
  lockd::ModeSource modes;
  CountingSink sink;
  AllMarked coverage;
  std::unique_ptr<lockd::DatabaseManager> dbs;
  std::unique_ptr<lockd::ExecDecider> decider;
  std::optional<lockd::os::SignalFd> signals;
  std::unique_ptr<lockd::EventLoop> loop;

  Fixture() {
    hashdb::DatabaseContents c;
    c.generation = 1;
    c.entries.push_back(EntryFor("/prog", "allowlisted program"));
    c.entries.push_back(EntryFor("/lib.so", ElfDyn("allowlisted library")));
    dbs = testsupport::LoadedDatabase(dir, *key, c);
    decider = std::make_unique<lockd::ExecDecider>(kernel, *dbs, modes, cache, sink, stats,
                                                   lockd::ExecDeciderOptions{});
    auto s = lockd::os::SignalFd::Create({SIGUSR2});
    REQUIRE(s.ok());
    signals.emplace(std::move(*s));
    lockd::EventLoopParts parts{kernel, *signals, nullptr, coverage, *decider,
                                cache,  sink,     stats,   [] {},    std::nullopt};
    parts.databases = dbs.get();
    loop = std::make_unique<lockd::EventLoop>(std::move(parts));
  }
  ~Fixture() { decider->Shutdown(); }

  std::string File(const std::string& name, const std::string& bytes, mode_t mode = 0755) {
    Write(dir.Join(name), bytes, mode);
    return dir.Join(name);
  }
  // Handles one batch and waits for the decider's answers (n in all, counting earlier ones).
  void Handle(std::vector<lockd::os::FanotifyEvent> batch, std::size_t answers) {
    loop->HandleEvents(std::move(batch));
    REQUIRE(kernel.WaitForAnswers(answers));
  }
  bool LastAllowed() const { return kernel.answers().back().allow; }
};

std::vector<lockd::os::FanotifyEvent> One(lockd::os::FanotifyEvent ev) {
  std::vector<lockd::os::FanotifyEvent> v;
  v.push_back(std::move(ev));
  return v;
}

}  // namespace

TEST_CASE("lockd's own accesses are allowed at once, never judged") {
  Fixture f;
  const auto path = f.File("foreign", "not in the allowlist");
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, ::getpid(), path)), 1);
  CHECK(f.LastAllowed());
  CHECK(f.stats.own_events.load() == 1);
  CHECK(f.stats.hashes.load() == 0);
}

TEST_CASE("execs are judged: allowlisted content runs, foreign content is denied") {
  Fixture f;
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, f.File("a", "allowlisted program"))),
           1);
  CHECK(f.LastAllowed());
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, f.File("b", "foreign program"))), 2);
  CHECK_FALSE(f.LastAllowed());
}

TEST_CASE("plain opens are triaged: data is allowed from the sniff, a loadable ELF is judged") {
  Fixture f;
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 100, f.File("data.txt", "hello", 0644))), 1);
  CHECK(f.LastAllowed());
  CHECK(f.stats.opens_allowed_by_sniff.load() == 1);
  CHECK(f.stats.hashes.load() == 0);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 100, f.File("evil.so", ElfDyn("evil"), 0644))),
           2);
  CHECK_FALSE(f.LastAllowed());
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 100,
                                      f.File("good.so", ElfDyn("allowlisted library"), 0644))),
           3);
  CHECK(f.LastAllowed());
  CHECK(f.stats.hashes.load() == 2);
}

TEST_CASE("a write closed just before the writer probe is applied before the cache lookup") {
  Fixture f;
  const auto path = f.File("prog", "allowlisted program");
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 1);
  REQUIRE(f.LastAllowed());
  REQUIRE(f.cache.size() == 1);
  // The file is rewritten with foreign bytes of the same length and its metadata looks the
  // same (coarse timestamps, a write through a shared mapping): only the writer's
  // FAN_CLOSE_WRITE, queued behind the exec, says it changed.
  auto old_facts = f.kernel.Stat(FakeEventKernel::Event(0, 0, path).fd.get());
  REQUIRE(old_facts.ok());
  Write(path, "forEIGN program!!!!", 0755);
  f.kernel.SetFacts(path, *old_facts);
  f.kernel.Queue(FAN_CLOSE_WRITE, 200, path);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 2);
  CHECK_FALSE(f.LastAllowed());  // hashed again, not answered from the stale entry
  CHECK(f.cache.hits() == 0);
  CHECK(f.stats.hashes.load() == 2);
}

TEST_CASE("without a proven drain the cache is not used") {
  Fixture f;
  const auto path = f.File("prog", "allowlisted program");
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 1);
  f.kernel.SetWriters(path, lockd::WriterState::kPresent);  // someone has it open for writing
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 2);
  CHECK(f.LastAllowed());
  CHECK(f.cache.hits() == 0);
  CHECK(f.stats.hashes.load() == 2);
  f.kernel.SetWriters(path, lockd::WriterState::kNone);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 3);
  CHECK(f.cache.hits() == 1);
}

TEST_CASE("a queue overflow is counted and reported") {
  Fixture f;
  lockd::os::FanotifyEvent ev;
  ev.mask = FAN_Q_OVERFLOW;
  f.loop->HandleEvents(One(std::move(ev)));
  CHECK(f.stats.queue_overflows.load() == 1);
  std::lock_guard lock(f.sink.mu);
  REQUIRE(f.sink.events.size() == 1);
  CHECK(f.sink.events[0] == lockd::DaemonEventKind::kQueueOverflow);
}

TEST_CASE("an event the kernel could not open is not answered (the kernel denied it)") {
  Fixture f;
  lockd::os::FanotifyEvent ev;
  ev.mask = FAN_OPEN_PERM;
  ev.pid = 100;
  ev.open_error = EWOULDBLOCK;
  f.loop->HandleEvents(One(std::move(ev)));
  CHECK(f.kernel.answers().empty());
  CHECK(f.stats.unopenable_denied.load() == 1);
}

TEST_CASE("under an endless flood a batch ends after the round limit, every event answered") {
  Fixture f;
  const auto path = f.File("prog", "allowlisted program");
  // Every read the loop makes finds one more exec queued, as under an exec storm.
  f.kernel.OnRead([&] { f.kernel.Queue(FAN_OPEN_EXEC_PERM, 100, path); });
  f.loop->HandleEvents(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)));
  // One drain read per round but the last, which is decided without the cache.
  CHECK(f.kernel.reads() == lockd::EventLoop::kMaxRounds - 1);
  REQUIRE(f.kernel.WaitForAnswers(lockd::EventLoop::kMaxRounds));
  for (const auto& a : f.kernel.answers()) CHECK(a.allow);
}

TEST_CASE("the startup responder allows our own accesses and hands the others over in order") {
  FakeEventKernel kernel;
  testsupport::TempDir dir;
  Write(dir.Join("mine"), "x", 0644);
  Write(dir.Join("theirs"), "y", 0755);
  Write(dir.Join("late"), "z", 0755);
  kernel.Queue(FAN_OPEN_PERM, ::getpid(), dir.Join("mine"));
  kernel.Queue(FAN_OPEN_EXEC_PERM, 100, dir.Join("theirs"));
  kernel.Queue(FAN_CLOSE_WRITE, 101, dir.Join("theirs"));
  lockd::StartupResponder responder(kernel, std::chrono::milliseconds(60000));
  REQUIRE(kernel.WaitForAnswers(1));
  CHECK(kernel.answers()[0].path == dir.Join("mine"));
  CHECK(kernel.answers()[0].allow);
  for (int i = 0; i < 200 && kernel.queued() > 0; ++i) ::usleep(10000);
  auto held = responder.Stop();
  REQUIRE(held.size() == 2);
  CHECK(held[0].pid == 100);
  CHECK(held[0].is_exec_permission());
  CHECK(held[1].is_write_notification());
  CHECK(kernel.answers().size() == 1);  // the held exec is the loop's to answer
  CHECK(responder.counts().own_allowed == 1);
}

TEST_CASE("the startup responder denies what waited longer than its limit") {
  FakeEventKernel kernel;
  testsupport::TempDir dir;
  Write(dir.Join("theirs"), "y", 0755);
  kernel.Queue(FAN_OPEN_EXEC_PERM, 100, dir.Join("theirs"));
  lockd::StartupResponder responder(kernel, std::chrono::milliseconds(50));
  REQUIRE(kernel.WaitForAnswers(1, 3000));
  CHECK_FALSE(kernel.answers()[0].allow);
  CHECK(responder.Stop().empty());
  CHECK(responder.counts().denied_late == 1);
}

TEST_CASE("an exec of something that is not a regular file is denied as such, unread") {
  Fixture f;
  const auto path = f.File("dev", "allowlisted program");
  auto facts = f.kernel.Stat(FakeEventKernel::Event(0, 0, path).fd.get());
  REQUIRE(facts.ok());
  facts->mode = S_IFCHR | 0755;  // what fstat says of a device node
  f.kernel.SetFacts(path, *facts);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, path)), 1);
  CHECK_FALSE(f.LastAllowed());
  CHECK(f.stats.hashes.load() == 0);
  f.decider->Shutdown();
  std::lock_guard lock(f.sink.mu);
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].reason == lockd::Reason::kNotRegularFile);
}

TEST_CASE("an exec from an untrusted filesystem is denied unread, even when allowlisted") {
  Fixture f;
  f.coverage.untrusted = true;  // deny_untrusted_fs is on by default
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 100, f.File("a", "allowlisted program"))),
           1);
  CHECK_FALSE(f.LastAllowed());
  CHECK(f.stats.hashes.load() == 0);
  f.decider->Shutdown();
  std::lock_guard lock(f.sink.mu);
  REQUIRE(f.sink.records.size() == 1);
  CHECK(f.sink.records[0].reason == lockd::Reason::kUntrustedFilesystem);
}

TEST_CASE("the open the kernel raises after an allowed exec is allowed without judging it again") {
  Fixture f;
  const std::string prog = f.File("prog", "allowlisted program");
  const std::string lib = f.File("lib.so", ElfDyn("allowlisted library"));
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 4242, prog)), 1);
  CHECK(f.LastAllowed());
  // The exec's own open: answered at once, not triaged or looked up.
  const std::uint64_t lookups = f.cache.hits() + f.cache.misses();
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4242, prog)), 2);
  CHECK(f.LastAllowed());
  CHECK(f.stats.opens_of_allowed_execs.load() == 1);
  CHECK(f.cache.hits() + f.cache.misses() == lookups);
  // Used once: the same process opening its program again is judged like any open.
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4242, prog)), 3);
  CHECK(f.stats.opens_of_allowed_execs.load() == 1);
  // Another process, or another file, never pairs with that exec.
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 4243, prog)), 4);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4244, prog)), 5);
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4243, lib)), 6);
  CHECK(f.stats.opens_of_allowed_execs.load() == 1);
}

TEST_CASE("after an allowed exec, an open of a changed file version is judged") {
  Fixture f;
  const std::string prog = f.File("prog", "allowlisted program");
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 4242, prog)), 1);
  CHECK(f.LastAllowed());
  // Rewritten between the two events (same inode, new content and times): judged, denied.
  f.File("prog", ElfDyn("foreign code"));
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4242, prog)), 2);
  CHECK_FALSE(f.LastAllowed());
  CHECK(f.stats.opens_of_allowed_execs.load() == 0);
}

TEST_CASE("a refused exec leaves nothing for its open to pair with") {
  Fixture f;
  const std::string foreign = f.File("foreign", ElfDyn("foreign code"));
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_EXEC_PERM, 4242, foreign)), 1);
  CHECK_FALSE(f.LastAllowed());
  f.Handle(One(FakeEventKernel::Event(FAN_OPEN_PERM, 4242, foreign)), 2);
  CHECK_FALSE(f.LastAllowed());
  CHECK(f.stats.opens_of_allowed_execs.load() == 0);
}
