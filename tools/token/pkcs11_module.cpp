#include "tools/token/pkcs11_module.h"

#include <dlfcn.h>

#include <cstdio>
#include <map>
#include <mutex>

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;

std::string CkrName(CK_RV rv) {
  switch (rv) {
#define CKR_CASE(x) \
  case x:           \
    return #x;
    CKR_CASE(CKR_OK)
    CKR_CASE(CKR_HOST_MEMORY)
    CKR_CASE(CKR_SLOT_ID_INVALID)
    CKR_CASE(CKR_GENERAL_ERROR)
    CKR_CASE(CKR_FUNCTION_FAILED)
    CKR_CASE(CKR_ARGUMENTS_BAD)
    CKR_CASE(CKR_ATTRIBUTE_TYPE_INVALID)
    CKR_CASE(CKR_DEVICE_ERROR)
    CKR_CASE(CKR_DEVICE_MEMORY)
    CKR_CASE(CKR_DEVICE_REMOVED)
    CKR_CASE(CKR_FUNCTION_NOT_SUPPORTED)
    CKR_CASE(CKR_KEY_HANDLE_INVALID)
    CKR_CASE(CKR_KEY_TYPE_INCONSISTENT)
    CKR_CASE(CKR_KEY_FUNCTION_NOT_PERMITTED)
    CKR_CASE(CKR_MECHANISM_INVALID)
    CKR_CASE(CKR_OBJECT_HANDLE_INVALID)
    CKR_CASE(CKR_OPERATION_ACTIVE)
    CKR_CASE(CKR_PIN_INCORRECT)
    CKR_CASE(CKR_PIN_INVALID)
    CKR_CASE(CKR_PIN_LEN_RANGE)
    CKR_CASE(CKR_PIN_EXPIRED)
    CKR_CASE(CKR_PIN_LOCKED)
    CKR_CASE(CKR_SESSION_CLOSED)
    CKR_CASE(CKR_SESSION_HANDLE_INVALID)
    CKR_CASE(CKR_TOKEN_NOT_PRESENT)
    CKR_CASE(CKR_TOKEN_NOT_RECOGNIZED)
    CKR_CASE(CKR_USER_ALREADY_LOGGED_IN)
    CKR_CASE(CKR_USER_NOT_LOGGED_IN)
    CKR_CASE(CKR_USER_PIN_NOT_INITIALIZED)
    CKR_CASE(CKR_USER_TYPE_INVALID)
    CKR_CASE(CKR_BUFFER_TOO_SMALL)
    CKR_CASE(CKR_CRYPTOKI_NOT_INITIALIZED)
    CKR_CASE(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef CKR_CASE
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

hashdb::Error Pkcs11Error(const std::string& what, CK_RV rv) {
  std::string hint;
  ErrorCode code = ErrorCode::kIo;
  switch (rv) {
    case CKR_PIN_INCORRECT:
      hint = "wrong PIN";
      code = ErrorCode::kInvalidArgument;
      break;
    case CKR_PIN_LOCKED:
      hint = "the PIN is locked after too many wrong tries; the token must be unblocked";
      code = ErrorCode::kInvalidArgument;
      break;
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_INVALID:
      hint = "the PIN has the wrong length or characters";
      code = ErrorCode::kInvalidArgument;
      break;
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_REMOVED:
      hint = "the token was removed";
      break;
    default:
      break;
  }
  return MakeError(code, what + ": " + (hint.empty() ? "" : hint + " ") + "(" + CkrName(rv) + ")");
}

std::string PaddedField(const unsigned char* field, std::size_t size) {
  std::string s(reinterpret_cast<const char*>(field), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

hashdb::Result<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PKCS#11 module \"" + path + "\": must be an absolute path");
  }
  // One instance per module per process: a second C_Initialize would fail, and finalizing
  // under another user of the module would close its sessions.
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<Pkcs11Module>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = loaded[path].lock()) return existing;
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return MakeError(ErrorCode::kNotFound, "PKCS#11 module " + path + ": cannot load (" +
                                               (why ? why : "unknown error") + ")");
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  CK_FUNCTION_LIST* functions = nullptr;
  if (get_list == nullptr || get_list(&functions) != CKR_OK || functions == nullptr) {
    ::dlclose(handle);
    return MakeError(ErrorCode::kFormat,
                     "PKCS#11 module " + path + ": no usable C_GetFunctionList");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return Pkcs11Error("PKCS#11 module " + path + ": C_Initialize", rv);
  }
  std::shared_ptr<Pkcs11Module> module(new Pkcs11Module(path, handle, functions, rv == CKR_OK));
  loaded[path] = module;
  return module;
}

Pkcs11Module::~Pkcs11Module() {
  if (finalize_) functions_->C_Finalize(nullptr);
  ::dlclose(handle_);
}

}  // namespace lockctl
