#include "tools/export/report.h"

#include <map>
#include <sstream>

#include "tools/export/html.h"

namespace lockctl::exporttool {
namespace {

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:2em;max-width:70em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em "
    ".5em;text-align:left;vertical-align:top}th{background:#f2f2f2}"
    ".mono{font-family:monospace;word-break:break-all}.ok{color:#1a7f37;font-weight:bold}"
    ".bad{color:#b42318;font-weight:bold}.warn{color:#9a6700;font-weight:bold}"
    "svg.chart text{font-size:11px;fill:#333}svg.chart .axis{stroke:#666}"
    "svg.chart .deny{fill:#b42318}svg.chart .would{fill:#e8a33d}";

std::string Row(const std::string& key, const std::string& value_html) {
  return "<tr><th>" + key + "</th><td>" + value_html + "</td></tr>\n";
}

std::string Status(bool ok, const std::string& good, const std::string& bad) {
  return ok ? "<span class=\"ok\">" + good + "</span>" : "<span class=\"bad\">" + bad + "</span>";
}

}  // namespace

std::string RenderReportHtml(const ReportInput& in) {
  const AuditFacts empty;
  const AuditFacts& f = in.facts ? *in.facts : empty;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\">\n"
    << "<title>lockd audit export: " << Html(in.host.hostname) << "</title>\n<style>" << kStyle
    << "</style>\n</head>\n<body>\n";
  o << "<h1>lockd audit export &mdash; " << Html(in.host.hostname) << "</h1>\n";
  o << "<p>Evidence taken from the terminal's own files by <span class=\"mono\">lockctl "
       "export</span>. The bundle's MANIFEST.sha256 lists every file with its SHA-256; check it "
       "offline with <span class=\"mono\">lockctl export verify BUNDLE --trust DIR</span>. "
       "Figures on this page are read from the raw audit log files in <span "
       "class=\"mono\">audit/</span>.</p>\n";

  o << "<h2 id=\"summary\">Summary</h2>\n<table>\n";
  o << Row("Terminal id", in.host.terminal_id.empty()
                              ? "unknown (" + Html(in.host.terminal_id_error) + ")"
                              : "<span class=\"mono\">" + Html(in.host.terminal_id) + "</span>");
  o << Row("Host", Html(in.host.hostname) + ", " + Html(in.host.kernel_sysname) + " " +
                       Html(in.host.kernel_release) + " " + Html(in.host.machine));
  o << Row("lockd version", Html(in.host.lockd_version));
  o << Row("Exported at",
           Html(in.host.exported_at) +
               (in.host.since.empty() ? "" : " (events since " + Html(in.host.since) + ")"));
  o << Row("Bundle signature",
           in.signer
               ? "signed by token " + Html(in.signer->token.token_id) + " (" +
                     Html(in.signer->token.holder) + ", " + Html(in.signer->token.organisation) +
                     "), key <span class=\"mono\">" + Html(in.signer->key_id) + "</span>"
               : "<span class=\"warn\">unsigned</span> (no token was given)");
  if (in.db) {
    o << Row("Database", "generation " + std::to_string(in.db->generation()) + ", " +
                             std::to_string(in.db->record_count()) + " files, " +
                             std::to_string(in.db->digest_count()) + " distinct contents, mode " +
                             Html(hashdb::ModeName(in.db->policy().mode)) + ", signer key " +
                             "<span class=\"mono\">" + Html(hashdb::ToHex(in.db->signer_key_id())) +
                             "</span>, " +
                             Status(in.db_facts.signature_verified,
                                    "signature verified with " + Html(in.db_facts.trust_dir),
                                    "signature NOT verified: " + Html(in.db_facts.verify_error)));
  } else {
    o << Row("Database",
             "<span class=\"bad\">not readable: " + Html(in.db_facts.verify_error) + "</span>");
  }
  if (in.have_log) {
    std::string chain = Status(in.chain.ok(), "chain verifies", "chain BROKEN");
    chain += ": " + std::to_string(in.chain.records) + " records";
    if (in.chain.records) {
      chain +=
          " (seq " + std::to_string(in.chain.first_seq) + ".." + std::to_string(in.chain.last_seq) +
          ", " +
          (in.chain.starts_at_genesis ? "from genesis" : "not from genesis: older files gone") +
          "), head <span class=\"mono\">" + Html(in.chain.head_hash) + "</span>";
    }
    if (in.chain.broken) {
      chain += "<br>first break: " + Html(in.chain.broken->place.file) + ":" +
               std::to_string(in.chain.broken->place.line) + ": " + Html(in.chain.broken->reason);
    }
    o << Row("Audit log", chain);
  } else {
    o << Row("Audit log",
             "<span class=\"bad\">no audit log found at " + Html(in.log_base) + "</span>");
  }
  std::uint64_t deny = 0, would = 0;
  for (const auto& b : f.blocks) (b.type == "deny" ? deny : would) += b.count;
  o << Row("Blocked executions", std::to_string(deny) + " denied, " + std::to_string(would) +
                                     " would have been denied (audit mode)");
  o << Row("Maintenance sessions", std::to_string(f.sessions.size()));
  if (!in.posture.empty()) {
    int n[3] = {0, 0, 0};
    for (const auto& c : in.posture) ++n[static_cast<int>(c.status)];
    o << Row("Posture (lockctl doctor)", std::to_string(n[0]) + " ok, " + std::to_string(n[1]) +
                                             " warn, " +
                                             (n[2] ? "<span class=\"bad\">" : "<span>") +
                                             std::to_string(n[2]) + " fail</span>");
  }
  o << Row("Daemon status",
           in.daemon_status ? "included (status.json)" : "daemon did not answer; not included");
  o << "</table>\n";

  o << "<h2 id=\"blocks-per-day\">Blocks per day (UTC)</h2>\n";
  std::vector<DayCount> days;
  for (const auto& b : f.blocks) {
    if (b.time.size() < 10) continue;
    // A repeat record is counted on the day of its last denial.
    days.push_back(DayCount{b.time.substr(0, 10), b.type == "deny" ? b.count : 0u,
                            b.type == "deny" ? 0u : b.count});
  }
  o << DailyBarChartSvg(FillDays(days));

  o << "<h2 id=\"top-blocked\">Top blocked files</h2>\n";
  const auto top = TopBlockedFiles(f, 20);
  if (top.empty()) {
    o << "<p>None.</p>\n";
  } else {
    o << "<table><tr><th>File</th><th>SHA-256</th><th>Denied</th><th>Would deny</th><th>Last "
         "(UTC)</th></tr>\n";
    for (const auto& t : top) {
      o << "<tr><td class=\"mono\">" << Html(t.path) << "</td><td class=\"mono\">"
        << Html(t.sha256.empty() ? "(not hashed)" : t.sha256) << "</td><td>" << t.deny
        << "</td><td>" << t.would_deny << "</td><td>" << Html(t.last_time) << "</td></tr>\n";
    }
    o << "</table>\n<p>All events: blocks.csv.</p>\n";
  }

  o << "<h2 id=\"maintenance\">Maintenance timeline</h2>\n";
  if (f.sessions.empty() && f.generations.empty()) {
    o << "<p>No maintenance sessions or database changes in the log.</p>\n";
  } else {
    if (f.sessions.empty()) o << "<p>No maintenance sessions in the log.</p>\n";
    if (!f.sessions.empty()) {
      o << "<table><tr><th>Started (UTC)</th><th>Ended (UTC)</th><th>How</th><th>Token, "
           "holder</th><th>Window</th><th>Result</th><th>Files learned</th></tr>\n";
    }
    for (const auto& s : f.sessions) {
      std::string result;
      if (s.end_type == "maintenance_finish") {
        result = "generation " + Html(s.previous_generation) + " &rarr; " + Html(s.generation) +
                 ": " + Html(s.added) + " added, " + Html(s.removed) + " removed, " +
                 Html(s.changed) + " changed";
      } else if (s.end_type == "maintenance_abort") {
        result = "aborted: database unchanged";
      } else if (s.end_type == "maintenance_expired") {
        result = "window expired: back to the policy mode";
      } else {
        result = "<span class=\"warn\">no end record in the log</span>";
      }
      o << "<tr><td>" << (s.start_seq ? Html(s.start_time) : "(before the log)") << "</td><td>"
        << Html(s.end_time) << "</td><td>" << Html(s.end_type) << "</td><td>" << Html(s.token_id)
        << "<br>" << Html(s.holder)
        << (s.organisation.empty() ? "" : " (" + Html(s.organisation) + ")") << "</td><td>"
        << (s.minutes.empty() ? "" : Html(s.minutes) + " min, until " + Html(s.ends)) << "</td><td>"
        << result << "</td><td>" << s.learned.size() << "</td></tr>\n";
    }
    if (!f.sessions.empty()) o << "</table>\n";
    o << "<h3>Database generations</h3>\n<table><tr><th>Seq</th><th>Time (UTC)</th><th>Event</th>"
         "<th>Generation</th><th>Details</th></tr>\n";
    for (const auto& g : f.generations) {
      o << "<tr><td>" << g.seq << "</td><td>" << Html(g.time) << "</td><td>" << Html(g.type)
        << "</td><td>" << Html(g.generation) << "</td><td>" << Html(g.message) << "</td></tr>\n";
    }
    o << "</table>\n";
  }
  if (!f.acts.empty()) {
    o << "<h3>Mode and trust changes, refused authorizations</h3>\n<table><tr><th>Seq</th><th>"
         "Time (UTC)</th><th>Event</th><th>Details</th></tr>\n";
    for (const auto& a : f.acts) {
      std::string details = Html(a.message);
      for (const auto& [k, v] : a.fields) details += "<br>" + Html(k) + ": " + Html(v);
      o << "<tr><td>" << a.seq << "</td><td>" << Html(a.time) << "</td><td>" << Html(a.type)
        << "</td><td>" << details << "</td></tr>\n";
    }
    o << "</table>\n";
  }

  if (!in.posture.empty()) {
    o << "<h2 id=\"posture\">Posture</h2>\n<table><tr><th>Check</th><th>Status</th><th>Why</th>"
         "</tr>\n";
    for (const auto& c : in.posture) {
      const char* cls = c.status == lockd::CheckStatus::kOk     ? "ok"
                        : c.status == lockd::CheckStatus::kWarn ? "warn"
                                                                : "bad";
      o << "<tr><td>" << Html(c.title) << "</td><td class=\"" << cls << "\">"
        << Html(lockd::CheckStatusName(c.status)) << "</td><td>" << Html(c.why) << "</td></tr>\n";
    }
    o << "</table>\n";
  }
  o << "<h2 id=\"files\">Files in this bundle</h2>\n<p>inventory.csv (the allowlist), "
       "allowlist.lockdb (the signed database itself), database.json, generations.json, "
       "maintenance.json, blocks.csv, chain.json and audit/ (the raw log files), posture.json, "
       "host.json, trust.json, status.json when the daemon answered, signer.pem and signer.json "
       "when signed, MANIFEST.sha256 and MANIFEST.sig. See docs/compliance.md.</p>\n";
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace lockctl::exporttool
