#pragma once
// A loaded and initialized PKCS#11 (Cryptoki) module: dlopen + C_GetFunctionList +
// C_Initialize, undone in reverse on destruction. Shared by the token objects using it.

#include <memory>
#include <string>

#include <p11-kit-1/p11-kit/pkcs11.h>

#include "hashdb/result.h"

namespace lockctl {

class Pkcs11Module {
 public:
  // Loads the module at path (an absolute path: modules run inside lockctl as root, so a
  // relative path searched for by the loader is refused). Initializes it with OS locking.
  static hashdb::Result<std::shared_ptr<Pkcs11Module>> Load(const std::string& path);
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  CK_FUNCTION_LIST* f() const { return functions_; }
  const std::string& path() const { return path_; }

 private:
  Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST* functions, bool finalize)
      : path_(std::move(path)), handle_(handle), functions_(functions), finalize_(finalize) {}
  std::string path_;
  void* handle_;
  CK_FUNCTION_LIST* functions_;
  bool finalize_;  // false if the module was already initialized by someone else
};

// "CKR_PIN_INCORRECT" etc. (hex for codes not in the table).
std::string CkrName(CK_RV rv);
// "<what>: CKR_..." as an Error (kIo for device errors, kInvalidArgument for PIN problems).
hashdb::Error Pkcs11Error(const std::string& what, CK_RV rv);
// A fixed-size, blank-padded PKCS#11 text field without the padding.
std::string PaddedField(const unsigned char* field, std::size_t size);

}  // namespace lockctl
