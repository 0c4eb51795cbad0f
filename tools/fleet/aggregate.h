#pragma once
// The fleet report's aggregation: bundles go in one at a time (BundleFacts, or a failure) and
// are reduced to compact per-terminal, per-digest, per-session and per-variant structures; no
// bundle is kept. Finish() turns them into the report's tables (FleetReport).
//
// Several bundles of one terminal (e.g. one a month) are expected: the terminal's database,
// generation and signer are those of its most recent export (host.json exported_at); events
// are counted once, by audit seq — a record whose seq a bundle of the same terminal already
// covered (its chain's first..last seq) is not counted again. Bundles that failed
// verification contribute nothing but their line in the failures table: their content is not
// evidence.
//
// Memory: O(terminals + distinct blocked digests + distinct (digest, terminal) pairs +
// maintenance sessions + the drift index's references and differences), independent of the
// number of records in the logs and of how many bundles a terminal has.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tools/fleet/bundle_facts.h"
#include "tools/fleet/drift.h"

namespace lockctl::fleet {

// Sets of audit seq numbers as disjoint closed intervals (a terminal's covered chain ranges).
class SeqRanges {
 public:
  void Add(std::uint64_t first, std::uint64_t last);  // first <= last
  bool Contains(std::uint64_t seq) const;
  std::size_t size() const { return ranges_.size(); }

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;  // first -> last
};

struct BundleFailure {
  std::string source;
  std::string claimed_terminal_id;   // from host.json, unverified; "" when unreadable
  std::vector<std::string> reasons;  // every problem found, each naming the file
};

struct TerminalRow {
  std::string key;  // terminal id, or "host:NAME" when the terminal had no id
  std::string terminal_id, hostname;
  std::size_t bundles = 0;
  // From the most recent bundle:
  std::string latest_bundle, exported_at, lockd_version;
  std::string exporter_holder, exporter_key_id;
  DatabaseExtract db;                  // digests cleared (they live in the drift index)
  std::uint32_t variant = kUnmatched;  // drift index variant (kUnmatched: no database)
  // Filled by Finish(): the image group (1-based position in FleetReport::groups; 0: none),
  // kBaseline* below, and the digests added / removed relative to the group's majority.
  std::size_t image = 0;
  const char* baseline = "";
  std::size_t digests_added = 0, digests_removed = 0;
  std::uint64_t chain_records = 0;
  std::string head_hash;
  // Over all its bundles:
  std::vector<std::uint64_t> lineage;  // database generations in log order (db_load, finish)
  // Denials (a repeat record counts as its `count`, exporttool::ReadBlockEvent), their span
  // (first_time..last_time) and how many came from repeat records.
  exporttool::BlockTally blocks;
  std::uint64_t blocked_digests = 0, sessions = 0;
  // Denials whose record (by seq) another bundle of this terminal already counted.
  std::uint64_t blocks_overlapping = 0;
};

struct BlockedDigestRow {
  std::string sha256;              // "" when the file was not hashed
  std::vector<std::string> paths;  // the first kMaxSamplePaths distinct paths seen
  bool more_paths = false;         // it was blocked under other paths too
  exporttool::BlockTally blocks;   // denials of this content (repeat records by their count)
  std::uint64_t terminals = 0;
  std::set<std::string> reasons;
};

struct SessionRow {
  std::string terminal_key, session;
  std::string holder, token_id, organisation, key_id;
  std::string start_time, minutes, end_type, end_time;
  std::string generation, previous_generation, added, removed, changed;
  std::uint64_t learned = 0;
};

struct EngineerRow {
  std::string holder, token_id, organisation;
  std::uint64_t sessions = 0, terminals = 0, finished = 0, aborted = 0, expired = 0, open = 0;
  std::uint64_t learned = 0;
  std::string first_time, last_time;
};

struct DriftRow {
  std::size_t terminal = 0;  // index into FleetReport::terminals
  std::uint32_t variant = 0;
};

struct ImageGroupRow {
  std::uint32_t group = 0;
  std::uint32_t majority_variant = 0;
  std::string majority_fingerprint;
  std::size_t majority_digests = 0;
  std::size_t majority_terminals = 0;
  std::map<std::uint64_t, std::size_t> majority_generations;  // generation -> terminals
  std::size_t terminals = 0;
  std::size_t variants = 0;
  std::vector<DriftRow> drifted;  // terminals whose variant is not the majority's, by key
  std::map<std::uint32_t, DigestChange> changes;  // variant -> relative to the majority
};

struct FleetReport {
  std::size_t bundles = 0, verified = 0;
  std::vector<TerminalRow> terminals;     // by key
  std::vector<ImageGroupRow> groups;      // most terminals first
  std::vector<std::size_t> no_database;   // terminals whose latest bundle has none
  std::vector<std::size_t> unmatched;     // terminals beyond kMaxImageGroups groups
  std::vector<BlockedDigestRow> blocked;  // most blocks first
  std::vector<SessionRow> sessions;       // by holder, terminal, start
  std::vector<EngineerRow> engineers;     // by holder
  std::vector<BundleFailure> failures;    // in the order read
};

inline constexpr std::size_t kMaxSamplePaths = 3;
inline constexpr char kBaselineMajority[] = "majority";
inline constexpr char kBaselineDrifted[] = "drifted";
inline constexpr char kBaselineNoDatabase[] = "no database";
inline constexpr char kBaselineUnmatched[] = "not compared";
inline constexpr std::size_t kMaxLineage = 32;  // the most recent generations kept

class FleetAggregator {
 public:
  void AddBundle(BundleFacts facts);
  void AddFailure(BundleFailure failure);
  // The report; the aggregator is left empty.
  FleetReport Finish();

 private:
  struct Terminal {
    TerminalRow row;
    SeqRanges covered;
    // seq -> database generation of db_load / maintenance_finish records, kept collapsed (no
    // two neighbours with the same generation) and at most kMaxLineage entries (the latest).
    std::map<std::uint64_t, std::uint64_t> lineage;
  };
  std::size_t TerminalFor(const BundleFacts& b);
  void CountBlocks(std::size_t t, const BundleFacts& b, const SeqRanges& before);
  void CountSessions(std::size_t t, const BundleFacts& b, const SeqRanges& before);

  std::size_t bundles_ = 0;
  std::vector<Terminal> terminals_;
  std::map<std::string, std::size_t> terminal_index_;
  DriftIndex drift_;
  std::vector<BlockedDigestRow> blocked_;
  std::map<std::string, std::size_t> blocked_index_;  // sha256, or "\0" + path when unhashed
  std::unordered_set<std::uint64_t> blocked_pairs_;   // digest index << 32 | terminal index
  std::map<std::pair<std::size_t, std::string>, SessionRow> sessions_;
  std::vector<BundleFailure> failures_;
};

}  // namespace lockctl::fleet
