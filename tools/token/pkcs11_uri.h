#pragma once
// The subset of RFC 7512 PKCS#11 URIs lockctl understands, e.g.
//   pkcs11:token=lockd-fe1;object=lockd-sign?module-path=/usr/lib/softhsm/libsofthsm2.so
//   pkcs11:serial=0123abcd;id=%01?module-path=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so&pin-source=file:/run/pin
// Path attributes select the token (token, manufacturer, serial, model, slot-id) and the key
// (object = CKA_LABEL, id = CKA_ID, type = private); query attributes name the module
// (module-path) and where the PIN comes from (pin-source). pin-value is refused: a PIN in a URI
// ends up on a command line. Values are percent-decoded. Unknown attributes are errors.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockctl {

struct Pkcs11Uri {
  std::string token;  // CKA token label; empty: any
  std::string manufacturer;
  std::string serial;
  std::string model;
  std::optional<unsigned long> slot_id;
  std::string object;                           // key label; empty: any
  std::optional<std::vector<std::uint8_t>> id;  // CKA_ID
  std::string module_path;
  std::string pin_source;  // a file path ("file:" prefix removed); empty: ask
};

hashdb::Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri);
bool IsPkcs11Uri(std::string_view spec);  // starts with "pkcs11:"

}  // namespace lockctl
