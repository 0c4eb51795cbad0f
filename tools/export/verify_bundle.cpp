#include "tools/export/verify_bundle.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "audit/json_parse.h"
#include "audit/verify.h"
#include "hashdb/sha256.h"

namespace lockctl::exporttool {
namespace {

const std::string kBadSignature = std::string(kSignatureName) +
                                  ": the signature does not verify over " + kManifestName +
                                  " (the manifest or the signature was changed)";

std::string Sha256Hex(std::string_view bytes) {
  return hashdb::ToHex(
      hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
}

void CheckSignature(const Files& files, const hashdb::TrustStore* trust,
                    const std::string& trust_name, BundleVerdict& v) {
  auto sig_it = files.find(kSignatureName);
  if (sig_it == files.end()) {
    v.signature = "unsigned (no MANIFEST.sig: the bundle was exported without a token)";
    if (trust) {
      v.problems.push_back(std::string(kSignatureName) + ": missing: the bundle is unsigned, so " +
                           "it cannot be checked against the trust anchors in " + trust_name);
    }
    return;
  }
  auto sig = ParseManifestSignature(sig_it->second, kSignatureName);
  if (!sig) {
    v.problems.push_back(sig.error().message);
    v.signature = "malformed";
    return;
  }
  const std::string key_hex = hashdb::ToHex(sig->key_id);
  auto man = files.find(kManifestName);
  if (man == files.end()) {
    v.signature = "cannot be checked (no manifest)";
    return;
  }
  const auto message = ManifestSignedBytes(man->second);
  hashdb::Result<hashdb::PublicKey> own = hashdb::MakeError(hashdb::ErrorCode::kNotFound, "");
  if (auto pem = files.find(kSignerKeyName); pem != files.end()) {
    own = hashdb::PublicKey::FromPem(pem->second, kSignerKeyName);
  }
  if (!own) {
    v.problems.push_back(std::string(kSignerKeyName) +
                         ": missing or not a public key, so the signature cannot be checked");
  } else if (own->id() != sig->key_id) {
    v.problems.push_back(std::string(kSignerKeyName) + ": holds key " + hashdb::ToHex(own->id()) +
                         " but " + kSignatureName + " names key " + key_hex);
  } else if (own->algorithm() != sig->algorithm || !own->Verify(message, sig->signature)) {
    // Put first: when the signed manifest itself was changed, the sum mismatches that follow
    // are the manifest's doing, not their files'.
    v.problems.insert(v.problems.begin(), kBadSignature);
  }
  if (trust) {
    const hashdb::PublicKey* anchor = trust->Find(sig->key_id);
    if (!anchor) {
      v.problems.push_back(std::string(kSignatureName) + ": signed by key " + key_hex +
                           ", which is not a trust anchor in " + trust_name);
      v.signature = "signed by key " + key_hex + ": NOT a trust anchor in " + trust_name;
    } else if (!anchor->Verify(message, sig->signature)) {
      if (v.problems.empty() || v.problems.front() != kBadSignature) {
        v.problems.insert(v.problems.begin(), kBadSignature);
      }
      v.signature = "signed by key " + key_hex + ": does NOT verify";
    } else {
      v.signature = "valid, by key " + key_hex + ", a trust anchor in " + trust_name;
    }
  } else if (own && own->id() == sig->key_id && own->Verify(message, sig->signature)) {
    v.signature = "valid, by key " + key_hex +
                  " (the bundle's own signer.pem; not checked against trust anchors: give "
                  "--trust DIR to check who signed)";
  } else {
    v.signature = "signed by key " + key_hex + ": does NOT verify";
  }
}

void CheckChain(const Files& files, BundleVerdict& v) {
  const auto names = LogFilesInChainOrder(files);
  std::vector<lockd::audit::LogInput> logs;
  for (const auto& n : names) logs.push_back({n, files.at(n)});
  const auto report = lockd::audit::VerifyLogs(logs);
  auto chain_it = files.find("chain.json");
  if (chain_it == files.end()) {
    v.problems.push_back("chain.json: missing");
    return;
  }
  auto chain = lockd::audit::ParseJson(chain_it->second.substr(0, chain_it->second.find('\n')));
  const lockd::audit::JsonValue* head = chain ? chain->Find("head_hash") : nullptr;
  const lockd::audit::JsonValue* records = chain ? chain->Find("records") : nullptr;
  const lockd::audit::JsonValue* ok = chain ? chain->Find("ok") : nullptr;
  if (!head || !records || !ok || head->type != lockd::audit::JsonValue::Type::kString ||
      records->type != lockd::audit::JsonValue::Type::kUint) {
    v.problems.push_back("chain.json: not the export's chain record (head_hash, records, ok)");
    return;
  }
  if (names.empty()) {
    v.lines.push_back("log chain: no audit log files in the bundle (none on the terminal)");
    if (records->uint_value != 0) {
      v.problems.push_back("chain.json: records " + std::to_string(records->uint_value) +
                           " but the bundle holds no audit/ files");
    }
    return;
  }
  if (report.broken) {
    v.problems.push_back(report.broken->place.file + ":" +
                         std::to_string(report.broken->place.line) +
                         ": log chain broken: " + report.broken->reason);
  }
  if (head->string != report.head_hash || records->uint_value != report.records) {
    v.problems.push_back("chain.json: records " + std::to_string(records->uint_value) + " head " +
                         head->string + " but the audit/ files give records " +
                         std::to_string(report.records) + " head " + report.head_hash);
  }
  std::string line = "log chain: " + std::string(report.ok() ? "verifies" : "BROKEN") + ", " +
                     std::to_string(names.size()) + " file(s), " + std::to_string(report.records) +
                     " records";
  if (report.records) {
    line += " (seq " + std::to_string(report.first_seq) + ".." + std::to_string(report.last_seq) +
            (report.starts_at_genesis ? ", from genesis" : "") + "), head sha256 " +
            report.head_hash;
  }
  v.lines.push_back(line);
  for (const auto& t : report.torn) {
    v.lines.push_back("log chain: torn line at " + t.place.file + ":" +
                      std::to_string(t.place.line) +
                      (t.acknowledged ? " (acknowledged by the writer)" : " (torn tail)"));
  }
}

}  // namespace

std::vector<std::string> LogFilesInChainOrder(const Files& files) {
  std::vector<std::pair<long, std::string>> found;
  for (const auto& [name, bytes] : files) {
    if (!name.starts_with("audit/")) continue;
    const auto dot = name.rfind('.');
    const std::string suffix = dot == std::string::npos ? "" : name.substr(dot + 1);
    long n = 0;
    if (!suffix.empty() && std::all_of(suffix.begin(), suffix.end(), ::isdigit) &&
        suffix.size() < 6) {
      n = std::stol(suffix);
    }
    found.emplace_back(n, name);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> out;
  for (auto& [n, name] : found) out.push_back(name);
  return out;
}

BundleVerdict VerifyBundle(const BundleContents& bundle, const hashdb::TrustStore* trust,
                           const std::string& trust_name) {
  BundleVerdict v;
  const Files& files = bundle.files;
  for (const auto& odd : bundle.irregular)
    v.problems.push_back(odd + ": not a regular bundle file");
  auto man = files.find(kManifestName);
  if (man == files.end()) {
    v.problems.push_back(std::string(kManifestName) + ": missing");
    v.signature = "cannot be checked (no manifest)";
    return v;
  }
  auto entries = ParseManifest(man->second);
  if (!entries) {
    v.problems.push_back(entries.error().message);
    return v;
  }
  std::set<std::string> listed;
  std::size_t matched = 0;
  for (const auto& e : *entries) {
    listed.insert(e.name);
    auto it = files.find(e.name);
    if (it == files.end()) {
      v.problems.push_back(e.name + ": missing (listed in " + kManifestName + ")");
      continue;
    }
    const std::string sum = Sha256Hex(it->second);
    if (sum != e.sha256) {
      v.problems.push_back(e.name + ": SHA-256 " + sum + " does not match the manifest's " +
                           e.sha256);
    } else {
      ++matched;
    }
  }
  for (const auto& [name, bytes] : files) {
    if (name == kManifestName || name == kSignatureName || listed.count(name)) continue;
    v.problems.push_back(name + ": extra file, not listed in " + kManifestName);
  }
  v.lines.push_back("manifest: " + std::to_string(matched) + " of " +
                    std::to_string(entries->size()) + " files match their SHA-256");
  CheckSignature(files, trust, trust_name, v);
  CheckChain(files, v);
  return v;
}

}  // namespace lockctl::exporttool
