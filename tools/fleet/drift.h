#pragma once
// Baseline drift across a fleet: which terminals' allowlists differ from the rest of the
// terminals built from the same golden image, and how (digests added and removed).
//
// A database *variant* is a distinct set of allowed contents (SHA-256 digests): two terminals
// whose databases allow exactly the same digests share a variant, whatever their generation,
// creation time or paths. Variants are put in *image groups*: a variant joins the group whose
// reference (the group's first variant) it resembles most, when it shares at least half of
// the union of their digests (Jaccard index >= 0.5); otherwise it starts a group of its own.
// Terminals built from one golden image and changed by local maintenance stay far above that
// threshold; a terminal of another model, with other software, starts its own group.
//
// Memory (the fleet report streams thousands of bundles): each group keeps its reference's
// digests (one path each); every other variant only its difference from the reference, which
// for drift is small. Nothing is kept per terminal here. At most kMaxImageGroups groups are
// kept; a variant that matches none of them when the limit is reached is counted as
// unmatched and its difference is not computed (the report says so).

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "hashdb/digest.h"

namespace lockctl::fleet {

// A digest of a database and one path with that content (the first in path order), for
// people reading the report.
struct DigestPath {
  hashdb::Digest digest{};
  std::string path;
};

// Why 64: a bank runs a handful of terminal models and images; more groups than this means the
// bundles are not a fleet of a few images and a drift comparison would say nothing.
inline constexpr std::size_t kMaxImageGroups = 64;
inline constexpr std::uint32_t kUnmatched = 0xffffffffu;

struct DigestChange {
  std::vector<DigestPath> added;    // in the variant, not in the one compared with
  std::vector<DigestPath> removed;  // in the one compared with, not in the variant
};

class DriftIndex {
 public:
  // The variant id for this digest set (sorted by digest, no duplicates: a database's digest
  // table). The same set always gives the same id. Ids are dense, from 0.
  std::uint32_t Add(std::span<const DigestPath> digests);

  std::size_t variant_count() const { return variants_.size(); }
  std::size_t group_count() const { return groups_.size(); }
  // The image group of a variant, or kUnmatched.
  std::uint32_t GroupOf(std::uint32_t variant) const { return variants_[variant].group; }
  // Number of digests of a variant.
  std::size_t SizeOf(std::uint32_t variant) const { return variants_[variant].size; }
  // SHA-256 over the variant's sorted digests, hex: names the allowed-content set.
  const std::string& FingerprintOf(std::uint32_t variant) const {
    return variants_[variant].fingerprint;
  }

  // What `variant` allows that `base` does not (added) and what `base` allows that `variant`
  // does not (removed), sorted by digest. Both must be in the same group (else empty).
  DigestChange Diff(std::uint32_t variant, std::uint32_t base) const;

 private:
  struct Variant {
    std::string fingerprint;
    std::size_t size = 0;
    std::uint32_t group = kUnmatched;
    DigestChange from_reference;  // relative to the group's reference variant
  };
  struct Group {
    std::uint32_t reference = 0;  // variant id
    std::vector<DigestPath> digests;
  };
  std::vector<Variant> variants_;
  std::vector<Group> groups_;
  std::map<std::string, std::uint32_t> by_fingerprint_;
};

}  // namespace lockctl::fleet
