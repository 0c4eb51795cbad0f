#include "lockd/config.h"

#include <doctest/doctest.h>

#include "tests/support/db_fixture.h"

using lockd::ParseConfig;

TEST_CASE("defaults when the file is empty") {
  auto c = ParseConfig("", "lockd.toml");
  REQUIRE(c.ok());
  CHECK(c->database == "/var/lib/lockd/allowlist.lockdb");
  CHECK(c->trust_dir == "/etc/lockd/trust");
  CHECK(c->state_dir == "/var/lib/lockd");
  CHECK(c->control_socket == "/run/lockd/control.sock");
  CHECK_FALSE(c->watch.has_value());
  CHECK(c->EffectiveWorkers() >= 2);
}

TEST_CASE("every key") {
  auto c = ParseConfig(R"(
database = "/x/db.lockdb"
trust_dir = "/x/trust"
state_dir = "/x/state"
control_socket = "/x/ctl.sock"
workers = 3
log_level = "debug"
watch = ["/mnt/a", "/mnt/b"]
)",
                       "lockd.toml");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  CHECK(c->database == "/x/db.lockdb");
  CHECK(c->trust_dir == "/x/trust");
  CHECK(c->state_dir == "/x/state");
  CHECK(c->control_socket == "/x/ctl.sock");
  CHECK(c->workers == 3);
  CHECK(c->EffectiveWorkers() == 3);
  CHECK(c->log_level == lockd::LogLevel::kDebug);
  REQUIRE(c->watch.has_value());
  CHECK(c->watch->size() == 2);
  CHECK((*c->watch)[1] == "/mnt/b");
}

TEST_CASE("kernel_cache: read-only by default, immutable or off when asked") {
  auto d = lockd::ParseConfig("", "lockd.toml");
  REQUIRE(d.ok());
  CHECK(d->kernel_cache == lockd::KernelCacheScope::kReadOnly);
  auto i = lockd::ParseConfig("kernel_cache = \"immutable\"\n", "lockd.toml");
  REQUIRE(i.ok());
  CHECK(i->kernel_cache == lockd::KernelCacheScope::kImmutable);
  auto o = lockd::ParseConfig("kernel_cache = \"off\"\n", "lockd.toml");
  REQUIRE(o.ok());
  CHECK(o->kernel_cache == lockd::KernelCacheScope::kOff);
}

TEST_CASE("bad files are refused with file, line and reason") {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"database = \"/a\"\nmode = \"audit\"\n", "lockd.toml:2: unknown key 'mode'"},
      {"\n\nworkers = \"four\"\n", "lockd.toml:3: workers: expected an integer"},
      {"kernel_cache = \"on\"\n",
       "lockd.toml:1: kernel_cache: expected \"read-only\", \"immutable\" or \"off\""},
      {"kernel_cache = false\n",
       "lockd.toml:1: kernel_cache: expected \"read-only\", \"immutable\" or \"off\""},
      {"workers = 1000\n", "lockd.toml:1: workers"},
      {"workers = -1\n", "lockd.toml:1: workers"},
      {"database = \"relative/path\"\n", "lockd.toml:1: database: expected an absolute path"},
      {"trust_dir = 5\n", "lockd.toml:1: trust_dir: expected a string"},
      {"log_level = \"loud\"\n", "lockd.toml:1: log_level"},
      {"watch = \"/mnt\"\n", "lockd.toml:1: watch: expected an array"},
      {"watch = []\n", "lockd.toml:1: watch: an empty list"},
      {"watch = [\"/ok\", \"no\"]\n", "lockd.toml:1: watch: expected an absolute path"},
      {"database = \n", "lockd.toml:1:"},
      {"[section]\nkey = 1\n", "lockd.toml:1: unknown key 'section'"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.text, "lockd.toml");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().message.find(c.expect) == 0);
  }
}

TEST_CASE("LoadConfig names the file when it cannot be read") {
  testsupport::TempDir dir;
  auto missing = lockd::LoadConfig(dir.Join("nope.toml"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find(dir.Join("nope.toml")) == 0);
  testsupport::WriteFile(dir.Join("lockd.toml"), "workers = 2\nbogus = 1\n");
  auto bad = lockd::LoadConfig(dir.Join("lockd.toml"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find(dir.Join("lockd.toml") + ":2: unknown key 'bogus'") == 0);
}
