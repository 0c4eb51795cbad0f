#include "tools/token/secret.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include "hashdb/unique_fd.h"

namespace lockctl {

using hashdb::Error;
using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;

Secret::~Secret() { OPENSSL_cleanse(value_.data(), value_.size()); }

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(value_.data(), value_.size());
    value_ = std::move(other.value_);
  }
  return *this;
}

namespace {

// Reads up to the first newline, one byte at a time so nothing after it is consumed (a
// script may send the passphrase and more on one descriptor).
Result<Secret> ReadLine(int fd, const std::string& what) {
  Secret line;
  std::string buf;
  for (;;) {
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      OPENSSL_cleanse(buf.data(), buf.size());
      return hashdb::ErrnoError("reading the secret from " + what);
    }
    if (n == 0 || c == '\n') break;
    if (buf.size() >= kMaxSecretSize) {
      OPENSSL_cleanse(buf.data(), buf.size());
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": secret longer than " + std::to_string(kMaxSecretSize) + " bytes");
    }
    buf.push_back(c);
  }
  if (!buf.empty() && buf.back() == '\r') buf.pop_back();
  if (buf.empty()) return MakeError(ErrorCode::kInvalidArgument, what + ": empty secret");
  return Secret(std::move(buf));
}

Result<Secret> Prompt(int tty, std::string_view prompt) {
  struct termios old_attr;
  if (::tcgetattr(tty, &old_attr) != 0) return hashdb::ErrnoError("tcgetattr /dev/tty");
  struct termios quiet = old_attr;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  // Echo off before the prompt appears, so nothing typed after it is ever shown.
  if (::tcsetattr(tty, TCSAFLUSH, &quiet) != 0) return hashdb::ErrnoError("tcsetattr /dev/tty");
  if (::write(tty, prompt.data(), prompt.size()) < 0) {
    Error e = hashdb::ErrnoError("write /dev/tty");
    ::tcsetattr(tty, TCSANOW, &old_attr);
    return e;
  }
  auto secret = ReadLine(tty, "the terminal");
  ::tcsetattr(tty, TCSANOW, &old_attr);
  return secret;
}

}  // namespace

Result<Secret> ReadSecret(const SecretSource& source, std::string_view prompt, bool confirm) {
  if (source.fd >= 0) return ReadLine(source.fd, "file descriptor " + std::to_string(source.fd));
  if (!source.file.empty()) {
    hashdb::UniqueFd fd(::open(source.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return hashdb::ErrnoError("open " + source.file);
    return ReadLine(fd.get(), source.file);
  }
  hashdb::UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!tty.valid()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no terminal to ask for the secret on; pass it with --passphrase-fd / "
                     "--pin-fd or a file");
  }
  auto first = Prompt(tty.get(), prompt);
  if (!first.ok() || !confirm) return first;
  auto second = Prompt(tty.get(), "Repeat to confirm: ");
  if (!second.ok()) return second;
  if (first->value() != second->value()) {
    return MakeError(ErrorCode::kInvalidArgument, "the two entries do not match");
  }
  return first;
}

}  // namespace lockctl
