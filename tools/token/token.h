#pragma once
// Token: what a field engineer carries to authorize privileged acts on a terminal. Two kinds,
// one interface: a file token (a LOCKD-TOKEN folder on a USB stick holding a
// passphrase-encrypted key) and a PKCS#11 token (smart card, PIV key, HSM) whose key never
// leaves it. Both are a hashdb::Signer plus what the token says about itself.

#include <string>

#include "hashdb/authorization.h"
#include "hashdb/keys.h"

namespace lockctl {

class Token : public hashdb::Signer {
 public:
  // Token id, holder, organisation, not-after; signed into every authorization.
  virtual const hashdb::TokenInfo& info() const = 0;
  // For messages: "file token /media/usb/LOCKD-TOKEN", "PKCS#11 token \"lockd\" (slot 3)".
  virtual std::string Describe() const = 0;
};

}  // namespace lockctl
