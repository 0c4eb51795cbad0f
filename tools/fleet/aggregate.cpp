#include "tools/fleet/aggregate.h"

#include <algorithm>
#include <charconv>

namespace lockctl::fleet {
namespace {

std::optional<std::uint64_t> ParseUint(const std::string& s) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void Earliest(std::string& slot, const std::string& t) {
  if (!t.empty() && (slot.empty() || t < slot)) slot = t;
}
void Latest(std::string& slot, const std::string& t) {
  if (!t.empty() && t > slot) slot = t;
}
void FillIfEmpty(std::string& slot, const std::string& v) {
  if (slot.empty()) slot = v;
}

// Inserts (seq, generation) keeping the map collapsed: no two neighbours (in seq order) with
// the same generation, and at most kMaxLineage entries (the oldest dropped).
void AddLineagePoint(std::map<std::uint64_t, std::uint64_t>& m, std::uint64_t seq,
                     std::uint64_t gen) {
  if (m.count(seq)) return;
  auto next = m.lower_bound(seq);
  if (next != m.begin() && std::prev(next)->second == gen) return;  // continues the same one
  if (next != m.end() && next->second == gen) m.erase(next);        // starts earlier
  m.emplace(seq, gen);
  while (m.size() > kMaxLineage) m.erase(m.begin());
}

}  // namespace

void SeqRanges::Add(std::uint64_t first, std::uint64_t last) {
  // Merge with every range that overlaps or touches [first, last].
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second + 1 >= first) {  // touches or overlaps from the left
      first = prev->first;
      last = std::max(last, prev->second);
      it = ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first <= last + 1) {
    last = std::max(last, it->second);
    it = ranges_.erase(it);
  }
  ranges_.emplace(first, last);
}

bool SeqRanges::Contains(std::uint64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  if (it == ranges_.begin()) return false;
  return std::prev(it)->second >= seq;
}

std::size_t FleetAggregator::TerminalFor(const BundleFacts& b) {
  const std::string key = b.terminal_id.empty() ? "host:" + b.hostname : b.terminal_id;
  auto [it, inserted] = terminal_index_.emplace(key, terminals_.size());
  if (inserted) {
    terminals_.push_back(Terminal{});
    terminals_.back().row.key = key;
    terminals_.back().row.terminal_id = b.terminal_id;
    terminals_.back().row.hostname = b.hostname;
  }
  return it->second;
}

void FleetAggregator::CountBlocks(std::size_t t, const BundleFacts& b, const SeqRanges& before) {
  TerminalRow& row = terminals_[t].row;
  for (const auto& e : b.facts.blocks) {
    if (before.Contains(e.seq)) continue;
    row.blocks.Add(e);
    const std::string key = e.sha256.empty() ? std::string(1, '\0') + e.path : e.sha256;
    auto [it, inserted] = blocked_index_.emplace(key, blocked_.size());
    if (inserted) {
      blocked_.push_back(BlockedDigestRow{});
      blocked_.back().sha256 = e.sha256;
    }
    BlockedDigestRow& d = blocked_[it->second];
    d.blocks.Add(e);
    if (!e.reason.empty() && d.reasons.size() < 8) d.reasons.insert(e.reason);
    if (std::find(d.paths.begin(), d.paths.end(), e.path) == d.paths.end()) {
      if (d.paths.size() < kMaxSamplePaths) {
        d.paths.push_back(e.path);
      } else {
        d.more_paths = true;
      }
    }
    const std::uint64_t pair = (static_cast<std::uint64_t>(it->second) << 32) | t;
    if (blocked_pairs_.insert(pair).second) {
      ++d.terminals;
      ++row.blocked_digests;
    }
  }
}

