#include "tools/export/exporter.h"

#include <filesystem>

#include "audit/record.h"
#include "hashdb/database.h"
#include "hashdb/sha256.h"
#include "hashdb/small_file.h"
#include "hashdb/trust_store.h"
#include "lockd/control/socket.h"
#include "tools/doctor/commands.h"
#include "tools/export/csv.h"
#include "tools/export/evidence.h"
#include "tools/export/inventory.h"
#include "tools/export/report.h"
#include "tools/output.h"

namespace lockctl::exporttool {
namespace {

using hashdb::ErrorCode;

constexpr std::size_t kMaxDatabaseBytes = 1ull << 31;

std::string Sha256Hex(std::string_view bytes) {
  return hashdb::ToHex(
      hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
}

std::string TrustJson(const std::string& dir, hashdb::Result<hashdb::TrustStore>& trust) {
  std::string o = "{\"schema\":\"lockd-export-trust/1\"," + JsonBytesMember("dir", dir);
  if (!trust) return o + ",\"error\":" + JsonString(trust.error().message) + ",\"anchors\":[]}\n";
  o += ",\"error\":null,\"anchors\":[";
  for (std::size_t i = 0; i < trust->keys().size(); ++i) {
    const auto& k = trust->keys()[i];
    o += std::string(i ? "," : "") + "{\"key_id\":" + JsonString(hashdb::ToHex(k.id())) +
         ",\"algorithm\":" + JsonString(hashdb::AlgorithmName(k.algorithm())) +
         ",\"pem\":" + JsonString(k.ToPem()) + "}";
  }
  return o + "]}\n";
}

}  // namespace

hashdb::Result<ExportResult> BuildBundle(const ExportRequest& req, Token* token) {
  ExportResult result;
  Files& files = result.files;
  const lockd::Config& cfg = req.config;

  // The audit log, raw, and its chain.
  std::vector<lockd::audit::LogInput> logs;
  std::vector<std::string> log_names;
  auto paths = lockd::audit::DiscoverLogFiles(cfg.audit_log);
  if (paths) {
    for (const auto& p : *paths) {
      auto bytes = lockd::audit::ReadLogFile(p);
      if (!bytes) return bytes.error();
      const std::string name = "audit/" + std::filesystem::path(p).filename().string();
      log_names.push_back(name);
      logs.push_back({name, *bytes});
      files[name] = std::move(*bytes);
    }
  } else if (paths.error().code != ErrorCode::kNotFound) {
    return paths.error();
  } else {
    result.notes.push_back("no audit log at " + cfg.audit_log + ": chain.json records none");
  }
  const lockd::audit::VerifyReport chain = lockd::audit::VerifyLogs(logs);
  result.chain_ok = !logs.empty() && chain.ok();
  result.head_hash = chain.head_hash;
  result.head_seq = chain.last_seq;
  if (chain.broken) {
    result.notes.push_back("audit log chain BROKEN at " + chain.broken->place.file + ":" +
                           std::to_string(chain.broken->place.line) + ": " + chain.broken->reason);
  }
  files["chain.json"] = ChainJson(chain, log_names, paths ? cfg.audit_log : "");
  const AuditFacts all = ReadAuditFacts(logs, std::nullopt);
  const AuditFacts facts = req.since ? ReadAuditFacts(logs, req.since) : all;

  // The database, verified with the terminal's trust anchors.
  auto trust = hashdb::TrustStore::LoadDirectory(cfg.trust_dir);
  files["trust.json"] = TrustJson(cfg.trust_dir, trust);
  DatabaseFacts dbf;
  dbf.path = cfg.database;
  dbf.trust_dir = cfg.trust_dir;
  std::shared_ptr<const hashdb::Database> db;
  auto db_bytes = hashdb::ReadSmallFile(cfg.database, kMaxDatabaseBytes);
  if (db_bytes) {
    dbf.file_sha256 = Sha256Hex(*db_bytes);
    files["allowlist.lockdb"] = *db_bytes;
    const std::span<const std::uint8_t> span(
        reinterpret_cast<const std::uint8_t*>(db_bytes->data()), db_bytes->size());
    auto verified = trust ? hashdb::Database::FromBytes(span, cfg.database, *trust)
                          : hashdb::Result<std::shared_ptr<const hashdb::Database>>(trust.error());
    if (verified) {
      db = *verified;
      dbf.signature_verified = true;
    } else {
      dbf.verify_error = verified.error().message;
      auto unverified = hashdb::Database::FromBytesUnverified(span, cfg.database);
      if (unverified) db = *unverified;
      result.notes.push_back("database does not verify: " + dbf.verify_error);
    }
  } else {
    dbf.verify_error = db_bytes.error().message;
    result.notes.push_back("no database: " + dbf.verify_error);
  }
  files["database.json"] = DatabaseJson(db.get(), dbf);
  files["inventory.csv"] = db ? InventoryCsv(*db, all)
                              : CsvRow({"path", "path_hex", "sha256", "kind", "size", "mode",
                                        "owner", "generation_added", "generation_added_basis"});
  files["generations.json"] = GenerationsJson(facts);
  files["maintenance.json"] = MaintenanceJson(facts);
  files["blocks.csv"] = BlocksCsv(facts);

  // Posture, host, daemon.
  std::vector<lockd::PostureCheck> checks;
  if (req.collect_posture) {
    lockd::PostureFacts pf = lockd::CollectPostureFacts(req.posture);
    if (db && dbf.signature_verified) {
      pf.interpreters = lockd::InterpreterFactsFromDatabase(*db, cfg.database);
    }
    checks = lockd::EvaluatePosture(pf);
    files["posture.json"] = DoctorJson(pf, checks);
  }
  HostFacts host = CollectHostFacts(cfg.state_dir);
  host.exported_at = lockd::audit::FormatTime(req.now);
  host.config_path = req.config_path;
  host.since = req.since_text;
  files["host.json"] = HostJson(host);
  bool have_status = false;
  if (req.ask_daemon) {
    auto reply = lockd::os::ControlRequest(cfg.control_socket, "status --json", 3000);
    if (reply && reply->starts_with("ok\n")) {
      files["status.json"] = reply->substr(3);
      have_status = true;
    } else {
      result.notes.push_back("daemon did not answer on " + cfg.control_socket +
                             ": status.json not included");
    }
  }

  ReportInput in;
  in.host = host;
  in.db = db.get();
  in.db_facts = dbf;
  in.chain = chain;
  in.have_log = !logs.empty();
  in.log_base = cfg.audit_log;
  in.facts = &facts;
  in.posture = checks;
  in.daemon_status = have_status;
  if (token) {
    in.signer =
        SignerFacts{token->info(), hashdb::ToHex(token->public_key().id()), token->Describe()};
    const auto& i = token->info();
    files[kSignerKeyName] = token->public_key().ToPem();
    files[kSignerInfoName] =
        "{\"schema\":\"lockd-export-signer/1\",\"key_id\":" +
        JsonString(hashdb::ToHex(token->public_key().id())) +
        ",\"algorithm\":" + JsonString(hashdb::AlgorithmName(token->public_key().algorithm())) +
        "," + JsonBytesMember("token_id", i.token_id) + "," + JsonBytesMember("holder", i.holder) +
        "," + JsonBytesMember("organisation", i.organisation) + "," +
        JsonBytesMember("not_after", i.not_after) + "}\n";
  }
  files["report.html"] = RenderReportHtml(in);

  const std::string manifest = MakeManifest(files);
  files[kManifestName] = manifest;
  if (token) {
    auto sig = SignManifest(manifest, *token);
    if (!sig) return sig.error().Wrap("sign the manifest with " + token->Describe());
    files[kSignatureName] = *sig;
  }
  return result;
}

}  // namespace lockctl::exporttool
