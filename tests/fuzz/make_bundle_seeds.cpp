// Writes the seed corpus for export_bundle_fuzz: a real bundle as `lockctl export` builds it
// (BuildBundle over a small terminal: no database, a four-record audit log, signed with
// fuzz_key.pem), as bundle.tar, and a small one holding only what `export verify` checks
// itself (manifest, signature, signer key, audit log, chain.json; the manifest and signature
// made again for those files; signer.json kept), as small.tar, plus its MANIFEST.sha256 and
// MANIFEST.sig alone; and for audit_log_fuzz the log itself (chain.jsonl) and the same log
// rotated into two files (rotated.jsonl: the files joined by a form feed, as that target
// splits its input).
// Usage: make_bundle_seeds KEY.pem BUNDLE_DIR LOG_DIR (run by hand when a format changes).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "audit/record.h"
#include "lockd/audit/audit_file.h"
#include "tools/export/bundle.h"
#include "tools/export/exporter.h"
#include "tools/export/tar.h"
#include "tools/token/token.h"

namespace {

namespace ex = lockctl::exporttool;

// The fuzz key as a token (what an auditor's token does for an export: sign the manifest).
class KeyToken : public lockctl::Token {
 public:
  explicit KeyToken(std::unique_ptr<hashdb::PrivateKey> key) : key_(std::move(key)) {}
  const hashdb::TokenInfo& info() const override { return info_; }
  std::string Describe() const override { return "fuzz key"; }
  const hashdb::PublicKey& public_key() const override { return key_->public_key(); }
  hashdb::Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> message) override {
    return key_->Sign(message);
  }

 private:
  std::unique_ptr<hashdb::PrivateKey> key_;
  hashdb::TokenInfo info_{"00112233445566778899aabbccddeeff", "Fuzz Auditor", "Fuzz", ""};
};

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

int Fail(const std::string& message) {
  std::cerr << "make_bundle_seeds: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: make_bundle_seeds KEY.pem BUNDLE_DIR LOG_DIR\n";
    return 2;
  }
  auto key = hashdb::PrivateKey::FromPemFile(argv[1]);
  if (!key.ok()) return Fail(key.error().message);
  KeyToken token(std::move(*key));
  char tmpl[] = "/tmp/make_bundle_seeds.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Fail("mkdtemp failed");
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/state");
  std::filesystem::create_directories(dir + "/trust");
  Write(dir + "/state/terminal-id", "0123456789abcdef0123456789abcdef\n");

  lockd::audit::AuditFileOptions options;
  options.path = dir + "/log/audit.jsonl";
  options.sync = false;
  auto log = lockd::audit::AuditFile::Open(options);
  if (!log.ok()) return Fail(log.error().message);
  using lockd::audit::Record;
  const auto at = [](Record r, const char* time) {
    r.set_time(*lockd::audit::ParseTime(time));
    return r;
  };
  const Record records[] = {
      at(Record("daemon_start").AddBytes("message", "lockd 0.1.0 starting"),
         "2026-11-24T08:00:00Z"),
      at(Record("deny")
             .AddBytes("reason", "not-in-allowlist")
             .AddBytes("mode", "enforce")
             .AddUint("pid", 4242)
             .AddUint("uid", 1000)
             .AddBytes("exe", "/usr/bin/bash")
             .AddBytes("path", "/tmp/dropper"),
         "2026-11-24T09:00:00Z"),
      at(Record("would_deny")
             .AddBytes("reason", "not-in-allowlist")
             .AddBytes("mode", "audit")
             .AddBytes("path", "/opt/x\n\xff"),
         "2026-11-24T10:00:00Z"),
      at(Record("daemon_stop").AddBytes("message", "lockd stopping"), "2026-11-24T11:00:00Z"),
  };
  if (auto s = (*log)->Append(records, nullptr); !s.ok()) return Fail(s.error().message);
  std::string whole;
  {
    std::ifstream in(options.path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::size_t cut = whole.find('\n', whole.size() / 2) + 1;  // after a whole line
  const std::string logs = argv[3];
  if (whole.empty() || cut == 0 || !Write(logs + "/chain.jsonl", whole) ||
      !Write(logs + "/rotated.jsonl", whole.substr(0, cut) + "\f" + whole.substr(cut))) {
    return Fail("cannot write the log seeds");
  }

  ex::ExportRequest request;
  request.config_path = "(seed)";
  request.config.database = dir + "/allowlist.lockdb";
  request.config.trust_dir = dir + "/trust";
  request.config.state_dir = dir + "/state";
  request.config.audit_log = options.path;
  request.config.control_socket = dir + "/no-daemon.sock";
  request.collect_posture = false;
  request.ask_daemon = false;
  request.now = *lockd::audit::ParseTime("2026-11-27T12:00:00Z");
  auto bundle = ex::BuildBundle(request, &token);
  std::filesystem::remove_all(dir);
  if (!bundle.ok()) return Fail(bundle.error().message);
  const std::string out = argv[2];
  auto tar = ex::WriteTar(bundle->files, 1800000000);
  if (!tar.ok() || !Write(out + "/bundle.tar", *tar)) return Fail("cannot write bundle.tar");

  ex::Files small;
  for (const auto& [name, bytes] : bundle->files) {
    if (name == ex::kSignerKeyName || name == ex::kSignerInfoName || name == "chain.json" ||
        name.rfind("audit/", 0) == 0) {
      small[name] = bytes;
    }
  }
  const std::string manifest = ex::MakeManifest(small);
  auto signature = ex::SignManifest(manifest, token);
  if (!signature.ok()) return Fail(signature.error().message);
  small[ex::kManifestName] = manifest;
  small[ex::kSignatureName] = *signature;
  auto small_tar = ex::WriteTar(small, 1800000000);
  if (!small_tar.ok() || !Write(out + "/small.tar", *small_tar) ||
      !Write(out + "/MANIFEST.sha256", manifest) || !Write(out + "/MANIFEST.sig", *signature)) {
    return Fail("cannot write the small seeds");
  }
  return 0;
}
