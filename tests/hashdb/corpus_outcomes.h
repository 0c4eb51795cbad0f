#pragma once
// What the database reader says about each file of a corpus directory and about every
// single-byte flip (xor 0xff) and every truncation of it, as text: one line per run of
// consecutive offsets with the same outcome, "<file> <what> <first>-<last>: <verified> |
// <unverified>", where <verified> is the result of Database::FromBytes against `trust` and
// <unverified> that of FromBytesUnverified ("ok" or the error message). Used to pin the version-1
// reader: the golden text (tests/hashdb/data/v1_corpus_outcomes.txt) was produced by the reader
// before version 2 existed, and the reader of today must say exactly the same.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hashdb/database.h"

namespace testsupport {

inline std::string ReaderOutcome(std::span<const std::uint8_t> bytes,
                                 const hashdb::TrustStore& trust) {
  auto verified = hashdb::Database::FromBytes(bytes, "corpus", trust);
  auto unverified = hashdb::Database::FromBytesUnverified(bytes, "corpus");
  return (verified.ok() ? std::string("ok") : verified.error().message) + " | " +
         (unverified.ok() ? std::string("ok") : unverified.error().message);
}

// Files of dir whose name ends in suffix, sorted by name.
inline std::vector<std::filesystem::path> CorpusFiles(const std::string& dir,
                                                      const std::string& suffix) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::vector<std::uint8_t> ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
}

// Outcomes of one file: as is, every flip, every truncation.
inline std::string FileOutcomes(const std::string& label, const std::vector<std::uint8_t>& bytes,
                                const hashdb::TrustStore& trust) {
  std::string out = label + " as-is: " + ReaderOutcome(bytes, trust) + "\n";
  auto runs = [&](const std::string& what, std::size_t count, auto mutate) {
    std::size_t first = 0;
    std::string current;
    for (std::size_t i = 0; i <= count; ++i) {
      std::string o = i < count ? mutate(i) : std::string();
      if (i > 0 && (i == count || o != current)) {
        out += label + " " + what + " " + std::to_string(first) + "-" + std::to_string(i - 1) +
               ": " + current + "\n";
      }
      if (i == 0 || o != current) {
        first = i;
        current = o;
      }
    }
  };
  runs("flip", bytes.size(), [&](std::size_t i) {
    auto copy = bytes;
    copy[i] ^= 0xff;
    return ReaderOutcome(copy, trust);
  });
  runs("truncate", bytes.size(), [&](std::size_t i) {
    return ReaderOutcome(std::span<const std::uint8_t>(bytes.data(), i), trust);
  });
  return out;
}

}  // namespace testsupport
