#include "tools/fleet/report_csv.h"

#include "tools/export/csv.h"

namespace lockctl::fleet {
namespace {

using exporttool::CsvRow;
using exporttool::DisplayText;
using exporttool::HexBytes;

std::string N(std::uint64_t n) { return std::to_string(n); }

std::string Lineage(const std::vector<std::uint64_t>& gens) {
  std::string s;
  for (std::size_t i = 0; i < gens.size(); ++i) s += (i ? " > " : "") + std::to_string(gens[i]);
  return s;
}

std::string Terminals(const FleetReport& r) {
  std::string o = CsvRow({"terminal_id",        "hostname",
                          "hostname_hex",       "bundles",
                          "latest_bundle",      "exported_at",
                          "lockd_version",      "db_generation",
                          "db_created",         "db_signer_key_id",
                          "db_content_sha256",  "db_mode",
                          "db_files",           "db_verified_on_terminal",
                          "db_fleet_signature", "db_error",
                          "image_group",        "baseline",
                          "digests_added",      "digests_removed",
                          "generation_lineage", "deny",
                          "would_deny",         "blocked_digests",
                          "first_block",        "last_block",
                          "sessions",           "exporter_holder",
                          "exporter_key_id",    "chain_records",
                          "head_hash"});
  for (const auto& t : r.terminals) {
    const auto& d = t.db;
    o += CsvRow({DisplayText(t.terminal_id),
                 DisplayText(t.hostname),
                 HexBytes(t.hostname),
                 N(t.bundles),
                 DisplayText(t.latest_bundle),
                 DisplayText(t.exported_at),
                 DisplayText(t.lockd_version),
                 d.present ? N(d.generation) : "",
                 d.created,
                 d.signer_key_id,
                 d.content_sha256,
                 d.mode,
                 d.present ? N(d.records) : "",
                 d.verified_on_terminal ? "true" : "false",
                 DisplayText(d.fleet_signature),
                 DisplayText(d.error),
                 t.image ? N(t.image) : "",
                 t.baseline,
                 N(t.digests_added),
                 N(t.digests_removed),
                 Lineage(t.lineage),
                 N(t.blocks.deny),
                 N(t.blocks.would_deny),
                 N(t.blocked_digests),
                 DisplayText(t.blocks.first_time),
                 DisplayText(t.blocks.last_time),
                 N(t.sessions),
                 DisplayText(t.exporter_holder),
                 DisplayText(t.exporter_key_id),
                 N(t.chain_records),
                 DisplayText(t.head_hash)});
  }
  return o;
}

std::string Drift(const FleetReport& r) {
  std::string o = CsvRow({"image_group", "terminal_id", "hostname", "db_generation",
                          "majority_fingerprint", "change", "sha256", "path", "path_hex"});
  for (std::size_t n = 0; n < r.groups.size(); ++n) {
    const ImageGroupRow& g = r.groups[n];
    for (const DriftRow& d : g.drifted) {
      const TerminalRow& t = r.terminals[d.terminal];
      const DigestChange& c = g.changes.at(d.variant);
      auto rows = [&](const std::vector<DigestPath>& list, const char* what) {
        for (const auto& p : list) {
          o += CsvRow({N(n + 1), DisplayText(t.terminal_id), DisplayText(t.hostname),
                       N(t.db.generation), g.majority_fingerprint, what, hashdb::ToHex(p.digest),
                       DisplayText(p.path), HexBytes(p.path)});
        }
      };
      rows(c.added, "added");
      rows(c.removed, "removed");
    }
  }
  return o;
}

std::string BlocksByTerminal(const FleetReport& r) {
  std::string o = CsvRow({"terminal_id", "hostname", "deny", "would_deny", "blocked_digests",
                          "first_block", "last_block", "blocks_in_overlapping_bundles",
                          "in_repeat_records", "repeat_records"});
  for (const auto& t : r.terminals) {
    if (t.blocks.total() == 0 && t.blocks.repeat_records == 0) continue;
    o += CsvRow({DisplayText(t.terminal_id), DisplayText(t.hostname), N(t.blocks.deny),
                 N(t.blocks.would_deny), N(t.blocked_digests), DisplayText(t.blocks.first_time),
                 DisplayText(t.blocks.last_time), N(t.blocks_overlapping), N(t.blocks.in_repeats),
                 N(t.blocks.repeat_records)});
  }
  return o;
}

std::string BlocksByDigest(const FleetReport& r) {
  std::string o = CsvRow({"sha256", "deny", "would_deny", "terminals", "first_time", "last_time",
                          "reasons", "path", "path_hex", "other_paths", "more_paths",
                          "in_repeat_records", "repeat_records"});
  for (const auto& b : r.blocked) {
    std::string reasons, others;
    for (const auto& x : b.reasons) reasons += (reasons.empty() ? "" : " ") + x;
    for (std::size_t i = 1; i < b.paths.size(); ++i) {
      others += (i > 1 ? " | " : "") + DisplayText(b.paths[i]);
    }
    const std::string first = b.paths.empty() ? "" : b.paths[0];
    o += CsvRow({b.sha256, N(b.blocks.deny), N(b.blocks.would_deny), N(b.terminals),
                 DisplayText(b.blocks.first_time), DisplayText(b.blocks.last_time),
                 DisplayText(reasons), DisplayText(first), HexBytes(first), others,
                 b.more_paths ? "true" : "false", N(b.blocks.in_repeats),
                 N(b.blocks.repeat_records)});
  }
  return o;
}

std::string Sessions(const FleetReport& r) {
  std::string o = CsvRow({"holder", "token_id", "organisation", "key_id", "terminal_id", "session",
                          "start_time", "minutes", "end", "end_time", "generation",
                          "previous_generation", "added", "removed", "changed", "learned"});
  for (const auto& s : r.sessions) {
    o +=
        CsvRow({DisplayText(s.holder), DisplayText(s.token_id), DisplayText(s.organisation),
                DisplayText(s.key_id), DisplayText(s.terminal_key), DisplayText(s.session),
                DisplayText(s.start_time), DisplayText(s.minutes),
                s.end_type.empty() ? "open or not in the log" : s.end_type, DisplayText(s.end_time),
                DisplayText(s.generation), DisplayText(s.previous_generation), DisplayText(s.added),
                DisplayText(s.removed), DisplayText(s.changed), N(s.learned)});
  }
  return o;
}

std::string Engineers(const FleetReport& r) {
  std::string o =
      CsvRow({"holder", "token_id", "organisation", "sessions", "terminals", "finished", "aborted",
              "expired", "open", "files_learned", "first_time", "last_time"});
  for (const auto& e : r.engineers) {
    o += CsvRow({DisplayText(e.holder), DisplayText(e.token_id), DisplayText(e.organisation),
                 N(e.sessions), N(e.terminals), N(e.finished), N(e.aborted), N(e.expired),
                 N(e.open), N(e.learned), DisplayText(e.first_time), DisplayText(e.last_time)});
  }
  return o;
}

std::string Failures(const FleetReport& r) {
  std::string o = CsvRow({"bundle", "bundle_hex", "claimed_terminal_id", "reason"});
  for (const auto& f : r.failures) {
    for (const auto& reason : f.reasons) {
      o += CsvRow({DisplayText(f.source), HexBytes(f.source), DisplayText(f.claimed_terminal_id),
                   DisplayText(reason)});
    }
  }
  return o;
}

}  // namespace

std::map<std::string, std::string> RenderFleetCsv(const FleetReport& r) {
  return {{"terminals.csv", Terminals(r)},
          {"drift.csv", Drift(r)},
          {"blocks_by_terminal.csv", BlocksByTerminal(r)},
          {"blocks_by_digest.csv", BlocksByDigest(r)},
          {"sessions.csv", Sessions(r)},
          {"engineers.csv", Engineers(r)},
          {"failures.csv", Failures(r)}};
}

}  // namespace lockctl::fleet
