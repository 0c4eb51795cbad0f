#include "tools/fleet/drift.h"

#include <algorithm>
#include <iterator>

#include "hashdb/sha256.h"

namespace lockctl::fleet {
namespace {

bool ByDigest(const DigestPath& a, const DigestPath& b) { return a.digest < b.digest; }

std::vector<DigestPath> Minus(const std::vector<DigestPath>& a, const std::vector<DigestPath>& b) {
  std::vector<DigestPath> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out), ByDigest);
  return out;
}

// Sorted union of two sorted, disjoint lists.
std::vector<DigestPath> Join(std::vector<DigestPath> a, const std::vector<DigestPath>& b) {
  std::vector<DigestPath> out;
  out.reserve(a.size() + b.size());
  std::merge(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()), b.begin(),
             b.end(), std::back_inserter(out), ByDigest);
  return out;
}

std::size_t CountCommon(std::span<const DigestPath> a, const std::vector<DigestPath>& b) {
  std::size_t n = 0;
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (i->digest < j->digest) {
      ++i;
    } else if (j->digest < i->digest) {
      ++j;
    } else {
      ++n;
      ++i;
      ++j;
    }
  }
  return n;
}

std::string Fingerprint(std::span<const DigestPath> digests) {
  hashdb::Sha256Hasher h;
  for (const auto& d : digests) h.Update(d.digest);
  return hashdb::ToHex(h.Finish());
}

}  // namespace

std::uint32_t DriftIndex::Add(std::span<const DigestPath> digests) {
  std::string fp = Fingerprint(digests);
  if (auto it = by_fingerprint_.find(fp); it != by_fingerprint_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(variants_.size());
  Variant v;
  v.fingerprint = fp;
  v.size = digests.size();
  // The most similar group, when similar enough: |V ∩ R| / |V ∪ R| >= 1/2, i.e.
  // 2 * common >= union, in integers.
  std::uint32_t best = kUnmatched;
  double best_score = -1;
  for (std::uint32_t g = 0; g < groups_.size(); ++g) {
    const auto& ref = groups_[g].digests;
    const std::size_t common = CountCommon(digests, ref);
    const std::size_t uni = digests.size() + ref.size() - common;
    if (uni == 0 || 2 * common < uni) continue;
    const double score = static_cast<double>(common) / static_cast<double>(uni);
    if (score > best_score) {
      best_score = score;
      best = g;
    }
  }
  if (best != kUnmatched) {
    const std::vector<DigestPath> mine(digests.begin(), digests.end());
    v.group = best;
    v.from_reference.added = Minus(mine, groups_[best].digests);
    v.from_reference.removed = Minus(groups_[best].digests, mine);
  } else if (groups_.size() < kMaxImageGroups) {
    v.group = static_cast<std::uint32_t>(groups_.size());
    groups_.push_back(Group{id, std::vector<DigestPath>(digests.begin(), digests.end())});
  }
  variants_.push_back(std::move(v));
  by_fingerprint_.emplace(std::move(fp), id);
  return id;
}

DigestChange DriftIndex::Diff(std::uint32_t variant, std::uint32_t base) const {
  const Variant& a = variants_[variant];
  const Variant& b = variants_[base];
  if (a.group == kUnmatched || a.group != b.group || variant == base) return {};
  // Both are the reference R plus their own added minus their own removed, so for a digest in
  // R: in a and not in b exactly when b removed it and a did not; for one outside R: when a
  // added it and b did not.
  DigestChange d;
  d.added = Join(Minus(b.from_reference.removed, a.from_reference.removed),
                 Minus(a.from_reference.added, b.from_reference.added));
  d.removed = Join(Minus(a.from_reference.removed, b.from_reference.removed),
                   Minus(b.from_reference.added, a.from_reference.added));
  return d;
}

}  // namespace lockctl::fleet
