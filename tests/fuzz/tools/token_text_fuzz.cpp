// Fuzz target for the token's text inputs: the file token descriptor (token.conf, read from any
// USB stick inserted) and PKCS#11 URIs. Whatever descriptor parses must round-trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/token/pkcs11_uri.h"
#include "tools/token/token_descriptor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = lockctl::ParseTokenDescriptor(text, "fuzz"); d.ok()) {
    const std::string back = lockctl::SerializeTokenDescriptor(*d);
    auto again = lockctl::ParseTokenDescriptor(back, "again");
    if (!again.ok() || lockctl::SerializeTokenDescriptor(*again) != back) __builtin_trap();
  }
  (void)lockctl::ParsePkcs11Uri(text);
  return 0;
}
