#include "tools/fleet/bundle_facts.h"

#include <span>

#include "audit/json_parse.h"
#include "hashdb/database.h"
#include "tools/export/verify_bundle.h"
#include "tools/output.h"

namespace lockctl::fleet {
namespace {

using hashdb::ErrorCode;
using hashdb::MakeError;
using lockd::audit::JsonValue;

constexpr char kHost[] = "host.json";
constexpr char kChain[] = "chain.json";

// The export writes each JSON file as one object on one line followed by "\n".
hashdb::Result<JsonValue> ReadJsonFile(const exporttool::Files& files, const std::string& name) {
  auto it = files.find(name);
  if (it == files.end()) return MakeError(ErrorCode::kFormat, name + ": missing");
  const std::string& text = it->second;
  auto json = lockd::audit::ParseJson(std::string_view(text).substr(0, text.find('\n')));
  if (!json) return MakeError(ErrorCode::kFormat, name + ": " + json.error().message);
  if (json->type != JsonValue::Type::kObject) {
    return MakeError(ErrorCode::kFormat, name + ": expected a JSON object");
  }
  return json;
}

std::string Text(const JsonValue& o, std::string_view key) { return exporttool::FieldText(o, key); }

hashdb::Result<std::uint64_t> Uint(const JsonValue& o, std::string_view key,
                                   const std::string& file) {
  const JsonValue* v = o.Find(key);
  if (!v || v->type != JsonValue::Type::kUint) {
    return MakeError(ErrorCode::kFormat,
                     file + ": member \"" + std::string(key) + "\" is not an unsigned number");
  }
  return v->uint_value;
}

DatabaseExtract ReadDatabase(const exporttool::Files& files, const hashdb::TrustStore* db_trust) {
  DatabaseExtract d;
  if (auto j = ReadJsonFile(files, "database.json")) {
    const JsonValue* v = j->Find("signature_verified");
    d.verified_on_terminal = v && v->type == JsonValue::Type::kBool && v->boolean;
    d.terminal_verify_error = Text(*j, "error");
  }
  auto it = files.find("allowlist.lockdb");
  if (it == files.end()) {
    d.error = "no allowlist.lockdb in the bundle (the terminal had no readable database)";
    return d;
  }
  const std::span<const std::uint8_t> bytes(
      reinterpret_cast<const std::uint8_t*>(it->second.data()), it->second.size());
  auto db = hashdb::Database::FromBytesUnverified(bytes, "allowlist.lockdb");
  if (!db) {
    d.error = db.error().message;
    return d;
  }
  if (db_trust) {
    auto verified = hashdb::Database::FromBytes(bytes, "allowlist.lockdb", *db_trust);
    d.fleet_signature = verified ? "verified" : verified.error().message;
  }
  const hashdb::Database& base = **db;
  d.present = true;
  d.generation = base.generation();
  d.created = IsoTimeUtc(base.created_unix());
  d.signer_key_id = hashdb::ToHex(base.signer_key_id());
  d.content_sha256 = hashdb::ToHex(base.content_digest());
  d.mode = std::string(hashdb::ModeName(base.policy().mode));
  d.records = base.record_count();
  d.digests.reserve(base.digest_count());
  for (std::uint32_t i = 0; i < base.digest_count(); ++i) {
    d.digests.push_back(DigestPath{base.DigestAt(i), std::string(base.FirstRecordOf(i).path)});
  }
  return d;
}

}  // namespace

std::vector<lockd::audit::LogInput> BundleLogs(const exporttool::Files& files) {
  std::vector<lockd::audit::LogInput> logs;
  for (const auto& name : exporttool::LogFilesInChainOrder(files)) {
    logs.push_back({name, files.at(name)});
  }
  return logs;
}

std::string ClaimedTerminalId(const exporttool::BundleContents& bundle) {
  auto host = ReadJsonFile(bundle.files, kHost);
  return host ? Text(*host, "terminal_id") : std::string();
}

hashdb::Result<BundleFacts> ReadBundleFacts(const exporttool::BundleContents& bundle,
                                            const std::string& source,
                                            const hashdb::TrustStore* db_trust) {
  const exporttool::Files& files = bundle.files;
  BundleFacts b;
  b.source = source;
  auto host = ReadJsonFile(files, kHost);
  if (!host) return host.error();
  b.terminal_id = Text(*host, "terminal_id");
  b.hostname = Text(*host, "hostname");
  b.exported_at = Text(*host, "exported_at");
  b.lockd_version = Text(*host, "lockd_version");
  b.since = Text(*host, "since");
  if (files.count(exporttool::kSignerInfoName)) {
    auto signer = ReadJsonFile(files, exporttool::kSignerInfoName);
    if (!signer) return signer.error();
    b.exporter_key_id = Text(*signer, "key_id");
    b.exporter_holder = Text(*signer, "holder");
    b.exporter_token_id = Text(*signer, "token_id");
    b.exporter_organisation = Text(*signer, "organisation");
  }
  auto chain = ReadJsonFile(files, kChain);
  if (!chain) return chain.error();
  auto records = Uint(*chain, "records", kChain);
  auto first = Uint(*chain, "first_seq", kChain);
  auto last = Uint(*chain, "last_seq", kChain);
  if (!records) return records.error();
  if (!first) return first.error();
  if (!last) return last.error();
  b.chain_records = *records;
  b.first_seq = *first;
  b.last_seq = *last;
  b.head_hash = Text(*chain, "head_hash");
  b.db = ReadDatabase(files, db_trust);
  b.facts = exporttool::ReadAuditFacts(BundleLogs(files), std::nullopt);
  return b;
}

}  // namespace lockctl::fleet
