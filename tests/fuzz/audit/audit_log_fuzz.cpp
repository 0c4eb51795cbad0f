// Fuzz target for the audit log chain verifier (audit/verify.h, VerifyLogs): what `lockctl log
// verify` and `lockctl export verify` conclude from log files an intruder on the terminal may
// have edited. The input is one or more files, split at form feeds (oldest first). Whatever
// the bytes, the verifier comes to a verdict; a chain it accepts is consecutive (as many
// records as seq numbers from the first to the last) and, when asked to start at genesis,
// starts there.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<lockd::audit::LogInput> files;
  for (;;) {
    const std::size_t ff = text.find('\f');
    files.push_back(
        {"audit.jsonl." + std::to_string(files.size()), std::string(text.substr(0, ff))});
    if (ff == std::string_view::npos) break;
    text.remove_prefix(ff + 1);
  }
  for (bool genesis : {false, true}) {
    lockd::audit::VerifyOptions options;
    options.require_genesis = genesis;
    const lockd::audit::VerifyReport r = lockd::audit::VerifyLogs(files, options);
    if (r.broken && r.broken->reason.empty()) __builtin_trap();
    if (!r.ok() || r.records == 0) continue;
    if (r.last_seq < r.first_seq || r.last_seq - r.first_seq + 1 != r.records) __builtin_trap();
    if (genesis && !r.starts_at_genesis) __builtin_trap();
    if (r.head_hash.size() != 64) __builtin_trap();
  }
  return 0;
}
