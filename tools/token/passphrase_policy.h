#pragma once
// What a new file-token passphrase must be (token create, token rekey). The passphrase is the
// only protection of a lost stick's key against offline guessing (docs/threat-model.md, "A
// lost token stick"), and guessing starts with the most common passwords and the holder's own
// name, so those are refused outright. Existing tokens still open with whatever passphrase they
// have: the policy applies when a passphrase is chosen, never when one is typed to unlock.

#include <span>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockctl {

// Shortest new passphrase, in characters (UTF-8 code points). Twelve, not eight: with
// kKeyScrypt an attacker with one high-end GPU tries on the order of a thousand guesses a
// second, and eight-character passwords people choose fall to dictionary-and-rules attacks of
// 10^9..10^10 candidates, i.e. within days to months; the same people pick phrases of
// several words when asked for twelve, which such lists do not reach.
inline constexpr std::size_t kMinPassphraseChars = 12;

// What the passphrase must not be made of, besides the built-in list.
struct PassphraseContext {
  std::string holder;        // "Hanako Suzuki"
  std::string organisation;  // "ACME ATM Services"
  std::string token_id;      // 32 hex digits
};

// Ok, or a kInvalidArgument error saying which rule the passphrase breaks (never quoting it).
// Refused: fewer than kMinPassphraseChars characters; fewer than 5 different characters; a
// word or phrase repeated ("lockdlockd", "abcabcabcabc"); a straight run on the keyboard or in
// the alphabet ("qwertyuiopas", "abcdefghijkl"); a built-in common password, compared without
// case, separators, digits or symbols before and after it, and with common letter
// substitutions undone ("P@ssw0rd-2024!" is "password"); only the holder's name,
// organisation, token id or "lockd" with digits or symbols around them ("Suzuki.Hanako.1985").
hashdb::Status CheckNewPassphrase(std::string_view passphrase, const PassphraseContext& context);

// The built-in list: lower-case, sorted, no separators. Written for lockd from the passwords
// that lead every published survey of leaked password sets (sequences, "password" and its
// variants, keyboard walks, names, sports teams, words of affection), plus the words of this
// trade ("maintenance", "fieldengineer", "atm", "lockd"). Short entries matter too: digits and
// symbols around a list entry do not make it a new passphrase.
std::span<const std::string_view> CommonPasswords();

}  // namespace lockctl
