// The export bundle end to end, without root and without a daemon: a terminal's files made in
// a temp dir (signed database, trust dir, terminal id, an audit log written with lockd's own
// writer holding deny, would_deny, database and maintenance records with the documented
// fields), exported with a file token, verified, then damaged in every way that matters.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "audit/record.h"
#include "hashdb/sha256.h"
#include "lockd/audit/audit_file.h"
#include "tests/support/db_fixture.h"
#include "tests/tools/token/token_test_support.h"
#include "tools/export/bundle.h"
#include "tools/export/commands.h"
#include "tools/export/exporter.h"
#include "tools/export/tar.h"
#include "tools/export/verify_bundle.h"
#include "tools/token/file_token.h"

using lockctl::exporttool::BundleContents;
using lockctl::exporttool::Files;
using lockctl::exporttool::VerifyBundle;
using tokentest::Contains;

namespace {

const std::string kPassphrase = "auditor passphrase";
const std::string kHostilePath = std::string("/opt/x\n=cmd|',\"q\"\xff<script>alert(1)</script>");

lockd::audit::Record At(lockd::audit::Record r, const char* time) {
  r.set_time(*lockd::audit::ParseTime(time));
  return r;
}

struct Terminal {
  testsupport::TempDir dir;
  std::unique_ptr<hashdb::PrivateKey> db_key = testsupport::NewKey();
  lockd::Config config;
  hashdb::FileEntry learned = testsupport::EntryFor("/opt/app/new-tool", "new tool v2");

  Terminal() {
    for (const char* d : {"trust", "state", "log"}) ::mkdir(dir.Join(d).c_str(), 0755);
    testsupport::WriteFile(dir.Join("trust/signer.pem"), db_key->public_key().ToPem());
    testsupport::WriteFile(dir.Join("state/terminal-id"), "0123456789abcdef0123456789abcdef\n");
    hashdb::DatabaseContents c;
    c.generation = 2;
    c.entries = {testsupport::EntryFor("/opt/app/run", "run"), learned,
                 testsupport::EntryFor(kHostilePath, "hostile", hashdb::Kind::kScript)};
    const auto bytes = testsupport::BuildBytes(c, *db_key);
    testsupport::WriteFile(dir.Join("allowlist.lockdb"), std::string(bytes.begin(), bytes.end()));
    config.database = dir.Join("allowlist.lockdb");
    config.trust_dir = dir.Join("trust");
    config.state_dir = dir.Join("state");
    config.audit_log = dir.Join("log/audit.jsonl");
    config.control_socket = dir.Join("no-daemon.sock");
    WriteLog();
  }

