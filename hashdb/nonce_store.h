#pragma once
// NonceStore: the nonces of the challenges lockd has issued, each usable once, each with the
// challenge it was issued for. An authorization is accepted only if its nonce is in the store
// as issued-and-unused and what it signed is exactly the challenge kept with the nonce (act,
// argument, terminal, validity: hashdb/authorization.h); accepting it marks the nonce used in
// the same atomic step, so a replay is refused even when two requests race. Nonces unknown to
// the store (never issued here, or pruned after expiry) are refused too, so pruning never
// re-opens a replay.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hashdb/result.h"

namespace hashdb {

using Nonce = std::array<std::uint8_t, 32>;

// Hard limit on outstanding (issued, unused, unexpired) nonces: challenges are requested by
// callers of the control socket, so without a bound they could fill memory or the state dir.
// When full, the nonce that expires first is dropped (its challenge can then no longer be
// used; the caller asks for a new one).
inline constexpr std::size_t kMaxOutstandingNonces = 64;
// Longest issued-challenge text kept with a nonce (a serialized challenge is a few hundred
// bytes; hashdb::kMaxAuthorizationText bounds the whole authorization).
inline constexpr std::size_t kMaxIssuedText = 8192;

class NonceStore {
 public:
  enum class State { kUnknown, kIssued, kUsed };
  virtual ~NonceStore() = default;
  // Records nonce as issued, valid until expires_at, with issued: the text of the challenge it
  // was issued for (opaque here; at most kMaxIssuedText bytes, else kInvalidArgument). Prunes
  // entries expired at now.
  virtual Status Issue(const Nonce& nonce, std::int64_t expires_at, std::int64_t now,
                       std::string issued) = 0;
  // The issued text of a nonce that is issued and not yet used; nullopt for a used or unknown
  // one (Consume then says which). Security: the caller compares what was signed with this
  // before consuming, so a nonce issued for one act cannot authorize another.
  virtual Result<std::optional<std::string>> Issued(const Nonce& nonce) = 0;
  // Atomically marks an issued nonce as used and returns the state it had before: kIssued
  // means the caller won and may proceed; kUsed is a replay; kUnknown was never issued here.
  virtual Result<State> Consume(const Nonce& nonce) = 0;
};

// In memory; thread-safe. What lockd uses: challenges live for minutes and need not survive a
// restart, and memory cannot be edited by someone with write access to the state dir.
class MemoryNonceStore : public NonceStore {
 public:
  Status Issue(const Nonce& nonce, std::int64_t expires_at, std::int64_t now,
               std::string issued) override;
  Result<std::optional<std::string>> Issued(const Nonce& nonce) override;
  Result<State> Consume(const Nonce& nonce) override;

 private:
  struct Entry {
    std::int64_t expires_at;
    bool used;
    std::string issued;
  };
  std::mutex mu_;
  std::map<Nonce, Entry> entries_;
};

// Under a directory (e.g. /var/lib/lockd/nonces): issued/<hex> and used/<hex>, each holding
// its expiry on the first line, then the issued text. Consume is one rename(2) with
// RENAME_NOREPLACE, atomic between processes. Security: whoever can write the directory can mint
// "issued" nonces, so it must be writable by lockd only (0700 root, and inside lockd's protected
// paths).
class FileNonceStore : public NonceStore {
 public:
  // Creates dir (0700) and its two subdirectories if missing.
  static Result<std::unique_ptr<FileNonceStore>> Open(const std::string& dir);
  Status Issue(const Nonce& nonce, std::int64_t expires_at, std::int64_t now,
               std::string issued) override;
  Result<std::optional<std::string>> Issued(const Nonce& nonce) override;
  Result<State> Consume(const Nonce& nonce) override;

 private:
  explicit FileNonceStore(std::string dir) : dir_(std::move(dir)) {}
  Status Prune(std::int64_t now);
  std::string dir_;
};

}  // namespace hashdb
