#include "tests/support/lockd/loaded_database.h"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <string>

#include "lockd/state_store.h"

namespace testsupport {

std::unique_ptr<lockd::DatabaseManager> LoadedDatabase(const TempDir& dir, hashdb::PrivateKey& key,
                                                       const hashdb::DatabaseContents& contents) {
  REQUIRE(::mkdir(dir.Join("trust").c_str(), 0700) == 0);
  WriteFile(dir.Join("trust/a.pem"), key.public_key().ToPem());
  const auto bytes = BuildBytes(contents, key);
  WriteFile(dir.Join("db"), std::string(bytes.begin(), bytes.end()));
  auto dbs = std::make_unique<lockd::DatabaseManager>(dir.Join("db"), dir.Join("trust"),
                                                      lockd::StateStore(dir.Join("state")));
  REQUIRE(dbs->Load().ok());
  return dbs;
}

}  // namespace testsupport
