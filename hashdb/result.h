#pragma once
// Result<T>: a value or an Error. Our code does not throw; every fallible call returns one of
// these and the caller decides whether to log (libraries never log).

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace hashdb {

enum class ErrorCode {
  kIo,         // a system call failed; errno_value says which
  kFormat,     // bytes are not what the format requires
  kSignature,  // a signature does not verify or the signer is not trusted
  kNotFound,   // something asked for does not exist
  kInvalidArgument,
  kCrypto,    // OpenSSL failed; the message carries its error queue
  kConflict,  // a state check failed (e.g. a lower generation)
  kUnsupported,
};

struct Error {
  ErrorCode code = ErrorCode::kIo;
  std::string message;
  int errno_value = 0;

  // "<context>: <message>", for adding the file or step to an error from below.
  Error Wrap(const std::string& context) const {
    return Error{code, context + ": " + message, errno_value};
  }
};

// Error from the current errno: "<what>: <strerror>".
inline Error ErrnoError(const std::string& what, int err = errno) {
  return Error{ErrorCode::kIo, what + ": " + std::strerror(err), err};
}

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message), 0};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hashdb

// Propagates an error from a Result-returning expression.
#define HASHDB_TRY(expr)                                             \
  do {                                                               \
    auto&& hashdb_try_result_ = (expr);                              \
    if (!hashdb_try_result_.ok()) return hashdb_try_result_.error(); \
  } while (0)
