// The default configuration shipped by the installer and the Debian package
// (installer/lockd.toml) must be accepted by the daemon's parser, and must say what the
// built-in defaults say: installing it changes nothing by itself.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "lockd/config.h"

namespace {

std::string SourceDir() {
  const char* s = std::getenv("LOCKD_SOURCE_DIR");
  return s != nullptr ? s : LOCKD_TEST_SOURCE_DIR;
}

}  // namespace

TEST_CASE("installer/lockd.toml parses and equals the built-in defaults") {
  const std::string path = SourceDir() + "/installer/lockd.toml";
  auto config = lockd::LoadConfig(path);
  REQUIRE_MESSAGE(config.ok(), (config.ok() ? "" : config.error().message));
  const lockd::Config defaults;
  CHECK(config->database == defaults.database);
  CHECK(config->trust_dir == defaults.trust_dir);
  CHECK(config->state_dir == defaults.state_dir);
  CHECK(config->control_socket == defaults.control_socket);
  CHECK(config->workers == defaults.workers);
  CHECK(config->log_level == defaults.log_level);
  CHECK(config->audit_log == defaults.audit_log);
  CHECK(config->syslog_facility == defaults.syslog_facility);
  CHECK_FALSE(config->watch.has_value());
  CHECK(config->trusted_updaters == defaults.trusted_updaters);
  CHECK(config->baseline_roots == defaults.baseline_roots);
  CHECK(config->baseline_excludes == defaults.baseline_excludes);
}
