// Fuzz target for the daemon's text configuration (lockd.toml, lockd/config.h): TOML through
// toml++ and then lockd's own checks. Any bytes are either refused with an error naming the
// source or give a Config that keeps the rules the daemon relies on: every path absolute and
// without NUL, workers within 0..64, a watch list never empty, baseline roots never empty,
// exclude patterns without control characters. No exception may leave ParseConfig.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lockd/config.h"

namespace {

bool Absolute(const std::string& path) {
  return !path.empty() && path[0] == '/' && path.find('\0') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = lockd::ParseConfig(text, "fuzz.toml");
  if (!config.ok()) {
    if (config.error().message.rfind("fuzz.toml", 0) != 0) __builtin_trap();
    return 0;
  }
  const lockd::Config& c = *config;
  for (const std::string* p :
       {&c.database, &c.trust_dir, &c.state_dir, &c.control_socket, &c.audit_log}) {
    if (!Absolute(*p)) __builtin_trap();
  }
  if (c.workers > 64) __builtin_trap();
  if (c.watch) {
    if (c.watch->empty()) __builtin_trap();
    for (const auto& p : *c.watch) {
      if (!Absolute(p)) __builtin_trap();
    }
  }
  if (c.baseline_roots.empty()) __builtin_trap();
  for (const auto& p : c.baseline_roots) {
    if (!Absolute(p)) __builtin_trap();
  }
  for (const auto& p : c.trusted_updaters) {
    if (!Absolute(p)) __builtin_trap();
  }
  for (const auto& pattern : c.baseline_excludes) {
    if (pattern.empty()) __builtin_trap();
    for (unsigned char ch : pattern) {
      if (ch < 0x20 || ch == 0x7f) __builtin_trap();
    }
  }
  return 0;
}
