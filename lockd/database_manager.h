#pragma once
// The database in force, and the only way to replace it.
//
// Load() takes a sealed private copy of the configured file (an in-place overwrite of the
// installed file never changes the database in force), verifies it against the trust directory
// (re-read on every load, so a retired anchor stops being trusted at the next reload) and refuses a
// generation lower than the highest ever accepted (StateStore). Only then is it swapped in
// atomically and the new floor persisted. On any refusal the database in force stays in force.
//
// Thread-safety: Current() is lock-free-ish (std::atomic<shared_ptr>) and may be called from
// every worker; a decision holds its shared_ptr for its whole duration, so a swap never
// changes the database under an in-flight decision. Load() calls are serialised.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "hashdb/database.h"
#include "hashdb/result.h"
#include "lockd/state_store.h"

namespace lockd {

// "<name> generation N, D digests, signer <16 hex>, mode <mode>": how logs and status name a
// database.
std::string DescribeDatabase(const hashdb::Database& db);

// What a reload did (DatabaseManager::Reload).
struct ReloadOutcome {
  bool loaded = false;  // the file was accepted and is now in force
  // "loaded <DescribeDatabase>" or "reload refused: <why>; keeping generation N".
  std::string message;
  // The database in force afterwards (the new one, or the old one kept; null if none ever was).
  std::shared_ptr<const hashdb::Database> current;
};

class DatabaseManager {
 public:
  DatabaseManager(std::string database_path, std::string trust_dir, StateStore state);

  // Verifies the file and, if acceptable, makes it current. Returns the database now in force
  // (the new one) or the reason it was refused (the old one stays).
  hashdb::Result<std::shared_ptr<const hashdb::Database>> Load();

  // Load for a running daemon (SIGHUP, `lockctl reload`): the same checks, and what happened in
  // words. A refusal keeps the database in force; never throws, never logs.
  ReloadOutcome Reload();

  // nullptr before the first successful Load.
  std::shared_ptr<const hashdb::Database> Current() const { return current_.load(); }

  // Called after every swap, with the new database (used to flush the decision cache).
  void SetOnSwap(std::function<void(const hashdb::Database&)> on_swap);

  const std::string& database_path() const { return database_path_; }
  const std::string& trust_dir() const { return trust_dir_; }

 private:
  const std::string database_path_;
  const std::string trust_dir_;
  const StateStore state_;
  std::mutex load_mu_;
  std::function<void(const hashdb::Database&)> on_swap_;
  std::atomic<std::shared_ptr<const hashdb::Database>> current_;
};

}  // namespace lockd
