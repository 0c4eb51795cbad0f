#include "lockd/tty_notice.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "hashdb/unique_fd.h"
#include "lockd/os/process_info.h"
#include "lockd/os/tty.h"
#include "tests/support/db_fixture.h"

using lockd::DecisionRecord;
using lockd::TtyNoticeLimiter;
using lockd::TtyNoticeSink;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

DecisionRecord Deny(std::string path, std::uint64_t tty) {
  DecisionRecord r;
  r.verdict = lockd::Verdict::kDeny;
  r.reason = lockd::Reason::kNotInAllowlist;
  r.path = std::move(path);
  r.tty_nr = tty;
  hashdb::Digest d{};
  d[0] = 0xab;
  d[1] = 0x12;
  r.digest = d;
  return r;
}

// A real pseudo-terminal pair: the master end, and the slave's device number and path.
struct Pty {
  hashdb::UniqueFd master{-1};
  hashdb::UniqueFd slave{-1};
  std::uint64_t tty_nr = 0;
  bool ok = false;
  Pty() {
    master = hashdb::UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master.valid() || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return;
    const char* name = ::ptsname(master.get());
    if (name == nullptr) return;
    // Keep the slave open so its output is buffered for the master to read.
    slave = hashdb::UniqueFd(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!slave.valid() || ::fstat(slave.get(), &st) != 0) return;
    tty_nr = st.st_rdev;
    ok = true;
  }
  // What the terminal shows, after waiting up to `ms` for the first bytes.
  std::string Read(int ms) {
    std::string out;
    pollfd p{master.get(), POLLIN, 0};
    while (::poll(&p, 1, ms) == 1 && (p.revents & POLLIN)) {
      char buf[4096];
      ssize_t n = ::read(master.get(), buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      ms = 50;
    }
    return out;
  }
};

}  // namespace

TEST_CASE("the notice names the path, the reason in words and a short digest") {
  auto line = lockd::FormatTtyNotice(Deny("/tmp/x", 1));
  CHECK(line ==
        "lockd: blocked /tmp/x (not in the allowlist; sha256 ab1200000000...); see lockctl log "
        "show\r\n");
  DecisionRecord r = Deny("/tmp/y", 1);
  r.digest.reset();
  r.reason = lockd::Reason::kReadFailed;
  CHECK(lockd::FormatTtyNotice(r) ==
        "lockd: blocked /tmp/y (could not be read); see lockctl log show\r\n");
  CHECK(lockd::FormatTtySummary(49) == "lockd: ... and 49 more blocked; see lockctl log show\r\n");
}

TEST_CASE("a hostile file name cannot reach the terminal as control bytes") {
  std::string evil = "/tmp/\x1b]0;owned\x07\x1b[2J\r\nlockd: allowed\x9b";
  evil += std::string(4000, 'a');
  auto line = lockd::FormatTtyNotice(Deny(evil, 1));
  REQUIRE(line.size() > 2);
  CHECK(line.substr(line.size() - 2) == "\r\n");
  for (std::size_t i = 0; i + 2 < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    CHECK_MESSAGE((c >= 0x20 && c < 0x7f), "byte ", int(c), " at ", i);
  }
  CHECK(line.find("\\x1b]0;owned\\x07") != std::string::npos);
  CHECK(line.size() < 512 * 4 + 200);  // the path is cut
}

TEST_CASE("limiter: one line per interval per terminal, the rest summarised once") {
  TtyNoticeLimiter lim(milliseconds(1000), 8);
  const nanoseconds t0 = milliseconds(5000);
  CHECK(lim.Admit(7, t0));
  for (int i = 0; i < 49; ++i) CHECK_FALSE(lim.Admit(7, t0 + milliseconds(i)));
  // Another terminal is limited on its own.
  CHECK(lim.Admit(8, t0 + milliseconds(10)));
  CHECK(lim.NextDue() == t0 + milliseconds(1000));
  CHECK(lim.TakeDue(t0 + milliseconds(999)).empty());
  auto due = lim.TakeDue(t0 + milliseconds(1000));
  REQUIRE(due.size() == 1);
  CHECK(due[0].tty == 7);
  CHECK(due[0].count == 49);
  CHECK(lim.NextDue() == nanoseconds::max());
  // The summary was terminal 7's line: the next denial within the interval is counted.
  CHECK_FALSE(lim.Admit(7, t0 + milliseconds(1500)));
  CHECK(lim.Admit(7, t0 + milliseconds(2000)));
  // Terminal 8's interval passed: its next denial is shown.
  CHECK(lim.Admit(8, t0 + milliseconds(1100)));
}

