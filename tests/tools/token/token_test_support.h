#pragma once
// Helpers shared by the token tests (header-only: tests/tools has no support sources).

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "hashdb/authorization.h"
#include "hashdb/key_protection.h"
#include "hashdb/nonce_store.h"
#include "hashdb/trust_store.h"
#include "tools/token/secret.h"
#include "tools/token/token.h"

namespace tokentest {

// A pipe whose read end yields `secret` and a newline, then EOF: a --passphrase-fd stand-in.
class SecretPipe {
 public:
  explicit SecretPipe(const std::string& secret) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const std::string line = secret + "\n";
    REQUIRE(::write(fds[1], line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~SecretPipe() { ::close(fd_); }
  SecretPipe(const SecretPipe&) = delete;
  SecretPipe& operator=(const SecretPipe&) = delete;
  lockctl::SecretSource source() const { return lockctl::SecretSource{fd_, ""}; }

 private:
  int fd_ = -1;
};

// scrypt parameters for tokens the tests create and unlock many times: 128 KiB, a few
// milliseconds instead of kKeyScrypt's ~0.7 s. Only passed explicitly (FileToken::Create's kdf);
// lockctl itself always uses kKeyScrypt. Tests of the real cost use the default.
inline constexpr hashdb::ScryptParams kCheapKdf{1 << 10, 8, 1};

inline constexpr std::int64_t kNow = 1800000000;  // 2027-01-15
inline const std::string kTerminal = "0123456789abcdef0123456789abcdef";

// Issues a challenge, has token sign it, verifies it against a trust store holding exactly
// the token's key, and returns the verdict.
// The challenge is issued 5 s before now.
inline hashdb::AuthzVerdict SignAndVerify(lockctl::Token& token, std::int64_t now = kNow + 5) {
  hashdb::MemoryNonceStore nonces;
  auto c = hashdb::NewChallenge(kTerminal, hashdb::Act::kMaintenanceStart, "60", now - 5, 300);
  REQUIRE(c.ok());
  REQUIRE(nonces.Issue(c->nonce, c->expires_at, now - 5, hashdb::SerializeChallenge(*c)).ok());
  auto a = hashdb::SignChallenge(*c, token.info(), token);
  REQUIRE(a.ok());
  // Through the text form, as it crosses the control socket.
  auto parsed = hashdb::ParseAuthorization(hashdb::SerializeAuthorization(*a), "socket");
  REQUIRE(parsed.ok());
  auto trust = hashdb::TrustStore::FromKeys({token.public_key()});
  return hashdb::VerifyAuthorization(
      *parsed, {kTerminal, hashdb::Act::kMaintenanceStart, "60", now}, trust, nonces);
}

// mkdir -p of the parent of path (tests build folder trees before writing files).
inline void MakeParents(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ::mkdir(path.substr(0, slash).c_str(), 0755);
  }
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace tokentest