void FleetAggregator::CountSessions(std::size_t t, const BundleFacts& b, const SeqRanges& before) {
  for (const auto& s : b.facts.sessions) {
    SessionRow& r = sessions_[{t, s.session}];
    r.terminal_key = terminals_[t].row.key;
    r.session = s.session;
    FillIfEmpty(r.holder, s.holder.empty() ? s.end_holder : s.holder);
    FillIfEmpty(r.token_id, s.token_id.empty() ? s.end_token_id : s.token_id);
    FillIfEmpty(r.organisation, s.organisation);
    FillIfEmpty(r.key_id, s.key_id);
    FillIfEmpty(r.start_time, s.start_time);
    FillIfEmpty(r.minutes, s.minutes);
    if (!s.end_type.empty()) {
      r.end_type = s.end_type;
      r.end_time = s.end_time;
      FillIfEmpty(r.generation, s.generation);
      FillIfEmpty(r.previous_generation, s.previous_generation);
      FillIfEmpty(r.added, s.added);
      FillIfEmpty(r.removed, s.removed);
      FillIfEmpty(r.changed, s.changed);
    }
    for (const auto& f : s.learned) {
      if (!before.Contains(f.seq)) ++r.learned;
    }
  }
}

void FleetAggregator::AddBundle(BundleFacts b) {
  ++bundles_;
  const std::size_t t = TerminalFor(b);
  Terminal& term = terminals_[t];
  TerminalRow& row = term.row;
  ++row.bundles;
  // The most recent export describes the terminal now (RFC 3339 UTC compares as text).
  if (row.bundles == 1 || b.exported_at >= row.exported_at) {
    row.latest_bundle = b.source;
    row.exported_at = b.exported_at;
    row.lockd_version = b.lockd_version;
    row.hostname = b.hostname;
    row.exporter_holder = b.exporter_holder;
    row.exporter_key_id = b.exporter_key_id;
    row.chain_records = b.chain_records;
    row.head_hash = b.head_hash;
    row.variant = b.db.present ? drift_.Add(b.db.digests) : kUnmatched;
    row.db = std::move(b.db);
    row.db.digests.clear();
    row.db.digests.shrink_to_fit();
  }
  const SeqRanges before = term.covered;
  for (const auto& e : b.facts.blocks)
    row.blocks_overlapping += before.Contains(e.seq) ? e.count : 0;
  CountBlocks(t, b, before);
  CountSessions(t, b, before);
  for (const auto& g : b.facts.generations) {
    if (g.type == "db_refused" || before.Contains(g.seq)) continue;
    if (auto gen = ParseUint(g.generation)) AddLineagePoint(term.lineage, g.seq, *gen);
  }
  if (b.chain_records > 0 && b.first_seq <= b.last_seq) term.covered.Add(b.first_seq, b.last_seq);
}

void FleetAggregator::AddFailure(BundleFailure failure) {
  ++bundles_;
  failures_.push_back(std::move(failure));
}

