#include "lockd/state_store.h"

#include <doctest/doctest.h>

#include "tests/support/db_fixture.h"

TEST_CASE("highest generation: 0 when absent, persisted, and a bad file is an error") {
  testsupport::TempDir dir;
  lockd::StateStore store(dir.Join("state"));  // created on first write
  auto g0 = store.HighestGeneration();
  REQUIRE(g0.ok());
  CHECK(*g0 == 0);
  REQUIRE(store.SetHighestGeneration(41).ok());
  auto g1 = store.HighestGeneration();
  REQUIRE(g1.ok());
  CHECK(*g1 == 41);
  REQUIRE(store.SetHighestGeneration(1ULL << 40).ok());
  CHECK(*store.HighestGeneration() == (1ULL << 40));

  testsupport::WriteFile(store.GenerationPath(), "garbage\n");
  auto bad = store.HighestGeneration();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find(store.GenerationPath()) == 0);
  testsupport::WriteFile(store.GenerationPath(), "");
  CHECK_FALSE(store.HighestGeneration().ok());
}
