#include "lockd/database_manager.h"

#include "hashdb/trust_store.h"
#include "lockd/os/sealed_copy.h"

namespace lockd {

std::string DescribeDatabase(const hashdb::Database& db) {
  return db.name() + " generation " + std::to_string(db.generation()) + ", " +
         std::to_string(db.digest_count()) + " digests, signer " +
         hashdb::ToHex(db.signer_key_id()).substr(0, 16) + ", mode " +
         std::string(hashdb::ModeName(db.policy().mode));
}

ReloadOutcome DatabaseManager::Reload() {
  ReloadOutcome outcome;
  auto loaded = Load();
  if (!loaded.ok()) {
    outcome.current = Current();
    outcome.message = "reload refused: " + loaded.error().message + "; keeping generation " +
                      std::to_string(outcome.current ? outcome.current->generation() : 0);
    return outcome;
  }
  outcome.loaded = true;
  outcome.current = *loaded;
  outcome.message = "loaded " + DescribeDatabase(**loaded);
  return outcome;
}

DatabaseManager::DatabaseManager(std::string database_path, std::string trust_dir, StateStore state)
    : database_path_(std::move(database_path)),
      trust_dir_(std::move(trust_dir)),
      state_(std::move(state)) {}

void DatabaseManager::SetOnSwap(std::function<void(const hashdb::Database&)> on_swap) {
  std::lock_guard lock(load_mu_);
  on_swap_ = std::move(on_swap);
}

hashdb::Result<std::shared_ptr<const hashdb::Database>> DatabaseManager::Load() {
  std::lock_guard lock(load_mu_);
  auto trust = hashdb::TrustStore::LoadDirectory(trust_dir_);
  if (!trust.ok()) return trust.error();  // names the directory already
  if (trust->keys().empty()) {
    return hashdb::MakeError(hashdb::ErrorCode::kSignature,
                             "trust directory " + trust_dir_ + ": no trust anchors (*.pem)");
  }
  // Verify and use a sealed private copy, never the installed file (see os/sealed_copy.h).
  auto copy = os::SealedCopy(database_path_);
  if (!copy.ok()) return copy.error();
  auto db = hashdb::Database::OpenFd(copy->get(), database_path_, *trust);
  if (!db.ok()) return db.error();
  auto floor = state_.HighestGeneration();
  if (!floor.ok()) return floor.error();
  const std::uint64_t generation = (*db)->generation();
  if (generation < *floor) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             database_path_ + ": generation " + std::to_string(generation) +
                                 " is lower than the highest accepted (" + std::to_string(*floor) +
                                 "); refusing a rollback");
  }
  if (generation > *floor) {
    // Persist the floor before the database takes effect: if this fails, nothing changed.
    auto saved = state_.SetHighestGeneration(generation);
    if (!saved.ok()) return saved.error();
  }
  std::shared_ptr<const hashdb::Database> fresh = *db;
  current_.store(fresh);
  if (on_swap_) on_swap_(*fresh);
  return fresh;
}

}  // namespace lockd
