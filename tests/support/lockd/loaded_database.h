#pragma once
// A lockd::DatabaseManager for the event-path tests: `contents` signed by `key`, written to
// <dir>/db with the key's public key as the only trust anchor (<dir>/trust/a.pem), state in
// <dir>/state, loaded (REQUIRE). Tests that reload write a new <dir>/db.

#include <memory>

#include "hashdb/keys.h"
#include "hashdb/writer.h"
#include "lockd/database_manager.h"
#include "tests/support/db_fixture.h"

namespace testsupport {

std::unique_ptr<lockd::DatabaseManager> LoadedDatabase(const TempDir& dir, hashdb::PrivateKey& key,
                                                       const hashdb::DatabaseContents& contents);

}  // namespace testsupport