  void WriteLog() {
    lockd::audit::AuditFileOptions o;
    o.path = config.audit_log;
    o.max_bytes = 1500;  // rotates: the chain must be followed across files
    o.sync = false;
    auto log = lockd::audit::AuditFile::Open(o);
    REQUIRE(log.ok());
    using lockd::audit::Record;
    auto append = [&](Record r) { REQUIRE((*log)->Append(r).ok()); };
    append(At(Record("daemon_start").AddBytes("message", "lockd 0.1.0 starting"),
              "2026-11-24T08:00:00Z"));
    append(At(Record("db_load")
                  .AddBytes("message",
                            "allowlist.lockdb generation 1, 2 digests, signer ab, mode enforce")
                  .AddUint("generation", 1),
              "2026-11-24T08:00:01Z"));
    auto deny = [&](const char* type, const std::string& path, const char* time) {
      append(At(Record(type)
                    .AddBytes("reason", "not-in-allowlist")
                    .AddBytes("mode", type == std::string("deny") ? "enforce" : "audit")
                    .AddUint("pid", 4242)
                    .AddUint("ppid", 1)
                    .AddUint("uid", 1000)
                    .AddBytes("exe", "/usr/bin/bash")
                    .AddBytes("path", path)
                    .AddDigest("sha256",
                               hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(path.data()),
                                               path.size()}))
                    .AddUint("dev", 2049)
                    .AddUint("ino", 77)
                    .AddUint("generation", 1)
                    .AddBool("cached", false),
                time));
    };
    deny("deny", kHostilePath, "2026-11-24T09:00:00Z");
    deny("deny", kHostilePath, "2026-11-24T10:00:00Z");
    deny("deny", "/tmp/dropper", "2026-11-26T10:00:00Z");
    deny("would_deny", "/tmp/tool", "2026-11-26T11:00:00Z");
    // A maintenance session, with the fields of docs/audit-log.md (the daemon passes them as
    // bytes; the generation as a number).
    append(At(Record("maintenance_start")
                  .AddBytes("message", "maintenance for 30 minutes")
                  .AddBytes("session", "m-0001")
                  .AddBytes("token_id", "5f0c7e1e2b8d4a6f9c3b1a2d4e6f8a0b")
                  .AddBytes("holder", "Hanako <b>Suzuki</b>")
                  .AddBytes("organisation", "ACME ATM Services")
                  .AddBytes("key_id", std::string(64, 'a'))
                  .AddBytes("minutes", "30")
                  .AddBytes("ends", "2026-11-27T10:30:00.000Z"),
              "2026-11-27T10:00:00Z"));
    append(At(Record("maintenance_learned")
                  .AddBytes("session", "m-0001")
                  .AddBytes("how", "write")
                  .AddBytes("path", learned.path)
                  .AddBytes("sha256", hashdb::ToHex(learned.digest))
                  .AddBytes("kind", "elf-exec"),
              "2026-11-27T10:05:00Z"));
    append(At(Record("maintenance_finish")
                  .AddBytes("message", "maintenance finished: generation 2 installed")
                  .AddUint("generation", 2)
                  .AddBytes("session", "m-0001")
                  .AddBytes("token_id", "5f0c7e1e2b8d4a6f9c3b1a2d4e6f8a0b")
                  .AddBytes("holder", "Hanako <b>Suzuki</b>")
                  .AddBytes("previous_generation", "1")
                  .AddBytes("db_sha256", std::string(64, 'b'))
                  .AddBytes("added", "1")
                  .AddBytes("removed", "0")
                  .AddBytes("changed", "0"),
              "2026-11-27T10:10:00Z"));
    append(At(Record("db_load")
                  .AddBytes("message", "allowlist.lockdb generation 2")
                  .AddUint("generation", 2),
              "2026-11-27T10:10:01Z"));
  }

  lockctl::exporttool::ExportRequest Request() const {
    lockctl::exporttool::ExportRequest r;
    r.config_path = "(test)";
    r.config = config;
    r.collect_posture = false;  // no fanotify probes in unit tests
    r.ask_daemon = false;
    r.now = *lockd::audit::ParseTime("2026-11-27T12:00:00Z");
    return r;
  }
};

struct Signer {
  testsupport::TempDir dir;
  std::unique_ptr<lockctl::FileToken> token;
  explicit Signer(const std::string& holder = "Auditor One") {
    const std::string folder = dir.Join("LOCKD-TOKEN");
    REQUIRE(lockctl::FileToken::Create(folder, {"", holder, "Bank Audit", "2030-12-31"},
                                       hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase,
                                       tokentest::kCheapKdf)
                .ok());
    tokentest::SecretPipe pass(kPassphrase);
    auto t = lockctl::FileToken::Open(folder, pass.source());
    REQUIRE(t.ok());
    token = std::move(*t);
  }
  hashdb::TrustStore Trust() const { return hashdb::TrustStore::FromKeys({token->public_key()}); }
};

std::string Problems(const lockctl::exporttool::BundleVerdict& v) {
  std::string s;
  for (const auto& p : v.problems) s += p + "\n";
  return s;
}

}  // namespace

