#include "lockd/kernel_cache.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "hashdb/unique_fd.h"
#include "lockd/exec_decider.h"
#include "lockd/os/file_probe.h"
#include "tests/support/db_fixture.h"
#include "tests/support/lockd/fake_event_kernel.h"
#include "tests/support/lockd/loaded_database.h"

using lockd::KernelCache;
using lockd::KernelCacheScope;
using lockd::SuperblockState;

TEST_CASE("kernel_cache setting: the three scopes and nothing else") {
  CHECK(lockd::ParseKernelCacheScope("off") == KernelCacheScope::kOff);
  CHECK(lockd::ParseKernelCacheScope("immutable") == KernelCacheScope::kImmutable);
  CHECK(lockd::ParseKernelCacheScope("read-only") == KernelCacheScope::kReadOnly);
  CHECK_FALSE(lockd::ParseKernelCacheScope("readonly").has_value());
  CHECK_FALSE(lockd::ParseKernelCacheScope("").has_value());
  CHECK(std::string(lockd::KernelCacheScopeName(KernelCacheScope::kReadOnly)) == "read-only");
}

TEST_CASE("a superblock is read-only by its own 'ro' option, not by a look-alike") {
  CHECK(lockd::SuperOptionsReadOnly("ro"));
  CHECK(lockd::SuperOptionsReadOnly("ro,relatime"));
  CHECK_FALSE(lockd::SuperOptionsReadOnly("errors=continue,ro"));  // never the kernel's order
  CHECK_FALSE(lockd::SuperOptionsReadOnly("rw"));
  CHECK_FALSE(lockd::SuperOptionsReadOnly("rw,errors=remount-ro"));
  CHECK_FALSE(lockd::SuperOptionsReadOnly("rw,lowerdir=/ro,upperdir=/u"));
  CHECK_FALSE(lockd::SuperOptionsReadOnly(""));
}

TEST_CASE("which superblocks qualify under each scope") {
  const SuperblockState ext4_ro{1, "ext4", true};
  const SuperblockState ext4_rw{2, "ext4", false};
  const SuperblockState squash{3, "squashfs", true};
  CHECK(lockd::SuperblockQualifies(ext4_ro, KernelCacheScope::kReadOnly));
  CHECK_FALSE(lockd::SuperblockQualifies(ext4_ro, KernelCacheScope::kImmutable));
  CHECK_FALSE(lockd::SuperblockQualifies(ext4_rw, KernelCacheScope::kReadOnly));
  CHECK(lockd::SuperblockQualifies(squash, KernelCacheScope::kImmutable));
  CHECK(lockd::SuperblockQualifies(squash, KernelCacheScope::kReadOnly));
  CHECK_FALSE(lockd::SuperblockQualifies(squash, KernelCacheScope::kOff));
  CHECK(lockd::ImmutableFilesystemType("erofs"));
  CHECK_FALSE(lockd::ImmutableFilesystemType("tmpfs"));
}

TEST_CASE("read-only scope: only filesystems whose content only this kernel writes") {
  // A read-only superblock whose content another machine or the host can change (a virtio-fs
  // or VirtualBox share, a cluster filesystem on a shared disk) raises no event on this one:
  // a mark there would keep allowing bytes lockd never saw. Not network or FUSE by type, so
  // the marker treats them as local.
  for (const char* type : {"virtiofs", "vboxsf", "ocfs2", "hostfs", "orangefs", "coda"}) {
    CAPTURE(type);
    CHECK_FALSE(lockd::SuperblockQualifies({1, type, true}, KernelCacheScope::kReadOnly));
  }
  for (const char* type : {"ext4", "xfs", "btrfs", "f2fs", "vfat", "tmpfs", "erofs"}) {
    CAPTURE(type);
    CHECK(lockd::SuperblockQualifies({1, type, true}, KernelCacheScope::kReadOnly));
  }
}

TEST_CASE("read-only is the superblock's first option: the kernel prints ro or rw first") {
  // A filesystem's own options follow; none of them may pass for the flag.
  CHECK_FALSE(lockd::SuperOptionsReadOnly("rw,relatime,ro"));
}

namespace {

struct OpenFile {
  testsupport::TempDir dir;
  hashdb::UniqueFd fd;
  std::string path;
  explicit OpenFile(const std::string& name = "f") {
    path = dir.Join(name);
    testsupport::WriteFile(path, "content", 0755);
    fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
  }
  // The file's version as if it lived on the superblock with st_dev `dev`.
  lockd::FileFacts On(std::uint64_t dev) const {
    auto facts = lockd::os::StatFd(fd.get());
    REQUIRE(facts.ok());
    facts->dev = dev;
    return *facts;
  }
};

}  // namespace

