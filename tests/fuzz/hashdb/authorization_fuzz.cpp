// Fuzz target for the challenge and authorization text parsers (they take what callers of
// lockd's control socket send). Whatever parses must serialize back to the same text, and
// verification of a parsed authorization must come to a verdict without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/nonce_store.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hashdb::TrustStore trust = fuzzkeys::Trust();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = hashdb::ParseChallenge(text, "fuzz"); c.ok()) {
    auto again = hashdb::ParseChallenge(hashdb::SerializeChallenge(*c), "again");
    if (!again.ok() || hashdb::SerializeChallenge(*again) != hashdb::SerializeChallenge(*c)) {
      __builtin_trap();
    }
  }
  if (auto a = hashdb::ParseAuthorization(text, "fuzz"); a.ok()) {
    const std::string back = hashdb::SerializeAuthorization(*a);
    auto again = hashdb::ParseAuthorization(back, "again");
    if (!again.ok() || hashdb::SerializeAuthorization(*again) != back) __builtin_trap();
    hashdb::MemoryNonceStore nonces;
    (void)nonces.Issue(a->challenge.nonce, a->challenge.expires_at, a->challenge.issued_at,
                       hashdb::SerializeChallenge(a->challenge));
    auto verdict = hashdb::VerifyAuthorization(
        *a,
        {a->challenge.terminal_id, a->challenge.act, a->challenge.argument, a->challenge.issued_at},
        trust, nonces);
    if (verdict.message.empty()) __builtin_trap();
  }
  return 0;
}