TEST_CASE("export: bundle contents from a terminal's files") {
  Terminal term;
  Signer signer;
  auto result = lockctl::exporttool::BuildBundle(term.Request(), signer.token.get());
  REQUIRE(result.ok());
  const Files& f = result->files;
  for (const char* name : {"inventory.csv", "database.json", "generations.json", "maintenance.json",
                           "blocks.csv", "chain.json", "host.json", "trust.json", "report.html",
                           "allowlist.lockdb", "signer.pem", "signer.json", "MANIFEST.sha256",
                           "MANIFEST.sig", "audit/audit.jsonl", "audit/audit.jsonl.1"}) {
    CHECK_MESSAGE(f.count(name) == 1, name);
  }
  CHECK(result->chain_ok);
  // Inventory: the learned file's generation comes from the log; the others say it is unknown.
  const std::string& inv = f.at("inventory.csv");
  CHECK(
      inv.starts_with("path,path_hex,sha256,kind,size,mode,owner,generation_added,"
                      "generation_added_basis\r\n"));
  CHECK(Contains(inv, "/opt/app/new-tool,2f6f70742f6170702f6e65772d746f6f6c," +
                          hashdb::ToHex(term.learned.digest)));
  CHECK(Contains(inv, ",2,\"audit log: maintenance_learned seq "));
  CHECK(Contains(inv, "/opt/app/run,"));
  CHECK(Contains(inv, "\"not recorded: the database keeps no per-entry history"));
  CHECK(Contains(inv, "\"/opt/x\\x0a=cmd|',\"\"q\"\"\\xff<script>alert(1)</script>\""));
  CHECK(!Contains(inv, "\n="));
  // Blocks, generations, maintenance, host.
  const std::string& blocks = f.at("blocks.csv");
  CHECK(std::count(blocks.begin(), blocks.end(), '\n') == 5);
  CHECK(Contains(blocks, ",would_deny,not-in-allowlist,audit,/tmp/tool,"));
  CHECK(Contains(f.at("generations.json"), "\"type\":\"maintenance_finish\",\"generation\":\"2\""));
  CHECK(Contains(f.at("maintenance.json"), "\"holder\":\"Hanako <b>Suzuki</b>\""));
  CHECK(Contains(f.at("maintenance.json"), "\"end\":\"maintenance_finish\""));
  CHECK(Contains(f.at("maintenance.json"), "\"how\":\"write\",\"path\":\"/opt/app/new-tool\""));
  CHECK(Contains(f.at("host.json"), "\"terminal_id\":\"0123456789abcdef0123456789abcdef\""));
  CHECK(Contains(f.at("database.json"), "\"signature_verified\":true"));
  CHECK(Contains(f.at("database.json"), "\"generation\":2"));
  // The whole signed policy, the settings of format version 2 included.
  CHECK(Contains(f.at("database.json"), "\"format_version\":2"));
  CHECK(Contains(f.at("database.json"),
                 "\"watch\":[],\"restrict_user_namespaces\":true,\"deny_user_writable\":true,"
                 "\"trusted_owners\":[]}"));
  CHECK(Contains(f.at("chain.json"), "\"ok\":true,\"files\":[\"audit/audit.jsonl."));
  CHECK(Contains(f.at("chain.json"),
                 "\"audit/audit.jsonl.1\",\"audit/audit.jsonl\"],\"records\":10,"));
  CHECK(Contains(f.at("signer.json"), "\"holder\":\"Auditor One\""));
  // The report: hostile strings escaped, chart present, nothing external.
  const std::string& html = f.at("report.html");
  CHECK(Contains(html, "<svg class=\"chart\""));
  CHECK(Contains(html, "<title>2026-11-24: 2 denied, 0 would be denied</title>"));
  CHECK(Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(Contains(html, "Hanako &lt;b&gt;Suzuki&lt;/b&gt;"));
  CHECK(!Contains(html, "<script"));
  CHECK(!Contains(html, "<b>"));
  CHECK(!Contains(html, "http:"));
  CHECK(!Contains(html, "https:"));
  CHECK(!Contains(html, "//"));
  CHECK(!Contains(html, "src="));
  CHECK(!Contains(html, "href"));
  CHECK(!Contains(html, "url("));
  CHECK(Contains(html, "default-src 'none'"));
}

TEST_CASE("export: --since keeps the raw log whole but limits the events") {
  Terminal term;
  auto req = term.Request();
  req.since = *lockd::audit::ParseTime("2026-11-26");
  auto result = lockctl::exporttool::BuildBundle(req, nullptr);
  REQUIRE(result.ok());
  const std::string& blocks = result->files.at("blocks.csv");
  CHECK(std::count(blocks.begin(), blocks.end(), '\n') == 3);
  CHECK(!Contains(blocks, "2026-11-24"));
  CHECK(Contains(result->files.at("chain.json"), "\"records\":10,"));
  CHECK(result->files.count("MANIFEST.sig") == 0);
}

TEST_CASE("export verify: round trip, every byte of every file, missing, extra, wrong signer") {
  Terminal term;
  Signer signer;
  auto result = lockctl::exporttool::BuildBundle(term.Request(), signer.token.get());
  REQUIRE(result.ok());
  const auto trust = signer.Trust();
  const BundleContents good{result->files, {}};
  {
    auto v = VerifyBundle(good, &trust, "trust");
    CHECK_MESSAGE(v.ok(), Problems(v));
    CHECK(Contains(v.signature, "valid, by key " + hashdb::ToHex(signer.token->public_key().id())));
    auto plain = VerifyBundle(good, nullptr, "");
    CHECK(plain.ok());
    CHECK(Contains(plain.signature, "not checked against trust anchors"));
  }
  // One byte changed, in each file, at the start, middle and end: verify names that file.
  // (No structured bindings: CHECK_MESSAGE's lambda captures them, which clang 14 refuses.)
  for (const auto& file : good.files) {
    const std::string& name = file.first;
    const std::string& bytes = file.second;
    for (std::size_t at : {std::size_t{0}, bytes.size() / 2, bytes.size() - 1}) {
      BundleContents bad = good;
      bad.files[name][at] ^= 0x01;
      auto v = VerifyBundle(bad, &trust, "trust");
      CHECK_MESSAGE(!v.ok(), (name + " byte " + std::to_string(at)));
      REQUIRE(!v.problems.empty());
      // The manifest and its signature vouch for each other: a change in either is named as
      // "MANIFEST.sig: ... does not verify over MANIFEST.sha256".
      const std::string& first = v.problems.front();
      CHECK_MESSAGE((first.starts_with(name + ":") ||
                     (name.starts_with("MANIFEST") && first.starts_with("MANIFEST.sig:") &&
                      Contains(first, "MANIFEST.sha256"))),
                    (name + " byte " + std::to_string(at) + ": " + Problems(v)));
    }
  }
  // A file missing, a file added.
  for (const auto& file : good.files) {
    const std::string& name = file.first;
    if (name == "MANIFEST.sha256") continue;
    BundleContents bad = good;
    bad.files.erase(name);
    auto v = VerifyBundle(bad, &trust, "trust");
    CHECK_MESSAGE(!v.ok(), name);
    CHECK_MESSAGE(Contains(Problems(v), name + ": missing"), (name + ": " + Problems(v)));
  }
  {
    BundleContents bad = good;
    bad.files["notes.txt"] = "planted";
    auto v = VerifyBundle(bad, &trust, "trust");
    CHECK(!v.ok());
    CHECK(Contains(Problems(v), "notes.txt: extra file, not listed in MANIFEST.sha256"));
    bad = good;
    bad.irregular.push_back("evil-link (a symbolic link)");
    CHECK(!VerifyBundle(bad, &trust, "trust").ok());
  }
  // A consistent re-signing by another token: fine on its own, refused with --trust.
  {
    Signer mallory("Mallory");
    auto forged = lockctl::exporttool::BuildBundle(term.Request(), mallory.token.get());
    REQUIRE(forged.ok());
    const BundleContents f{forged->files, {}};
    CHECK(VerifyBundle(f, nullptr, "").ok());
    auto v = VerifyBundle(f, &trust, "trust");
    CHECK(!v.ok());
    CHECK(Contains(Problems(v), "MANIFEST.sig: signed by key " +
                                    hashdb::ToHex(mallory.token->public_key().id()) +
                                    ", which is not a trust anchor in trust"));
    // Mallory's signature with the right signer.pem swapped in: the key ids disagree.
    BundleContents swapped = f;
    swapped.files["MANIFEST.sig"] = good.files.at("MANIFEST.sig");
    CHECK(!VerifyBundle(swapped, nullptr, "").ok());
  }
  // Unsigned: plain "unsigned"; with --trust it fails.
  {
    auto unsigned_bundle = lockctl::exporttool::BuildBundle(term.Request(), nullptr);
    REQUIRE(unsigned_bundle.ok());
    const BundleContents u{unsigned_bundle->files, {}};
    auto v = VerifyBundle(u, nullptr, "");
    CHECK(v.ok());
    CHECK(v.signature.starts_with("unsigned"));
    CHECK(!VerifyBundle(u, &trust, "trust").ok());
  }
  // A log edited and the manifest re-computed (no signature): the chain check still catches it.
  {
    auto unsigned_bundle = lockctl::exporttool::BuildBundle(term.Request(), nullptr);
    REQUIRE(unsigned_bundle.ok());
    Files files = unsigned_bundle->files;
    std::string& log = files.at("audit/audit.jsonl");
    const auto at = log.find("Hanako");
    if (at != std::string::npos) {
      log[at] = 'X';
    } else {
      std::string& older = files.at("audit/audit.jsonl.1");
      older[older.find("4242")] = '5';
    }
    files["MANIFEST.sha256"] = lockctl::exporttool::MakeManifest(files);
    auto v = VerifyBundle({files, {}}, nullptr, "");
    CHECK(!v.ok());
    CHECK(Contains(Problems(v), "log chain broken"));
  }
}

TEST_CASE("export: tar archive round trip, deterministic, strict reader") {
  Files files{{"b.txt", "bee"}, {"a.csv", std::string(1000, 'x')}, {"audit/audit.jsonl", "{}\n"}};
  auto tar = lockctl::exporttool::WriteTar(files, 1800000000);
  REQUIRE(tar.ok());
  CHECK(tar->size() % 512 == 0);
  CHECK(*tar == *lockctl::exporttool::WriteTar(files, 1800000000));
  auto back = lockctl::exporttool::ReadTar(*tar, "t.tar");
  REQUIRE(back.ok());
  CHECK(*back == files);
  std::string bad = *tar;
  bad[10] ^= 1;  // a header byte: checksum fails
  auto r = lockctl::exporttool::ReadTar(bad, "t.tar");
  REQUIRE(!r.ok());
  CHECK(Contains(r.error().message, "t.tar: tar header at byte 0: header checksum does not match"));
  CHECK(!lockctl::exporttool::ReadTar(tar->substr(0, 512), "t.tar").ok());
  CHECK(!lockctl::exporttool::WriteTar({{"../escape", "x"}}, 0).ok());
  CHECK(!lockctl::exporttool::WriteTar({{"/abs", "x"}}, 0).ok());
  CHECK(lockctl::exporttool::IsSafeMemberName("audit/audit.jsonl.10"));
  CHECK(!lockctl::exporttool::IsSafeMemberName("a//b"));
  CHECK(!lockctl::exporttool::IsSafeMemberName("a/./b"));
  CHECK(!lockctl::exporttool::IsSafeMemberName("a b"));
}

TEST_CASE("export: manifest and signature formats are strict") {
  using lockctl::exporttool::ParseManifest;
  const std::string sum(64, 'a');
  CHECK(ParseManifest(sum + "  a\n" + sum + "  b\n").ok());
  CHECK(!ParseManifest(sum + "  b\n" + sum + "  a\n").ok());  // order
  CHECK(!ParseManifest(sum + "  a\n" + sum + "  a\n").ok());  // twice
  CHECK(!ParseManifest(sum + " a\n").ok());
  CHECK(!ParseManifest(sum + "  ../a\n").ok());
  CHECK(!ParseManifest(sum + "  a").ok());
  CHECK(!ParseManifest(std::string(64, 'A') + "  a\n").ok());
  CHECK(!ParseManifest(sum + "  MANIFEST.sig\n").ok());
  auto key = testsupport::NewKey();
  auto sig = lockctl::exporttool::SignManifest(sum + "  a\n", *key);
  REQUIRE(sig.ok());
  auto parsed = lockctl::exporttool::ParseManifestSignature(*sig, "MANIFEST.sig");
  REQUIRE(parsed.ok());
  CHECK(parsed->key_id == key->public_key().id());
  CHECK(key->public_key().Verify(lockctl::exporttool::ManifestSignedBytes(sum + "  a\n"),
                                 parsed->signature));
  // Domain separation: the same signature does not verify over the bare manifest.
  const std::string bare = sum + "  a\n";
  CHECK(!key->public_key().Verify({reinterpret_cast<const std::uint8_t*>(bare.data()), bare.size()},
                                  parsed->signature));
  CHECK(!lockctl::exporttool::ParseManifestSignature("lockd-export-signature-v1\n", "s").ok());
}

TEST_CASE("lockctl export / export verify: directory and .tar, exit codes, names on stderr") {
  Terminal term;
  testsupport::TempDir out;
  testsupport::WriteFile(term.dir.Join("lockd.toml"),
                         "database = \"" + term.config.database + "\"\ntrust_dir = \"" +
                             term.config.trust_dir + "\"\nstate_dir = \"" + term.config.state_dir +
                             "\"\naudit_log = \"" + term.config.audit_log +
                             "\"\ncontrol_socket = \"" + term.config.control_socket + "\"\n");
  for (const std::string name : {"bundle", "bundle.tar"}) {
    lockctl::ExportArgs args;
    args.out = out.Join(name);
    args.config = term.dir.Join("lockd.toml");
    args.config_given = true;
    args.collect_posture = false;
    args.ask_daemon = false;
    std::ostringstream o, e;
    REQUIRE_MESSAGE(lockctl::RunExport(args, o, e) == 0, e.str());
    CHECK(Contains(o.str(), "UNSIGNED (no --token)"));
    // Never written over.
    std::ostringstream o2, e2;
    CHECK(lockctl::RunExport(args, o2, e2) == 2);

    std::ostringstream vo, ve;
    CHECK(lockctl::RunExportVerify({args.out, ""}, vo, ve) == 0);
    CHECK(Contains(vo.str(), "signature: unsigned"));
    CHECK(Contains(vo.str(), "result:    OK"));
    std::ostringstream to, te;
    CHECK(lockctl::RunExportVerify({args.out, term.config.trust_dir}, to, te) == 1);
    CHECK(Contains(te.str(), "MANIFEST.sig: missing: the bundle is unsigned"));
  }
  // One byte changed on disk in the directory bundle.
  const std::string path = out.Join("bundle/blocks.csv");
  {
    FILE* f = std::fopen(path.c_str(), "r+");
    REQUIRE(f);
    std::fseek(f, 40, SEEK_SET);
    std::fputc('Z', f);
    std::fclose(f);
  }
  std::ostringstream vo, ve;
  CHECK(lockctl::RunExportVerify({out.Join("bundle"), ""}, vo, ve) == 1);
  CHECK(Contains(ve.str(), "blocks.csv: SHA-256 "));
  CHECK(Contains(vo.str(), "result:    DOES NOT VERIFY"));
  std::ostringstream no, ne;
  CHECK(lockctl::RunExportVerify({out.Join("nonexistent"), ""}, no, ne) == 2);
  lockctl::ExportArgs bad;
  bad.out = out.Join("x");
  bad.config = term.dir.Join("missing.toml");
  bad.config_given = true;
  std::ostringstream bo, be;
  CHECK(lockctl::RunExport(bad, bo, be) == 2);
}