TEST_CASE("KernelCache: marks only on qualifying superblocks, and flushes when one stops") {
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kReadOnly);
  // What an earlier decider on the same group left is removed first.
  CHECK(kernel.forgets() == 1);
  OpenFile f;
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));  // no table read yet: nothing qualifies
  kc.UpdateSuperblocks({{7, "ext4", true}, {8, "ext4", false}});
  CHECK(kc.Qualifies(7));
  CHECK_FALSE(kc.Qualifies(8));
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(8), kc.Epoch()));
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  REQUIRE(kernel.ignored().size() == 1);
  CHECK(kernel.ignored()[0] == f.path);
  CHECK(kc.counters().standing == 1);

  // The same table again: nothing lost, nothing flushed.
  kc.UpdateSuperblocks({{7, "ext4", true}, {8, "ext4", false}});
  CHECK(kernel.forgets() == 1);
  // Remounted read-write: every mark goes before the update returns, none is placed after.
  kc.UpdateSuperblocks({{7, "ext4", false}, {8, "ext4", false}});
  CHECK(kernel.forgets() == 2);
  CHECK(kernel.ignored().empty());
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK(kc.counters().standing == 0);
  CHECK(kc.counters().files == 1);
  CHECK(kc.counters().flushes == 1);

  // Read-only again, then unmounted (gone from the table): also a flush.
  kc.UpdateSuperblocks({{7, "ext4", true}});
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  kc.UpdateSuperblocks({});
  CHECK(kernel.forgets() == 3);
  CHECK(kernel.ignored().empty());
}

TEST_CASE("KernelCache: a database swap flushes, and an allow judged before it is not marked") {
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kReadOnly);
  kc.UpdateSuperblocks({{7, "squashfs", true}});
  OpenFile f;
  const std::uint64_t before = kc.Epoch();
  CHECK(kc.Offer(f.fd.get(), f.On(7), before));
  kc.OnDatabaseSwap();
  CHECK(kernel.forgets() == 2);
  CHECK(kernel.ignored().empty());
  // Judged against the old database, offered after the swap: refused.
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), before));
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
}

TEST_CASE("KernelCache: after a flush that failed, no mark is ever placed again") {
  // The marks of the old database (or of a superblock that became writable) still stand: the
  // cache must not add to them, whatever the epoch or the superblocks say from then on.
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kReadOnly);
  kc.UpdateSuperblocks({{7, "squashfs", true}});
  OpenFile f;
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  kernel.RefuseFlush(true);
  kc.OnDatabaseSwap();
  CHECK(kc.counters().failures == 1);
  kernel.RefuseFlush(false);
  CHECK_FALSE(kc.Qualifies(7));
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  kc.UpdateSuperblocks({{7, "squashfs", true}});
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK(kc.counters().superblocks == 0);
}

TEST_CASE("KernelCache: the immutable scope leaves read-only ext4 to lockd") {
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kImmutable);
  kc.UpdateSuperblocks({{7, "ext4", true}, {9, "erofs", true}});
  OpenFile f;
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK(kc.Offer(f.fd.get(), f.On(9), kc.Epoch()));
  KernelCache off(kernel, KernelCacheScope::kOff);
  off.UpdateSuperblocks({{9, "erofs", true}});
  CHECK_FALSE(off.Offer(f.fd.get(), f.On(9), off.Epoch()));
}

TEST_CASE("KernelCache: at most max_files marks stand; a refused mark is counted") {
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kReadOnly, 2);
  kc.UpdateSuperblocks({{7, "ext4", true}});
  OpenFile f;
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  kc.OnDatabaseSwap();
  kernel.RefuseIgnoreMarks(true);
  CHECK_FALSE(kc.Offer(f.fd.get(), f.On(7), kc.Epoch()));
  CHECK(kc.counters().failures == 1);
}

namespace {

struct NullSink : lockd::DecisionSink {
  void OnDecision(const lockd::DecisionRecord&) override {}
  void OnDaemonEvent(const lockd::DaemonEvent&) override {}
};

// An ExecDecider with a KernelCache over a fake kernel, the test directory's filesystem
// qualifying as read-only.
struct DeciderFixture {
  testsupport::TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> key = testsupport::NewKey();
  lockd::DecisionCache cache;
  lockd::Stats stats;
  lockd::ModeSource modes;
  NullSink sink;
  testsupport::FakeEventKernel kernel;
  KernelCache kc{kernel, KernelCacheScope::kReadOnly};
  std::unique_ptr<lockd::DatabaseManager> dbs;
  std::unique_ptr<lockd::ExecDecider> decider;
  std::uint64_t dev = 0;

