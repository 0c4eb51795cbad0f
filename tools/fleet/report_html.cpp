#include "tools/fleet/report_html.h"

#include <algorithm>
#include <sstream>

#include "tools/export/html.h"

namespace lockctl::fleet {
namespace {

using exporttool::Html;

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:2em;max-width:90em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em "
    ".5em;text-align:left;vertical-align:top}th{background:#f2f2f2}"
    ".mono{font-family:monospace;word-break:break-all}.ok{color:#1a7f37;font-weight:bold}"
    ".bad{color:#b42318;font-weight:bold}.warn{color:#9a6700;font-weight:bold}"
    "td.n{text-align:right}ul.reasons{margin:0;padding-left:1.2em}"
    ".add{color:#1a7f37}.rem{color:#b42318}";

std::string Row(const std::string& key, const std::string& value_html) {
  return "<tr><th>" + key + "</th><td>" + value_html + "</td></tr>\n";
}

std::string Mono(const std::string& bytes) {
  return "<span class=\"mono\">" + Html(bytes) + "</span>";
}

// A key id or digest shortened for a table cell, the whole value in the tooltip.
std::string Short(const std::string& hex) {
  if (hex.size() <= 16) return Mono(hex);
  return "<span class=\"mono\" title=\"" + Html(hex) + "\">" + Html(hex.substr(0, 16)) +
         "&hellip;</span>";
}

std::string Terminal(const TerminalRow& t) {
  return t.terminal_id.empty() ? "(no terminal id) " + Html(t.hostname) : Mono(t.terminal_id);
}

std::string Lineage(const std::vector<std::uint64_t>& gens) {
  std::string s;
  for (std::size_t i = 0; i < gens.size(); ++i) {
    s += (i ? " &rarr; " : "") + std::to_string(gens[i]);
  }
  return s.empty() ? "(not in the log)" : s;
}

std::string More(std::size_t shown, std::size_t total, const char* csv) {
  if (total <= shown) return "";
  return "<p>" + std::to_string(total - shown) + " more rows: see " + csv + ".</p>\n";
}

std::string DigestList(const std::vector<DigestPath>& list, const char* cls, const char* sign) {
  std::string s;
  for (std::size_t i = 0; i < list.size() && i < kHtmlDigestsPerChange; ++i) {
    s += "<div class=\"" + std::string(cls) + "\">" + sign + " " +
         Short(hashdb::ToHex(list[i].digest)) + " " + Mono(list[i].path) + "</div>";
  }
  if (list.size() > kHtmlDigestsPerChange) {
    s += "<div>&hellip; " + std::to_string(list.size() - kHtmlDigestsPerChange) +
         " more (drift.csv)</div>";
  }
  return s;
}

void Summary(std::ostringstream& o, const FleetReport& r, const FleetReportContext& c) {
  std::uint64_t deny = 0, would = 0, in_repeats = 0, repeat_records = 0, drifted = 0;
  for (const auto& t : r.terminals) {
    deny += t.blocks.deny;
    would += t.blocks.would_deny;
    in_repeats += t.blocks.in_repeats;
    repeat_records += t.blocks.repeat_records;
  }
  for (const auto& g : r.groups) drifted += g.drifted.size();
  o << "<h2 id=\"summary\">Summary</h2>\n<table>\n";
  o << Row("Bundles read", std::to_string(r.bundles));
  o << Row("Verified", "<span class=\"ok\">" + std::to_string(r.verified) + "</span>" +
                           " (manifest, signature by a trust anchor in " + Html(c.trust_dir) +
                           ", audit log chain)");
  o << Row("Failed verification",
           r.failures.empty()
               ? std::string("<span class=\"ok\">none</span>")
               : "<span class=\"bad\">" + std::to_string(r.failures.size()) +
                     "</span> (listed below; their content is not counted anywhere in this "
                     "report)");
  o << Row("Terminals", std::to_string(r.terminals.size()));
  o << Row("Image groups",
           std::to_string(r.groups.size()) + "; " + std::to_string(drifted) +
               " terminal(s) differ from their group's majority baseline" +
               (r.no_database.empty()
                    ? std::string()
                    : ", " + std::to_string(r.no_database.size()) + " without a database") +
               (r.unmatched.empty() ? std::string()
                                    : ", " + std::to_string(r.unmatched.size()) +
                                          " not compared (too many distinct images)"));
  o << Row("Blocked executions",
           std::to_string(deny) + " denied, " + std::to_string(would) +
               " would-deny (allowed in audit or maintenance mode), " +
               std::to_string(r.blocked.size()) + " distinct files" +
               (repeat_records == 0
                    ? std::string()
                    : "; " + std::to_string(in_repeats) + " of these denials are counted in " +
                          std::to_string(repeat_records) + " repeat record(s) of the logs"));
  o << Row("Maintenance sessions", std::to_string(r.sessions.size()) + " by " +
                                       std::to_string(r.engineers.size()) + " engineer token(s)");
  o << Row("Database signatures", c.db_trust_dir.empty()
                                      ? std::string("checked on each terminal with its own "
                                                    "trust dir (database.json); no fleet trust "
                                                    "dir given (--db-trust)")
                                      : "also checked here with " + Html(c.db_trust_dir));
  std::string inputs;
  for (const auto& i : c.inputs) inputs += (inputs.empty() ? "" : "<br>") + Mono(i);
  o << Row("Input", inputs);
  o << Row("Generated", Html(c.generated_at));
  o << "</table>\n";
}

void Failures(std::ostringstream& o, const FleetReport& r) {
  o << "<h2 id=\"failures\">Bundles that failed verification</h2>\n";
  if (r.failures.empty()) {
    o << "<p class=\"ok\">None: every bundle verified.</p>\n";
    return;
  }
  o << "<p>Nothing from these bundles is counted in this report. The terminal id is what the "
       "bundle claims, not verified.</p>\n<table><tr><th>Bundle</th><th>Claimed terminal</th>"
       "<th>Why it failed</th></tr>\n";
  for (const auto& f : r.failures) {
    o << "<tr><td class=\"mono\">" << Html(f.source) << "</td><td class=\"mono\">"
      << Html(f.claimed_terminal_id.empty() ? "(unreadable)" : f.claimed_terminal_id)
      << "</td><td><ul class=\"reasons\">";
    for (const auto& reason : f.reasons) o << "<li class=\"bad\">" << Html(reason) << "</li>";
    o << "</ul></td></tr>\n";
  }
  o << "</table>\n";
}

void Drift(std::ostringstream& o, const FleetReport& r) {
  o << "<h2 id=\"drift\">Baseline drift</h2>\n<p>Terminals are grouped by the golden image "
       "their allowlist comes from: databases sharing at least half of their allowed contents "
       "(SHA-256 digests) are in one group. In each group the set of digests most terminals "
       "allow is the baseline; every other terminal is listed with the digests it allows in "
       "addition (+) and the baseline digests it lacks (&minus;).</p>\n";
  if (r.groups.empty()) o << "<p>No databases to compare.</p>\n";
  for (std::size_t n = 0; n < r.groups.size(); ++n) {
    const ImageGroupRow& g = r.groups[n];
    std::string gens;
    for (const auto& [gen, count] : g.majority_generations) {
      gens += (gens.empty() ? "" : ", ") + std::to_string(gen) + " (" + std::to_string(count) + ")";
    }
    o << "<h3 id=\"image-" << n + 1 << "\">Image group " << n + 1 << ": " << g.terminals
      << " terminal(s), " << g.variants << " variant(s)</h3>\n<p>Baseline: " << g.majority_digests
      << " digests (fingerprint " << Short(g.majority_fingerprint) << "), on "
      << g.majority_terminals << " terminal(s), database generation(s) " << gens << ". ";
    if (g.drifted.empty()) {
      o << "<span class=\"ok\">No terminal differs.</span></p>\n";
      continue;
    }
    o << "<span class=\"warn\">" << g.drifted.size() << " terminal(s) differ.</span></p>\n";
    o << "<table><tr><th>Terminal</th><th>Host</th><th>Generation</th><th>Lineage</th>"
         "<th>Added</th><th>Removed</th></tr>\n";
    for (std::size_t i = 0; i < g.drifted.size() && i < kHtmlTopRows; ++i) {
      const TerminalRow& t = r.terminals[g.drifted[i].terminal];
      const DigestChange& c = g.changes.at(g.drifted[i].variant);
      o << "<tr><td>" << Terminal(t) << "</td><td>" << Html(t.hostname) << "</td><td class=\"n\">"
        << t.db.generation << "</td><td>" << Lineage(t.lineage) << "</td><td>+" << c.added.size()
        << DigestList(c.added, "add", "+") << "</td><td>&minus;" << c.removed.size()
        << DigestList(c.removed, "rem", "&minus;") << "</td></tr>\n";
    }
    o << "</table>\n" << More(kHtmlTopRows, g.drifted.size(), "drift.csv");
  }
  if (!r.no_database.empty()) {
    o << "<h3>Terminals without a readable database</h3>\n<table><tr><th>Terminal</th>"
         "<th>Host</th><th>Why</th></tr>\n";
    for (std::size_t i : r.no_database) {
      const TerminalRow& t = r.terminals[i];
      o << "<tr><td>" << Terminal(t) << "</td><td>" << Html(t.hostname) << "</td><td class=\"bad\">"
        << Html(t.db.error) << "</td></tr>\n";
    }
    o << "</table>\n";
  }
  if (!r.unmatched.empty()) {
    o << "<p class=\"warn\">" << r.unmatched.size() << " terminal(s) were not compared: their "
      << "databases resemble none of the first " << kMaxImageGroups
      << " image groups (terminals.csv, baseline \"not compared\").</p>\n";
  }
}

void Blocks(std::ostringstream& o, const FleetReport& r) {
  o << "<h2 id=\"blocks-by-digest\">Blocks by file content</h2>\n";
  if (r.blocked.empty()) {
    o << "<p>Nothing was blocked.</p>\n";
  } else {
    o << "<p>Denials, not records: a <code>repeat</code> record of a log counts as the denials "
         "it stands for (its <code>count</code>, from its <code>first_time</code> to its "
         "<code>last_time</code>).</p>\n";
    o << "<table><tr><th>SHA-256</th><th>Path(s)</th><th>Denied</th><th>Would deny</th>"
         "<th>Terminals</th><th>First (UTC)</th><th>Last (UTC)</th></tr>\n";
    for (std::size_t i = 0; i < r.blocked.size() && i < kHtmlTopRows; ++i) {
      const auto& b = r.blocked[i];
      std::string paths;
      for (const auto& p : b.paths) paths += (paths.empty() ? "" : "<br>") + Mono(p);
      if (b.more_paths) paths += "<br>&hellip; and other paths";
      o << "<tr><td>" << (b.sha256.empty() ? "(not hashed)" : Short(b.sha256)) << "</td><td>"
        << paths << "</td><td class=\"n\">" << b.blocks.deny << "</td><td class=\"n\">"
        << b.blocks.would_deny << "</td><td class=\"n\">" << b.terminals << "</td><td>"
        << Html(b.blocks.first_time) << "</td><td>" << Html(b.blocks.last_time) << "</td></tr>\n";
    }
    o << "</table>\n" << More(kHtmlTopRows, r.blocked.size(), "blocks_by_digest.csv");
  }
  o << "<h2 id=\"blocks-by-terminal\">Blocks by terminal</h2>\n";
  std::vector<const TerminalRow*> ts;
  for (const auto& t : r.terminals) {
    if (t.blocks.total()) ts.push_back(&t);
  }
  std::stable_sort(ts.begin(), ts.end(), [](const TerminalRow* a, const TerminalRow* b) {
    return a->blocks.total() > b->blocks.total();
  });
  if (ts.empty()) {
    o << "<p>Nothing was blocked.</p>\n";
    return;
  }
  o << "<table><tr><th>Terminal</th><th>Host</th><th>Denied</th><th>Would deny</th>"
       "<th>Distinct files</th><th>First (UTC)</th><th>Last (UTC)</th></tr>\n";
  for (std::size_t i = 0; i < ts.size() && i < kHtmlTopRows; ++i) {
    const TerminalRow& t = *ts[i];
    o << "<tr><td>" << Terminal(t) << "</td><td>" << Html(t.hostname) << "</td><td class=\"n\">"
      << t.blocks.deny << "</td><td class=\"n\">" << t.blocks.would_deny << "</td><td class=\"n\">"
      << t.blocked_digests << "</td><td>" << Html(t.blocks.first_time) << "</td><td>"
      << Html(t.blocks.last_time) << "</td></tr>\n";
  }
  o << "</table>\n" << More(kHtmlTopRows, ts.size(), "blocks_by_terminal.csv");
}

void Maintenance(std::ostringstream& o, const FleetReport& r) {
  o << "<h2 id=\"maintenance\">Maintenance by engineer</h2>\n";
  if (r.engineers.empty()) {
    o << "<p>No maintenance sessions in the logs.</p>\n";
    return;
  }
  o << "<table><tr><th>Holder</th><th>Token</th><th>Organisation</th><th>Sessions</th>"
       "<th>Terminals</th><th>Finished</th><th>Aborted</th><th>Expired</th><th>Open</th>"
       "<th>Files learned</th><th>First (UTC)</th><th>Last (UTC)</th></tr>\n";
  for (const auto& e : r.engineers) {
    o << "<tr><td>" << Html(e.holder) << "</td><td class=\"mono\">" << Html(e.token_id)
      << "</td><td>" << Html(e.organisation) << "</td><td class=\"n\">" << e.sessions
      << "</td><td class=\"n\">" << e.terminals << "</td><td class=\"n\">" << e.finished
      << "</td><td class=\"n\">" << e.aborted << "</td><td class=\"n\">" << e.expired
      << "</td><td class=\"n\">" << e.open << "</td><td class=\"n\">" << e.learned << "</td><td>"
      << Html(e.first_time) << "</td><td>" << Html(e.last_time) << "</td></tr>\n";
  }
  o << "</table>\n<h2 id=\"sessions\">Maintenance sessions by engineer and terminal</h2>\n"
    << "<table><tr><th>Holder</th><th>Terminal</th><th>Started (UTC)</th><th>Ended</th>"
       "<th>Result</th><th>Files learned</th></tr>\n";
  for (std::size_t i = 0; i < r.sessions.size() && i < kHtmlSessionRows; ++i) {
    const auto& s = r.sessions[i];
    std::string result;
    if (s.end_type == "maintenance_finish") {
      result = "generation " + Html(s.previous_generation) + " &rarr; " + Html(s.generation) +
               ": " + Html(s.added) + " added, " + Html(s.removed) + " removed, " +
               Html(s.changed) + " changed";
    } else if (s.end_type == "maintenance_abort") {
      result = "aborted";
    } else if (s.end_type == "maintenance_expired") {
      result = "window expired";
    } else {
      result = "<span class=\"warn\">no end record in the log</span>";
    }
    o << "<tr><td>" << Html(s.holder) << "<br><span class=\"mono\">" << Html(s.token_id)
      << "</span></td><td class=\"mono\">" << Html(s.terminal_key) << "</td><td>"
      << Html(s.start_time.empty() ? "(before the log)" : s.start_time) << "</td><td>"
      << Html(s.end_time) << "</td><td>" << result << "</td><td class=\"n\">" << s.learned
      << "</td></tr>\n";
  }
  o << "</table>\n" << More(kHtmlSessionRows, r.sessions.size(), "sessions.csv");
}

void Terminals(std::ostringstream& o, const FleetReport& r) {
  o << "<h2 id=\"terminals\">Terminals</h2>\n<table><tr><th>Terminal</th><th>Host</th>"
       "<th>Generation</th><th>Signer</th><th>Database signature</th><th>Mode</th>"
       "<th>Image</th><th>Baseline</th><th>Denied</th><th>Would deny</th><th>Sessions</th>"
       "<th>Exported (UTC)</th><th>Bundles</th></tr>\n";
  for (std::size_t i = 0; i < r.terminals.size() && i < kHtmlTerminalRows; ++i) {
    const TerminalRow& t = r.terminals[i];
    std::string sig;
    if (!t.db.present) {
      sig = "<span class=\"bad\">no database</span>";
    } else {
      sig = t.db.verified_on_terminal ? "<span class=\"ok\">verified on the terminal</span>"
                                      : "<span class=\"bad\">NOT verified on the terminal: " +
                                            Html(t.db.terminal_verify_error) + "</span>";
      if (!t.db.fleet_signature.empty()) {
        sig += t.db.fleet_signature == "verified"
                   ? "<br><span class=\"ok\">verified with --db-trust</span>"
                   : "<br><span class=\"bad\">" + Html(t.db.fleet_signature) + "</span>";
      }
    }
    std::string baseline = Html(t.baseline);
    if (t.baseline == std::string(kBaselineDrifted)) {
      baseline = "<span class=\"warn\">drifted</span> +" + std::to_string(t.digests_added) +
                 " &minus;" + std::to_string(t.digests_removed);
    }
    o << "<tr><td>" << Terminal(t) << "</td><td>" << Html(t.hostname) << "</td><td class=\"n\">"
      << (t.db.present ? std::to_string(t.db.generation) : "") << "</td><td>"
      << Short(t.db.signer_key_id) << "</td><td>" << sig << "</td><td>" << Html(t.db.mode)
      << "</td><td>" << (t.image ? std::to_string(t.image) : "") << "</td><td>" << baseline
      << "</td><td class=\"n\">" << t.blocks.deny << "</td><td class=\"n\">" << t.blocks.would_deny
      << "</td><td class=\"n\">" << t.sessions << "</td><td>" << Html(t.exported_at)
      << "</td><td class=\"n\">" << t.bundles << "</td></tr>\n";
  }
  o << "</table>\n" << More(kHtmlTerminalRows, r.terminals.size(), "terminals.csv");
}

}  // namespace

std::string RenderFleetHtml(const FleetReport& r, const FleetReportContext& c) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\">\n"
    << "<title>lockd fleet report</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
    << "<h1>lockd fleet report</h1>\n<p>Made offline by <span class=\"mono\">lockctl fleet "
       "report</span> from terminals' export bundles. Every bundle was verified first (as "
       "<span class=\"mono\">lockctl export verify --trust</span> does); figures come from the "
       "verified bundles' raw audit logs and databases. The same tables, complete, are in the "
       "CSV files beside this page.</p>\n";
  Summary(o, r, c);
  Failures(o, r);
  Drift(o, r);
  Blocks(o, r);
  Maintenance(o, r);
  Terminals(o, r);
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace lockctl::fleet
