#include "tools/export/inventory.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <sstream>

#include "tools/export/csv.h"
#include "tools/output.h"

namespace lockctl::exporttool {
namespace {

struct Added {
  std::uint64_t generation = 0;
  std::string basis;
};

}  // namespace

std::string InventoryCsv(const hashdb::Database& db, const AuditFacts& facts) {
  // (path bytes, sha256 hex) -> the latest finished session that learned exactly that file.
  std::map<std::pair<std::string, std::string>, Added> learned;
  for (const auto& s : facts.sessions) {
    if (s.end_type != "maintenance_finish" || s.generation.empty()) continue;
    std::uint64_t gen = 0;
    const char* end = s.generation.data() + s.generation.size();
    const auto [ptr, ec] = std::from_chars(s.generation.data(), end, gen);
    if (ec != std::errc() || ptr != end || gen > db.generation()) continue;
    for (const auto& f : s.learned) {
      if (f.sha256.empty()) continue;
      auto& slot = learned[{f.path, f.sha256}];
      if (gen >= slot.generation) {
        slot.generation = gen;
        slot.basis = "audit log: maintenance_learned seq " + std::to_string(f.seq) +
                     " in session " + DisplayText(s.session) + ", finished as generation " +
                     std::to_string(gen) + " (maintenance_finish seq " + std::to_string(s.end_seq) +
                     ")";
      }
    }
  }
  const std::string unknown =
      "not recorded: the database keeps no per-entry history and the audit log has no "
      "maintenance_learned record for this file; it is present in generation " +
      std::to_string(db.generation()) + " (in force)";
  std::string out = CsvRow({"path", "path_hex", "sha256", "kind", "size", "mode", "owner",
                            "generation_added", "generation_added_basis"});
  hashdb::RecordCursor cursor(db);
  while (cursor.Next()) {
    const hashdb::RecordView& r = cursor.record();
    const std::string sha = hashdb::ToHex(*r.digest);
    char mode[16];
    std::snprintf(mode, sizeof mode, "0%o", r.mode);
    auto it = learned.find({std::string(r.path), sha});
    out +=
        CsvRow({DisplayText(r.path), HexBytes(r.path), sha, std::string(hashdb::KindName(r.kind)),
                std::to_string(r.size), mode, std::to_string(r.uid) + ":" + std::to_string(r.gid),
                it == learned.end() ? "" : std::to_string(it->second.generation),
                it == learned.end() ? unknown : it->second.basis});
  }
  return out;
}

std::string DatabaseJson(const hashdb::Database* db, const DatabaseFacts& f) {
  std::ostringstream o;
  o << "{\"schema\":\"lockd-export-database/1\"," << JsonBytesMember("path", f.path)
    << ",\"trust_dir\":" << JsonString(f.trust_dir)
    << ",\"file_sha256\":" << JsonString(f.file_sha256)
    << ",\"signature_verified\":" << (f.signature_verified ? "true" : "false")
    << ",\"error\":" << (f.verify_error.empty() ? "null" : JsonString(f.verify_error));
  if (db) {
    std::map<std::string, std::uint32_t> per_kind;
    for (std::uint32_t i = 0; i < db->digest_count(); ++i) {
      ++per_kind[std::string(hashdb::KindName(db->KindAt(i)))];
    }
    const auto& p = db->policy();
    o << ",\"generation\":" << db->generation()
      << ",\"created\":" << JsonString(IsoTimeUtc(db->created_unix()))
      << ",\"created_unix\":" << db->created_unix()
      << ",\"signer_key_id\":" << JsonString(hashdb::ToHex(db->signer_key_id()))
      << ",\"signature_algorithm\":" << JsonString(hashdb::AlgorithmName(db->signature_algorithm()))
      << ",\"content_sha256\":" << JsonString(hashdb::ToHex(db->content_digest()))
      << ",\"policy\":{\"mode\":" << JsonString(hashdb::ModeName(p.mode))
      << ",\"cover_shared_objects\":" << (p.cover_shared_objects ? "true" : "false")
      << ",\"cover_scripts\":" << (p.cover_scripts ? "true" : "false")
      << ",\"memfd_noexec\":" << (p.memfd_noexec ? "true" : "false")
      << ",\"deny_untrusted_fs\":" << (p.deny_untrusted_fs ? "true" : "false")
      << ",\"interpreters\":[";
    for (std::size_t i = 0; i < p.interpreters.size(); ++i) {
      o << (i ? "," : "") << JsonString(p.interpreters[i]);
    }
    o << "],\"watch\":[";
    for (std::size_t i = 0; i < p.watch.size(); ++i) o << (i ? "," : "") << JsonString(p.watch[i]);
    o << "],\"restrict_user_namespaces\":" << (p.restrict_user_namespaces ? "true" : "false")
      << ",\"deny_user_writable\":" << (p.deny_user_writable ? "true" : "false")
      << ",\"trusted_owners\":[";
    for (std::size_t i = 0; i < p.trusted_owners.size(); ++i) {
      o << (i ? "," : "") << p.trusted_owners[i];
    }
    o << "]},\"format_version\":" << db->format_version() << ",\"records\":" << db->record_count()
      << ",\"digests\":" << db->digest_count() << ",\"digests_per_kind\":{";
    bool first = true;
    for (const auto& [kind, n] : per_kind) {
      o << (first ? "" : ",") << JsonString(kind) << ":" << n;
      first = false;
    }
    o << "}";
  }
  o << "}\n";
  return o.str();
}

}  // namespace lockctl::exporttool