  DeciderFixture() {
    hashdb::DatabaseContents c;
    c.generation = 3;
    if (::geteuid() != 0) c.policy.trusted_owners = {static_cast<std::uint32_t>(::geteuid())};
    c.entries.push_back(testsupport::EntryFor("/good", "good content"));
    auto interpreter = testsupport::EntryFor("/usr/bin/python3", "interpreter content");
    interpreter.interpreter = true;
    c.entries.push_back(interpreter);
    dbs = testsupport::LoadedDatabase(dir, *key, c);
    lockd::ExecDeciderOptions o;
    o.kernel_cache = &kc;
    decider = std::make_unique<lockd::ExecDecider>(kernel, *dbs, modes, cache, sink, stats, o);
    auto facts = lockd::os::StatFd(
        hashdb::UniqueFd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)).get());
    REQUIRE(facts.ok());
    dev = facts->dev;
  }

  // Submits an exec of a file with this content; waits for the answer; returns allow.
  bool Exec(const std::string& name, const std::string& content, bool cache_allowed = true) {
    const std::string path = dir.Join(name);
    if (::access(path.c_str(), F_OK) != 0) testsupport::WriteFile(path, content, 0755);
    lockd::PermissionRequest r;
    r.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(r.fd.valid());
    r.pid = 1234;
    r.exec = true;
    r.facts = lockd::os::StatFd(r.fd.get());
    r.cache_allowed = cache_allowed;
    const std::size_t before = kernel.answers().size();
    decider->Submit(std::move(r));
    REQUIRE(kernel.WaitForAnswers(before + 1));
    return kernel.answers().back().allow;
  }
};

}  // namespace

TEST_CASE("decider: an allowlisted file on a read-only superblock is left to the kernel") {
  DeciderFixture f;
  f.kc.UpdateSuperblocks({{f.dev, "ext4", true}});
  CHECK(f.Exec("good", "good content"));
  f.decider->Shutdown();
  REQUIRE(f.kernel.ignored().size() == 1);
  CHECK(f.kernel.ignored()[0] == f.dir.Join("good"));
}

TEST_CASE("decider: a decision from the cache is left to the kernel too") {
  DeciderFixture f;
  CHECK(f.Exec("good", "good content"));  // cached, superblock not (yet) read-only
  CHECK(f.kernel.ignored().empty());
  f.kc.UpdateSuperblocks({{f.dev, "ext4", true}});
  CHECK(f.Exec("good", "good content"));
  f.decider->Shutdown();
  CHECK(f.cache.hits() == 1);
  CHECK(f.kernel.ignored().size() == 1);
}

TEST_CASE("decider: never a denial, an interpreter, or a writable superblock") {
  DeciderFixture f;
  f.kc.UpdateSuperblocks({{f.dev, "ext4", true}});
  CHECK_FALSE(f.Exec("foreign", "foreign content"));
  CHECK(f.Exec("python3-copy", "interpreter content"));
  f.kc.UpdateSuperblocks({{f.dev, "ext4", false}});
  CHECK(f.Exec("good", "good content"));
  f.decider->Shutdown();
  CHECK(f.kernel.ignored().empty());
}

TEST_CASE(
    "KernelCache: on a writable type only execs are left to the kernel, and a writer ends it") {
  testsupport::FakeEventKernel kernel;
  KernelCache kc(kernel, KernelCacheScope::kReadOnly);
  kc.UpdateSuperblocks({{7, "ext4", true}, {9, "squashfs", true}});
  OpenFile f;
  const lockd::FileFacts v = f.On(7);
  REQUIRE(kc.Offer(f.fd.get(), v, kc.Epoch()));
  CHECK(kernel.ignored() == std::vector<std::string>{f.path});
  CHECK(kernel.ignored_with_opens().empty());  // opens still come to lockd
  // The open that follows each exec: same version, nobody writing: answered at once.
  CHECK(kc.OnOpen(f.fd.get(), v) == KernelCache::OpenVerdict::kAllow);
  // A writer (the kernel counts it before its open's event): the mark goes first.
  kernel.SetWriters(f.path, lockd::WriterState::kPresent);
  CHECK(kc.OnOpen(f.fd.get(), v) == KernelCache::OpenVerdict::kJudge);
  CHECK(kernel.ignored().empty());
  CHECK(kc.counters().unwatched == 1);
  CHECK(kc.OnOpen(f.fd.get(), v) == KernelCache::OpenVerdict::kNotWatched);
  // A writer already there when the mark would be placed: no mark stands.
  CHECK_FALSE(kc.Offer(f.fd.get(), v, kc.Epoch()));
  CHECK(kernel.ignored().empty());
  kernel.SetWriters(f.path, lockd::WriterState::kNone);
  // A changed version (truncate by path clears the kernel's mask, not lockd's watch): judged.
  REQUIRE(kc.Offer(f.fd.get(), v, kc.Epoch()));
  lockd::FileFacts changed = v;
  changed.size += 1;
  CHECK(kc.OnOpen(f.fd.get(), changed) == KernelCache::OpenVerdict::kJudge);
  CHECK(kernel.ignored().empty());
  // An immutable type: opens too, nothing to watch.
  OpenFile g("g");
  REQUIRE(kc.Offer(g.fd.get(), g.On(9), kc.Epoch()));
  CHECK(kernel.ignored_with_opens() == std::vector<std::string>{g.path});
  CHECK(kc.OnOpen(g.fd.get(), g.On(9)) == KernelCache::OpenVerdict::kNotWatched);
}
