#include "tools/token/passphrase_policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using lockctl::CheckNewPassphrase;
using lockctl::PassphraseContext;

namespace {

const PassphraseContext kContext{"Hanako Suzuki", "ACME ATM Services",
                                 "5f0c3b7e9a1d4c2b8e6f0a1b2c3d4e5f"};

// The refusal message for passphrase, or "" when it is accepted.
std::string Why(const std::string& passphrase) {
  auto s = CheckNewPassphrase(passphrase, kContext);
  return s.ok() ? "" : s.error().message;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the built-in list: a few hundred lower-case entries, sorted, no duplicates") {
  auto list = lockctl::CommonPasswords();
  CHECK(list.size() >= 300);
  CHECK(std::is_sorted(list.begin(), list.end()));
  CHECK(std::adjacent_find(list.begin(), list.end()) == list.end());
  for (std::string_view w : list) {
    INFO(w);
    CHECK(std::all_of(w.begin(), w.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }));
  }
}

TEST_CASE("accepted: phrases of several words, long random strings") {
  for (const char* ok : {"correct horse battery staple", "field-engineer-passphrase",
                         "Hanako walks to Kyoto station", "x7#Rt!q9Lm2$vB", "mañana será otro día",
                         "auditor passphrase", "lockd on the night bus"}) {
    INFO(ok);
    CHECK(Why(ok) == "");
  }
}

TEST_CASE("refused: too short, counting characters rather than bytes") {
  CHECK(Contains(Why("Tr0ub4dor&3"), "shorter than 12 characters"));  // 11
  CHECK(Contains(Why("éééééééééèè"), "shorter than 12 characters"));  // 22 bytes, 11 characters
  CHECK(Why("Tr0ub4dor&3x") == "");
}

TEST_CASE("refused: common passwords, whatever the case, separators, digits and substitutions") {
  for (const char* weak :
       {"password1234", "PASSWORD1234", "Password2024!", "P@ssw0rd-2024!", "p4ssw0rd12345",
        "iloveyou1234", "I love you 1234", "2024sunshine!!", "monkey123456", "welcome12345",
        "Maintenance2025", "fieldengineer1", "changeme!!!!!", "letmein12345", "trustno1trustno1"}) {
    INFO(weak);
    const std::string why = Why(weak);
    CHECK(why != "");
    // The message never quotes the passphrase.
    CHECK_FALSE(Contains(why, weak));
  }
  CHECK(Contains(Why("Password2024!"), "one of the most common passwords"));
}

TEST_CASE("refused: repetitions, runs, too few different characters") {
  CHECK(Contains(Why("lockdlockdlockd"), "repeats"));
  CHECK(Contains(Why("LOCKD-lockd-LoCkD"), "repeats"));
  CHECK(Contains(Why("abcdefabcdef"), "repeats"));
  CHECK(Contains(Why("aaaaaaaaaaaaaaab"), "fewer than 5 different characters"));
  CHECK(Contains(Why("qwertyuiopasd"), "straight run"));
  CHECK(Contains(Why("abcdefghijklm"), "straight run"));
  CHECK(Contains(Why("1234567890123"), "straight run"));
  CHECK(Contains(Why("zyxwvutsrqpo"), "straight run"));
  CHECK(Contains(Why("1qaz2wsx3edc4rfv"), "straight run"));
  CHECK(Contains(Why("asdfghjkl2024"), "straight run"));
}

TEST_CASE("refused: the holder's name, the organisation, the token id, lockd") {
  for (const char* weak :
       {"Hanako Suzuki", "hanakosuzuki", "Suzuki.Hanako.1985", "HANAKO1985!!", "Acme ATM Services",
        "acme-services-2024", "5f0c3b7e9a1d4c2b8e6f0a1b2c3d4e5f", "lockd hanako 2024",
        "lockd12345678"}) {
    INFO(weak);
    CHECK(Contains(Why(weak), "the holder's name, the organisation, the token id"));
  }
  // The name inside a real phrase is fine.
  CHECK(Why("Hanako walks to Kyoto station") == "");
}
