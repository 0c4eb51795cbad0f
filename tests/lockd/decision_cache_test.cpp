#include "lockd/decision_cache.h"

#include <doctest/doctest.h>

using lockd::CachedJudgement;
using lockd::DecisionCache;
using lockd::FileFacts;
using lockd::Reason;

namespace {
FileFacts Facts(std::uint64_t ino) {
  FileFacts f;
  f.dev = 42;
  f.ino = ino;
  f.size = 1000;
  f.mtime_ns = 111;
  f.ctime_ns = 222;
  f.mode = 0100755;
  return f;
}
CachedJudgement Judged(const FileFacts& f, Reason r = Reason::kAllowlisted) {
  CachedJudgement j;
  j.facts = f;
  j.reason = r;
  j.digest[0] = static_cast<std::uint8_t>(f.ino);
  return j;
}
}  // namespace

TEST_CASE("a judged version is found again; counts hits and misses") {
  DecisionCache cache;
  CHECK_FALSE(cache.Lookup(Facts(1)).has_value());
  CHECK(cache.Insert(Judged(Facts(1)), cache.Begin()));
  auto hit = cache.Lookup(Facts(1));
  REQUIRE(hit.has_value());
  CHECK(hit->reason == Reason::kAllowlisted);
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);
}

TEST_CASE("any metadata change is a miss and drops the entry") {
  auto check_changed = [](auto mutate) {
    DecisionCache cache;
    REQUIRE(cache.Insert(Judged(Facts(1)), cache.Begin()));
    FileFacts now = Facts(1);
    mutate(now);
    CHECK_FALSE(cache.Lookup(now).has_value());
    CHECK(cache.size() == 0);
    // And the old version is not resurrected.
    CHECK_FALSE(cache.Lookup(Facts(1)).has_value());
  };
  check_changed([](FileFacts& f) { f.size += 1; });
  check_changed([](FileFacts& f) { f.mtime_ns += 1; });
  // mtime put back with touch -r: ctime still moves.
  check_changed([](FileFacts& f) { f.ctime_ns += 1; });
  check_changed([](FileFacts& f) { f.mode = 0100644; });
}

TEST_CASE("a write notification drops the entry even when metadata did not change") {
  // The shared-mmap and coarse-timestamp case: facts identical, content changed.
  DecisionCache cache;
  REQUIRE(cache.Insert(Judged(Facts(1)), cache.Begin()));
  REQUIRE(cache.Insert(Judged(Facts(2)), cache.Begin()));
  cache.Invalidate(42, 1);
  CHECK_FALSE(cache.Lookup(Facts(1)).has_value());
  CHECK(cache.Lookup(Facts(2)).has_value());
}

TEST_CASE("a write during the judgement refuses the insert") {
  DecisionCache cache;
  const auto ticket = cache.Begin();
  cache.Invalidate(42, 1);  // the write notification arrives while we hash
  CHECK(cache.InvalidatedSince(42, 1, ticket));
  CHECK_FALSE(cache.Insert(Judged(Facts(1)), ticket));
  CHECK_FALSE(cache.Lookup(Facts(1)).has_value());
  // Another inode is unaffected.
  CHECK_FALSE(cache.InvalidatedSince(42, 2, ticket));
  CHECK(cache.Insert(Judged(Facts(2)), ticket));
  // A write that was applied before the judgement started does not refuse it.
  const auto later = cache.Begin();
  CHECK_FALSE(cache.InvalidatedSince(42, 1, later));
  CHECK(cache.Insert(Judged(Facts(1)), later));
}

TEST_CASE("Clear (database swap) drops entries and judgements in flight") {
  DecisionCache cache;
  REQUIRE(cache.Insert(Judged(Facts(1)), cache.Begin()));
  const auto ticket = cache.Begin();
  cache.Clear();
  CHECK(cache.size() == 0);
  CHECK_FALSE(cache.Insert(Judged(Facts(2)), ticket));
  CHECK(cache.Insert(Judged(Facts(2)), cache.Begin()));
}

TEST_CASE("tombstone overflow refuses every judgement that started before it") {
  DecisionCache cache;
  const auto ticket = cache.Begin();
  for (std::uint64_t i = 0; i < DecisionCache::kMaxTombstones + 10; ++i) {
    cache.Invalidate(7, 1000 + i);
  }
  CHECK_FALSE(cache.Insert(Judged(Facts(1)), ticket));
  CHECK(cache.Insert(Judged(Facts(1)), cache.Begin()));
}

TEST_CASE("read failures and changes while hashing are never cached") {
  DecisionCache cache;
  CHECK_FALSE(cache.Insert(Judged(Facts(1), Reason::kReadFailed), cache.Begin()));
  CHECK_FALSE(cache.Insert(Judged(Facts(1), Reason::kChangedWhileHashing), cache.Begin()));
  CHECK(cache.Insert(Judged(Facts(1), Reason::kNotInAllowlist), cache.Begin()));
}

TEST_CASE("capacity is bounded") {
  DecisionCache cache(4);
  for (std::uint64_t i = 0; i < 100; ++i) CHECK(cache.Insert(Judged(Facts(i)), cache.Begin()));
  CHECK(cache.size() == 4);
}