TEST_CASE("limiter: the number of terminals is bounded; idle ones are forgotten") {
  TtyNoticeLimiter lim(milliseconds(1000), 2);
  CHECK(lim.Admit(1, milliseconds(0)));
  CHECK(lim.Admit(2, milliseconds(0)));
  CHECK_FALSE(lim.Admit(3, milliseconds(10)));
  CHECK(lim.refused() == 1);
  CHECK(lim.Admit(3, milliseconds(1000)));  // 1 and 2 are idle now
  CHECK(lim.tracked() <= 2);
}

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<std::int64_t>> ns = std::make_shared<std::atomic<std::int64_t>>(0);
  std::function<nanoseconds()> fn() const {
    return [n = ns] { return nanoseconds(n->load()); };
  }
  void Set(milliseconds t) const { ns->store(nanoseconds(t).count()); }
};

// Waits (10 s at most) for cond.
template <typename F>
bool WaitFor(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

TEST_CASE("sink: only denials with a terminal are queued; the queue is bounded") {
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::string>> lines;
  std::atomic<bool> release{false};
  FakeClock clock;
  TtyNoticeSink::Options o;
  o.queue_capacity = 4;
  o.interval = milliseconds(100);
  o.now = clock.fn();
  o.write = [&](std::uint64_t tty, std::string_view text) -> hashdb::Status {
    while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
    std::lock_guard lock(mu);
    lines.emplace_back(tty, std::string(text));
    return {};
  };
  auto sink = TtyNoticeSink::Start(o);
  DecisionRecord would = Deny("/a", 3);
  would.verdict = lockd::Verdict::kWouldDeny;
  sink->OnDecision(would);
  sink->OnDecision(Deny("/b", 0));
  // The writer blocks on its first line; the caller never waits: the queue holds 4, the
  // rest are dropped and counted.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) sink->OnDecision(Deny("/c" + std::to_string(i), 3));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(sink->dropped() >= 15);
  release = true;
  REQUIRE(WaitFor([&] { return sink->processed() + sink->dropped() == 20; }));
  clock.Set(milliseconds(100));  // the summary falls due
  REQUIRE(WaitFor([&] {
    std::lock_guard lock(mu);
    return lines.size() >= 2;
  }));
  const auto dropped = sink->dropped();
  sink.reset();
  std::lock_guard lock(mu);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].first == 3);
  CHECK(lines[0].second.find("lockd: blocked /c0 ") == 0);
  CHECK(lines[1].second == lockd::FormatTtySummary(19 - dropped));
}

TEST_CASE("a real pseudo-terminal gets the line; a regular file posing as one does not") {
  Pty pty;
  REQUIRE(pty.ok);
  CHECK(major(static_cast<dev_t>(pty.tty_nr)) == 136);
  CHECK(lockd::os::TtyDevicePath(pty.tty_nr) ==
        "/dev/pts/" + std::to_string(minor(static_cast<dev_t>(pty.tty_nr))));
  auto st = lockd::os::WriteToTerminal(pty.tty_nr, "hello\r\n");
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  CHECK(pty.Read(2000).find("hello") != std::string::npos);

  testsupport::TempDir dir;
  REQUIRE(::mkdir(dir.Join("pts").c_str(), 0755) == 0);
  const std::string fake = dir.Join("pts/" + std::to_string(minor(static_cast<dev_t>(pty.tty_nr))));
  testsupport::WriteFile(fake, "");
  auto refused = lockd::os::WriteToTerminal(pty.tty_nr, "x", dir.path());
  CHECK_FALSE(refused.ok());
  struct stat fs {};
  REQUIRE(::stat(fake.c_str(), &fs) == 0);
  CHECK(fs.st_size == 0);
  CHECK(lockd::os::TtyDevicePath(0).empty());
  CHECK(lockd::os::TtyDevicePath(makedev(1, 3)).empty());  // /dev/null is no terminal
  CHECK(lockd::os::TtyDevicePath(makedev(4, 1)) == "/dev/tty1");
  CHECK(lockd::os::TtyDevicePath(makedev(4, 65)) == "/dev/ttyS1");
  CHECK_FALSE(lockd::os::WriteToTerminal(makedev(1, 3), "x").ok());
}

