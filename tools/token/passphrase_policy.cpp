#include "tools/token/passphrase_policy.h"

#include <algorithm>
#include <array>
#include <set>
#include <vector>

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;

namespace {

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Lower-cased, with "@" and "$" read as the letters they stand for, and every other ASCII
// character that is not a letter or digit (blanks, punctuation) dropped. Non-ASCII bytes are
// kept as they are.
std::string Compact(std::string_view text) {
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '@') {
      out.push_back('a');
    } else if (c == '$') {
      out.push_back('s');
    } else if (c >= 0x80 || IsAsciiAlnum(c)) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
    }
  }
  return out;
}

// Digits read as the letters they commonly replace ("p4ssw0rd").
std::string UndoDigitSubstitutions(std::string s) {
  for (char& c : s) {
    switch (c) {
      case '0':
        c = 'o';
        break;
      case '1':
        c = 'i';
        break;
      case '3':
        c = 'e';
        break;
      case '4':
        c = 'a';
        break;
      case '5':
        c = 's';
        break;
      case '7':
        c = 't';
        break;
      default:
        break;
    }
  }
  return s;
}

std::string StripDigits(std::string_view s, bool leading, bool trailing) {
  std::size_t begin = 0, end = s.size();
  while (leading && begin < end && IsDigit(s[begin])) ++begin;
  while (trailing && end > begin && IsDigit(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

// s is some shorter unit repeated at least twice.
bool IsRepetition(std::string_view s) {
  for (std::size_t unit = 1; unit <= s.size() / 2; ++unit) {
    if (s.size() % unit != 0) continue;
    bool repeats = true;
    for (std::size_t i = unit; i < s.size() && repeats; ++i) repeats = s[i] == s[i - unit];
    if (repeats) return true;
  }
  return false;
}

// s lies on a straight run of a keyboard row, the alphabet or the digits, either way.
bool IsStraightRun(std::string_view s) {
  static constexpr std::array<std::string_view, 6> kRuns = {
      "abcdefghijklmnopqrstuvwxyz", "01234567890123456789",
      "qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm",
      "azertyuiopqsdfghjklmwxcvbn", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
  };
  for (std::string_view run : kRuns) {
    std::string reversed(run.rbegin(), run.rend());
    if (run.find(s) != std::string_view::npos || reversed.find(s) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool IsCommon(const std::string& s) {
  auto list = CommonPasswords();
  return !s.empty() && std::binary_search(list.begin(), list.end(), std::string_view(s));
}

// The words of the context a guesser would try first, compacted, longest first.
std::vector<std::string> ContextWords(const PassphraseContext& context) {
  std::set<std::string> words{"lockd", Compact(context.token_id), Compact(context.holder),
                              Compact(context.organisation)};
  auto split = [&](std::string_view text, std::size_t min_size) {
    std::string word;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      auto c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
      if (c >= 0x80 || IsAsciiAlnum(c)) {
        word.push_back(static_cast<char>(c));
      } else if (!word.empty()) {
        if (word.size() >= min_size) words.insert(Compact(word));
        word.clear();
      }
    }
  };
  split(context.holder, 2);
  split(context.organisation, 3);
  words.erase("");
  std::vector<std::string> sorted(words.begin(), words.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return sorted;
}

// s holds at least one context word, and nothing is left once they and the digits are taken
// out.
bool OnlyContext(std::string s, const PassphraseContext& context) {
  bool found = false;
  for (const auto& word : ContextWords(context)) {
    for (std::size_t at; (at = s.find(word)) != std::string::npos; found = true) {
      s.erase(at, word.size());
    }
  }
  std::erase_if(s, IsDigit);
  return found && s.empty();
}

}  // namespace

hashdb::Status CheckNewPassphrase(std::string_view passphrase, const PassphraseContext& context) {
  auto refuse = [](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, "passphrase refused: " + why);
  };
  std::size_t chars = 0;
  std::set<char32_t> distinct;
  for (std::size_t i = 0; i < passphrase.size(); ++i) {
    auto c = static_cast<unsigned char>(passphrase[i]);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    ++chars;
    distinct.insert(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (chars < kMinPassphraseChars) {
    return refuse("shorter than " + std::to_string(kMinPassphraseChars) +
                  " characters; a phrase of several unrelated words is both longer and easier "
                  "to remember");
  }
  if (distinct.size() < 5) return refuse("fewer than 5 different characters");
  const std::string compact = Compact(passphrase);
  if (IsRepetition(compact)) return refuse("it repeats one word or sequence");
  if (OnlyContext(compact, context)) {
    return refuse(
        "made of the holder's name, the organisation, the token id or \"lockd\" "
        "(with digits or symbols), which an attacker tries first");
  }
  const std::array<std::string, 4> variants = {compact, StripDigits(compact, false, true),
                                               StripDigits(compact, true, false),
                                               StripDigits(compact, true, true)};
  for (const auto& v : variants) {
    if (v.size() >= 3 && IsStraightRun(v)) {
      return refuse("a straight run of keys or letters (with digits around it)");
    }
  }
  for (const auto& v : variants) {
    if (IsCommon(v) || IsCommon(UndoDigitSubstitutions(v))) {
      return refuse(
          "one of the most common passwords (lockctl's built-in list), or one with "
          "digits, symbols or letter substitutions added; an attacker tries those "
          "first");
    }
  }
  return {};
}

}  // namespace lockctl
