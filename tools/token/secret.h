#pragma once
// Passphrases and PINs. They come from a prompt on the controlling terminal with echo off,
// from a file descriptor (scripts, tests) or from a file; never from the command line, where
// every user could read them in /proc/PID/cmdline.

#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockctl {

// A secret string that is wiped (OPENSSL_cleanse) when destroyed. Move-only.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret();
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {}
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  const std::string& value() const { return value_; }

 private:
  std::string value_;
};

struct SecretSource {
  int fd = -1;       // >= 0: read the first line from this descriptor (not closed)
  std::string file;  // else, if set: read the first line of this file
  // else: prompt on /dev/tty with echo off
};

// Longest secret accepted; longer input is an error rather than silently cut.
inline constexpr std::size_t kMaxSecretSize = 1024;

// Reads one secret; the trailing newline is not part of it. An empty secret is an error.
// prompt is shown only when asking on the terminal; confirm asks twice and compares.
hashdb::Result<Secret> ReadSecret(const SecretSource& source, std::string_view prompt,
                                  bool confirm = false);

}  // namespace lockctl