TEST_CASE("a notice written while the shell writes to the same terminal still arrives") {
  // Issue 12 item 8: the denied shell prints its own "Operation not permitted" at the moment
  // lockd writes the notice. While one process is inside a write to a terminal, the kernel
  // refuses a non-blocking write by another at once (EAGAIN, the terminal's write lock), and
  // the notice was lost (one run in three of the end-to-end test). Here the other writer is a
  // blocking write bigger than the pty's buffer: it holds the lock until the master reads.
  Pty pty;
  REQUIRE(pty.ok);
  const std::string big(256 * 1024, 'x');
  std::atomic<bool> shell_done{false};
  std::thread shell([&] {
    std::size_t off = 0;
    while (off < big.size()) {
      const ssize_t n = ::write(pty.slave.get(), big.data() + off, big.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    shell_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the shell is blocked, writing
  REQUIRE_FALSE(shell_done.load());
  std::string out;
  std::thread terminal([&] {
    // The person's terminal reads a moment later, as a terminal emulator does.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.find("lockd: notice") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      out += pty.Read(50);
    }
  });
  const auto st = lockd::os::WriteToTerminal(pty.tty_nr, "lockd: notice\r\n");
  terminal.join();
  shell.join();
  CHECK_MESSAGE(st.ok(), st.error().message);
  CHECK(out.find("lockd: notice\r") != std::string::npos);  // whole (ONLCR adds a \r)
}

TEST_CASE("a terminal that takes nothing loses the notice after the patience, not later") {
  Pty pty;
  REQUIRE(pty.ok);
  // Fill the pty's buffer (nobody reads the master): the notice cannot be written.
  ::fcntl(pty.slave.get(), F_SETFL, O_NONBLOCK);
  const std::string chunk(4096, 'y');
  // The kernel moves the slave's output to the master's side in the background: fill until a
  // write finds no room even after a pause.
  for (int round = 0; round < 50; ++round) {
    while (::write(pty.slave.get(), chunk.data(), chunk.size()) > 0) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto st = lockd::os::WriteToTerminal(pty.tty_nr, "lockd: lost\r\n", "/dev",
                                             std::chrono::milliseconds(100));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(st.ok());
  CHECK(elapsed >= std::chrono::milliseconds(100));
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("sink end to end on a real pseudo-terminal: a burst prints a bounded number of lines") {
  Pty pty;
  REQUIRE(pty.ok);
  FakeClock clock;
  TtyNoticeSink::Options o;
  o.now = clock.fn();
  auto sink = TtyNoticeSink::Start(o);
  for (int i = 0; i < 50; ++i) sink->OnDecision(Deny("/burst/" + std::to_string(i), pty.tty_nr));
  REQUIRE(WaitFor([&] { return sink->processed() == 50; }));
  clock.Set(milliseconds(1000));
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.find("more blocked") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    out += pty.Read(100);
  }
  sink.reset();
  out += pty.Read(100);
  CHECK(out.find("lockd: blocked /burst/0 (not in the allowlist") != std::string::npos);
  CHECK(out.find("/burst/1 ") == std::string::npos);
  std::size_t lines = 0;
  for (std::size_t p = 0; (p = out.find("lockd: ", p)) != std::string::npos; ++p) ++lines;
  CHECK(lines == 2);
  CHECK(out.find("and 49 more blocked") != std::string::npos);
}

TEST_CASE("process facts: tty_nr from /proc/<pid>/stat, even with a hostile comm") {
  testsupport::TempDir dir;
  REQUIRE(::mkdir(dir.Join("77").c_str(), 0700) == 0);
  testsupport::WriteFile(dir.Join("77/stat"), "77 (a) b) 4 c) S 1 77 77 34817 77 4194560 0\n");
  CHECK(lockd::os::ReadProcessFacts(77, dir.path()).tty_nr == 34817);
  testsupport::WriteFile(dir.Join("77/stat"), "77 (x) S 1 77 77 0 -1 4194560\n");
  CHECK(lockd::os::ReadProcessFacts(77, dir.path()).tty_nr == 0);
  // A process that made a pseudo-terminal its controlling terminal shows it in tty_nr.
  Pty pty;
  REQUIRE(pty.ok);
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::setsid() < 0 || ::ioctl(pty.slave.get(), TIOCSCTTY, 0) != 0) ::_exit(1);
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();  // until the parent kills it
  }
  ::close(ready[1]);
  char c = 0;
  CHECK(::read(ready[0], &c, 1) == 1);
  CHECK(lockd::os::ReadProcessFacts(child).tty_nr == pty.tty_nr);
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}