FleetReport FleetAggregator::Finish() {
  FleetReport r;
  r.bundles = bundles_;
  r.verified = bundles_ - failures_.size();
  r.failures = std::move(failures_);

  // Terminals by key; remember the old index of each for sessions.
  std::vector<std::size_t> order(terminals_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    return terminals_[a].row.key < terminals_[b].row.key;
  });
  std::vector<std::size_t> new_index(terminals_.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    Terminal& term = terminals_[order[i]];
    for (const auto& [seq, gen] : term.lineage) term.row.lineage.push_back(gen);
    new_index[order[i]] = i;
    r.terminals.push_back(std::move(term.row));
  }

  // Sessions per terminal, and engineers.
  std::map<std::pair<std::string, std::string>, EngineerRow> engineers;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> engineer_terminals;
  for (auto& [key, s] : sessions_) {
    ++r.terminals[new_index[key.first]].sessions;
    EngineerRow& e = engineers[{s.holder, s.token_id}];
    e.holder = s.holder;
    e.token_id = s.token_id;
    FillIfEmpty(e.organisation, s.organisation);
    ++e.sessions;
    if (s.end_type == "maintenance_finish") {
      ++e.finished;
    } else if (s.end_type == "maintenance_abort") {
      ++e.aborted;
    } else if (s.end_type == "maintenance_expired") {
      ++e.expired;
    } else {
      ++e.open;
    }
    e.learned += s.learned;
    Earliest(e.first_time, s.start_time.empty() ? s.end_time : s.start_time);
    Latest(e.last_time, s.end_time.empty() ? s.start_time : s.end_time);
    engineer_terminals[{s.holder, s.token_id}].insert(s.terminal_key);
    r.sessions.push_back(std::move(s));
  }
  for (auto& [key, e] : engineers) {
    e.terminals = engineer_terminals[key].size();
    r.engineers.push_back(std::move(e));
  }
  std::sort(r.sessions.begin(), r.sessions.end(), [](const SessionRow& a, const SessionRow& b) {
    return std::tie(a.holder, a.terminal_key, a.start_time, a.session) <
           std::tie(b.holder, b.terminal_key, b.start_time, b.session);
  });

  // Drift: per image group, the variant most terminals have is the baseline.
  std::map<std::uint32_t, std::map<std::uint32_t, std::vector<std::size_t>>> by_group;
  for (std::size_t i = 0; i < r.terminals.size(); ++i) {
    const TerminalRow& t = r.terminals[i];
    if (!t.db.present) {
      r.no_database.push_back(i);
    } else if (drift_.GroupOf(t.variant) == kUnmatched) {
      r.unmatched.push_back(i);
    } else {
      by_group[drift_.GroupOf(t.variant)][t.variant].push_back(i);
    }
  }
  for (auto& [group, variants] : by_group) {
    ImageGroupRow g;
    g.group = group;
    g.variants = variants.size();
    std::size_t best = 0;
    for (const auto& [variant, terms] : variants) {
      g.terminals += terms.size();
      if (terms.size() > best) {  // ties: the variant seen first (lower id)
        best = terms.size();
        g.majority_variant = variant;
      }
    }
    g.majority_fingerprint = drift_.FingerprintOf(g.majority_variant);
    g.majority_digests = drift_.SizeOf(g.majority_variant);
    g.majority_terminals = best;
    for (std::size_t i : variants[g.majority_variant]) {
      ++g.majority_generations[r.terminals[i].db.generation];
    }
    for (const auto& [variant, terms] : variants) {
      if (variant == g.majority_variant) continue;
      g.changes.emplace(variant, drift_.Diff(variant, g.majority_variant));
      for (std::size_t i : terms) g.drifted.push_back(DriftRow{i, variant});
    }
    std::sort(g.drifted.begin(), g.drifted.end(),
              [](const DriftRow& a, const DriftRow& b) { return a.terminal < b.terminal; });
    r.groups.push_back(std::move(g));
  }
  std::stable_sort(
      r.groups.begin(), r.groups.end(),
      [](const ImageGroupRow& a, const ImageGroupRow& b) { return a.terminals > b.terminals; });

  for (std::size_t i : r.no_database) r.terminals[i].baseline = kBaselineNoDatabase;
  for (std::size_t i : r.unmatched) r.terminals[i].baseline = kBaselineUnmatched;
  for (std::size_t n = 0; n < r.groups.size(); ++n) {
    const ImageGroupRow& g = r.groups[n];
    for (auto& t : r.terminals) {
      if (t.db.present && t.variant != kUnmatched && drift_.GroupOf(t.variant) == g.group) {
        t.image = n + 1;
        t.baseline = kBaselineMajority;
      }
    }
    for (const DriftRow& d : g.drifted) {
      TerminalRow& t = r.terminals[d.terminal];
      const DigestChange& c = g.changes.at(d.variant);
      t.baseline = kBaselineDrifted;
      t.digests_added = c.added.size();
      t.digests_removed = c.removed.size();
    }
  }

  r.blocked = std::move(blocked_);
  std::stable_sort(r.blocked.begin(), r.blocked.end(),
                   [](const BlockedDigestRow& a, const BlockedDigestRow& b) {
                     return a.blocks.total() > b.blocks.total();
                   });
  *this = FleetAggregator{};
  return r;
}

}  // namespace lockctl::fleet
