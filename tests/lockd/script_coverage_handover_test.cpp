// The digest hand-over between the ExecDecider and script coverage (lockd/script_coverage.h):
// the decider's one hash of an exec'd file is what recognises a renamed interpreter at its
// next open; script coverage hashes nothing itself, on the loop thread or off it. Run through
// the event loop over FakeEventKernel, so the script's judgement is the decider's (Judge) and
// leaves one record.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "lockd/event_loop.h"
#include "lockd/script_coverage.h"
#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"
#include "tests/support/lockd/loaded_database.h"

using testsupport::EntryFor;
using testsupport::FakeEventKernel;

namespace {

struct Sink : lockd::DecisionSink {
  std::mutex mu;
  std::vector<lockd::DecisionRecord> records;
  void OnDecision(const lockd::DecisionRecord& r) override {
    std::lock_guard lock(mu);
    records.push_back(r);
  }
  void OnDaemonEvent(const lockd::DaemonEvent&) override {}
};

struct AllMarked : lockd::FilesystemCoverage {
  bool FilesystemMarked(std::uint64_t) const override { return true; }
  bool Untrusted(std::uint64_t) const override { return false; }
  std::string EventPath(int, const std::string& raw) const override { return raw; }
};

constexpr pid_t kPid = 100;

struct Fixture {
  testsupport::TempDir dir;
  testsupport::TempDir proc;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  FakeEventKernel kernel;
  lockd::DecisionCache cache;
  lockd::Stats stats;
  lockd::ModeSource modes;
  Sink sink;
  AllMarked coverage;
  std::unique_ptr<lockd::DatabaseManager> dbs;
  // Where the decider hands its digests (swapped by a test); declared before the decider,
  // which calls it until Shutdown.
  lockd::ScriptCoverage scripts{kernel, &coverage, false};
  std::atomic<lockd::ScriptCoverage*> target{&scripts};
  std::unique_ptr<lockd::ExecDecider> decider;
  std::optional<lockd::os::SignalFd> signals;
  std::unique_ptr<lockd::EventLoop> loop;

  Fixture() {
    hashdb::DatabaseContents c;
    c.generation = 1;
    if (::geteuid() != 0) c.policy.trusted_owners = {static_cast<std::uint32_t>(::geteuid())};
    auto interpreter = EntryFor("/usr/bin/bash", "interpreter content");
    interpreter.interpreter = true;
    c.entries.push_back(interpreter);
    dbs = testsupport::LoadedDatabase(dir, *key, c);
    lockd::ExecDeciderOptions o;
    o.exec_digest = [this](const lockd::FileFacts& facts, const hashdb::Digest& digest) {
      target.load()->NoteDigest(facts, digest);
    };
    decider = std::make_unique<lockd::ExecDecider>(kernel, *dbs, modes, cache, sink, stats, o);
    auto s = lockd::os::SignalFd::Create({SIGUSR2});
    REQUIRE(s.ok());
    signals.emplace(std::move(*s));
    lockd::EventLoopParts parts{kernel, *signals, nullptr, coverage, *decider,
                                cache,  sink,     stats,   [] {},    std::nullopt};
    parts.databases = dbs.get();
    parts.scripts = &scripts;
    loop = std::make_unique<lockd::EventLoop>(std::move(parts));

    // A byte-identical copy of the allowlisted interpreter under another name, told to run
    // "job": a file with no script suffix, no execute bit and no "#!".
    testsupport::WriteFile(dir.Join("innocent"), "interpreter content", 0755);
    testsupport::WriteFile(dir.Join("job"), "echo foreign code\n", 0644);
    testsupport::WriteFile(dir.Join("notes"), "just data\n", 0644);
    kernel.SetProcRoot(proc.path());
    kernel.SetProcess(kPid, dir.Join("innocent"));
    const std::string p = proc.Join(std::to_string(kPid));
    REQUIRE(::mkdir(p.c_str(), 0700) == 0);
    REQUIRE(::symlink(dir.path().c_str(), (p + "/cwd").c_str()) == 0);
    REQUIRE(::symlink("/", (p + "/root").c_str()) == 0);
    using namespace std::string_literals;
    testsupport::WriteFile(p + "/cmdline", "innocent\0job\0"s);
    testsupport::WriteFile(p + "/environ", "PATH=/usr/bin\0"s);
  }
  ~Fixture() { decider->Shutdown(); }

  void Handle(std::uint64_t mask, const std::string& name, std::size_t answers) {
    std::vector<lockd::os::FanotifyEvent> batch;
    batch.push_back(FakeEventKernel::Event(mask, kPid, dir.Join(name)));
    loop->HandleEvents(std::move(batch));
    REQUIRE(kernel.WaitForAnswers(answers));
  }
  bool LastAllowed() const { return kernel.answers().back().allow; }
};

}  // namespace

TEST_CASE("the decider's digest of an exec'd interpreter is script coverage's: one hash") {
  Fixture f;
  // The exec: judged by content (allowlisted), hashed once by the decider.
  f.Handle(FAN_OPEN_EXEC_PERM, "innocent", 1);
  CHECK(f.LastAllowed());
  CHECK(f.stats.hashes.load() == 1);
  CHECK(f.scripts.digests_cached() == 1);

  // Its open of the file its command line names: the opener is an interpreter by the digest
  // handed over (no open, no hash of its executable), so the file is judged, and denied.
  f.Handle(FAN_OPEN_PERM, "job", 2);
  CHECK_FALSE(f.LastAllowed());
  // A data file it was not told to run is allowed from the sniff, unhashed.
  f.Handle(FAN_OPEN_PERM, "notes", 3);
  CHECK(f.LastAllowed());
  f.scripts.HashPending();  // nothing was queued
  CHECK(f.kernel.executable_opens() == 0);
  CHECK(f.scripts.own_hashes() == 0);
  CHECK(f.stats.hashes.load() == 2);  // the interpreter and the job, once each

  // One record, the decider's: the job, a plain open, not in the allowlist (written after the
  // answer: wait for it).
  f.decider->Shutdown();
  std::lock_guard lock(f.sink.mu);
  REQUIRE(f.sink.records.size() == 1);
  CHECK_FALSE(f.sink.records[0].exec);
  CHECK(f.sink.records[0].reason == lockd::Reason::kNotInAllowlist);
}

TEST_CASE("an exec answered from the decision cache hands its digest over too") {
  Fixture f;
  f.Handle(FAN_OPEN_EXEC_PERM, "innocent", 1);
  CHECK(f.stats.hashes.load() == 1);
  // A script coverage that has not seen it (its digest cache was dropped, say).
  lockd::ScriptCoverage fresh(f.kernel, &f.coverage, false);
  f.target = &fresh;
  f.Handle(FAN_OPEN_EXEC_PERM, "innocent", 2);
  CHECK(f.cache.hits() == 1);
  CHECK(f.stats.hashes.load() == 1);
  CHECK(fresh.digests_cached() == 1);
  const auto opener = fresh.Opener(kPid, {"bash"}, f.dbs->Current().get());
  CHECK(opener.interpreter == lockd::Tristate::kYes);
  fresh.HashPending();
  CHECK(fresh.own_hashes() == 0);
  f.target = &f.scripts;
}
