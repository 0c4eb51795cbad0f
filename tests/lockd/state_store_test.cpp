#include "lockd/state_store.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

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

namespace {
std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("the sysctl record: absent, saved, read back, removed; a bad line is an error") {
  testsupport::TempDir dir;
  lockd::StateStore store(dir.Join("state"));
  auto none = store.SavedSysctls();
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(store.SaveSysctls({{"user.max_user_namespaces", 96367}}).ok());
  auto saved = store.SavedSysctls();
  REQUIRE(saved.ok());
  CHECK(*saved == std::map<std::string, long>{{"user.max_user_namespaces", 96367}});
  CHECK(Slurp(store.SysctlRecordPath()) == "user.max_user_namespaces=96367\n");
  REQUIRE(store.ForgetSysctls().ok());
  CHECK(store.SavedSysctls()->empty());
  REQUIRE(store.ForgetSysctls().ok());  // nothing to remove is fine
  testsupport::WriteFile(store.SysctlRecordPath(), "user.max_user_namespaces=lots\n");
  auto bad = store.SavedSysctls();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("line 1") != std::string::npos);
  testsupport::WriteFile(store.SysctlRecordPath(), "../../etc/x=1\n");
  CHECK_FALSE(store.SavedSysctls().ok());
  CHECK_FALSE(store.SaveSysctls({{"a/b", 1}}).ok());
}
