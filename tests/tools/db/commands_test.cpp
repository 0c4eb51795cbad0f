#include "tools/db/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "audit/json_parse.h"
#include "doctest/doctest.h"
#include "tests/support/db_fixture.h"
#include "tools/commands.h"

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Copy(const std::string& from, const std::string& to, unsigned mode) {
  testsupport::WriteFile(to, Slurp(from), mode);
}

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

// A generated image tree, a key pair and a trust directory holding its public key.
struct Fixture {
  testsupport::TempDir dir;
  std::string image = dir.Join("image");
  std::string keys = dir.Join("keys");
  std::string trust = dir.Join("trust");
  std::string db = dir.Join("allowlist.lockdb");

  Fixture() {
    for (const std::string& d :
         {image, image + "/usr", image + "/usr/bin", image + "/usr/lib", image + "/var", trust}) {
      REQUIRE(::mkdir(d.c_str(), 0755) == 0);
    }
    Copy("/bin/true", image + "/usr/bin/true", 0755);
    Copy("/lib/x86_64-linux-gnu/libz.so.1", image + "/usr/lib/libz.so.1", 0644);
    testsupport::WriteFile(image + "/usr/bin/hello", "#!/bin/sh\necho hello\n", 0755);
    testsupport::WriteFile(image + "/usr/lib/mod.py", "print('x')\n", 0644);
    testsupport::WriteFile(image + "/usr/bin/odd\xff\nname.sh", "echo odd\n", 0644);
    testsupport::WriteFile(image + "/var/log.txt", "not code\n", 0644);
    REQUIRE(::symlink("true", (image + "/usr/bin/link").c_str()) == 0);
    REQUIRE(::mkfifo((image + "/usr/bin/fifo").c_str(), 0755) == 0);
    std::ostringstream out, err;
    REQUIRE(lockctl::RunKeyGenerate(keys, "p256", out, err) == lockctl::kExitOk);
    Copy(keys + "/public.pem", trust + "/signer.pem", 0644);
  }

  Run Build(std::uint64_t generation = 1, const std::string& out_path = "") {
    lockctl::DbBuildOptions o;
    o.roots = {image};
    o.strip_prefix = image;
    o.key_path = keys + "/private.key";
    o.out_path = out_path.empty() ? db : out_path;
    o.generation = generation;
    Run r;
    std::ostringstream out, err;
    r.rc = lockctl::RunDbBuild(o, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
};

template <typename F>
Run Capture(F f) {
  std::ostringstream out, err;
  Run r;
  r.rc = f(out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace

TEST_CASE("key generate writes a 0600 PKCS#8 key and a public key, never overwriting") {
  testsupport::TempDir dir;
  for (const char* type : {"p256", "ed25519"}) {
    const std::string keys = dir.Join(type);
    Run r = Capture(
        [&](auto& out, auto& err) { return lockctl::RunKeyGenerate(keys, type, out, err); });
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("key id:") == 0);
    struct stat st;
    REQUIRE(::stat((keys + "/private.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(Slurp(keys + "/private.key").find("-----BEGIN PRIVATE KEY-----") == 0);
    auto pub = hashdb::PublicKey::FromPemFile(keys + "/public.pem");
    REQUIRE(pub.ok());
    CHECK(r.out.find(hashdb::ToHex(pub->id())) != std::string::npos);
    const std::string before = Slurp(keys + "/private.key");
    Run again = Capture(
        [&](auto& out, auto& err) { return lockctl::RunKeyGenerate(keys, type, out, err); });
    CHECK(again.rc == lockctl::kExitUsage);
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(Slurp(keys + "/private.key") == before);
  }
  Run bad = Capture([&](auto& out, auto& err) {
    return lockctl::RunKeyGenerate(dir.Join("x"), "rsa", out, err);
  });
  CHECK(bad.rc == lockctl::kExitUsage);
}

TEST_CASE("db build -> verify -> show -> list -> lookup round trip") {
  Fixture f;
  Run build = f.Build();
  INFO(build.out, build.err);
  REQUIRE(build.rc == 0);
  CHECK(build.out.find("recorded: 5 files") != std::string::npos);
  CHECK(build.out.find("skipped:  0") != std::string::npos);

  Run verify = Capture([&](auto& o, auto& e) { return lockctl::RunDbVerify(f.db, f.trust, o, e); });
  CHECK(verify.rc == 0);
  CHECK(verify.out.find("valid: generation 1, 5 paths") != std::string::npos);

  Run show = Capture(
      [&](auto& o, auto& e) { return lockctl::RunDbShow(f.db, f.trust, false, true, o, e); });
  REQUIRE(show.rc == 0);
  auto json = lockd::audit::ParseJson(show.out.substr(0, show.out.size() - 1));
  REQUIRE(json.ok());
  CHECK(json->Find("records")->uint_value == 5);
  CHECK(json->Find("generation")->uint_value == 1);
  CHECK(json->Find("signature_verified")->boolean);
  CHECK(json->Find("kinds")->Find("elf-exec")->Find("records")->uint_value == 1);
  CHECK(json->Find("kinds")->Find("elf-so")->Find("records")->uint_value == 1);
  CHECK(json->Find("kinds")->Find("script")->Find("records")->uint_value == 3);
  CHECK(json->Find("policy")->Find("mode")->string == "enforce");

  Run list = Capture(
      [&](auto& o, auto& e) { return lockctl::RunDbList(f.db, f.trust, false, true, o, e); });
  REQUIRE(list.rc == 0);
  auto entries = lockd::audit::ParseJson(list.out.substr(0, list.out.size() - 1));
  REQUIRE(entries.ok());
  REQUIRE(entries->array.size() == 5);
  bool saw_odd = false;
  for (const auto& e : entries->array) {
    CHECK(e.Find("path")->string.rfind("/usr/", 0) == 0);  // strip prefix applied
    auto bytes = lockd::audit::FieldBytes(e, "path");
    REQUIRE(bytes.has_value());
    if (*bytes == "/usr/bin/odd\xff\nname.sh") saw_odd = true;
  }
  CHECK(saw_odd);
  Run text = Capture(
      [&](auto& o, auto& e) { return lockctl::RunDbList(f.db, f.trust, false, false, o, e); });
  CHECK(text.out.find("/usr/bin/odd\\xff\\x0aname.sh\n") != std::string::npos);
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 5);

  Run lookup = Capture([&](auto& o, auto& e) {
    return lockctl::RunDbLookup(f.db, f.trust, {"/bin/true", f.image + "/usr/bin/hello"}, o, e);
  });
  CHECK(lookup.rc == 0);
  CHECK(lookup.out.find("/bin/true: allowed as elf-exec") != std::string::npos);
  CHECK(lookup.out.find("listed as /usr/bin/true") != std::string::npos);

  testsupport::WriteFile(f.dir.Join("new.sh"), "#!/bin/sh\necho new\n", 0755);
  Run denied = Capture([&](auto& o, auto& e) {
    return lockctl::RunDbLookup(f.db, f.trust, {"/bin/true", f.dir.Join("new.sh")}, o, e);
  });
  CHECK(denied.rc == lockctl::kExitNegative);
  CHECK(denied.out.find("new.sh: NOT allowed") != std::string::npos);
  Run missing = Capture([&](auto& o, auto& e) {
    return lockctl::RunDbLookup(f.db, f.trust, {f.dir.Join("nope")}, o, e);
  });
  CHECK(missing.rc == lockctl::kExitUsage);
  CHECK(missing.err.find(f.dir.Join("nope")) != std::string::npos);
}

TEST_CASE("db verify rejects tampered files, unknown signers and missing files") {
  Fixture f;
  REQUIRE(f.Build().rc == 0);
  std::string bytes = Slurp(f.db);
  std::string tampered = bytes;
  tampered[200] = static_cast<char>(tampered[200] ^ 1);
  testsupport::WriteFile(f.dir.Join("tampered.lockdb"), tampered);
  Run r = Capture([&](auto& o, auto& e) {
    return lockctl::RunDbVerify(f.dir.Join("tampered.lockdb"), f.trust, o, e);
  });
  CHECK(r.rc == lockctl::kExitNegative);
  CHECK(r.err.find("tampered.lockdb") != std::string::npos);

  testsupport::TempDir other_trust;
  std::ostringstream o, e;
  REQUIRE(lockctl::RunKeyGenerate(other_trust.Join("k"), "ed25519", o, e) == 0);
  Copy(other_trust.Join("k/public.pem"), other_trust.Join("other.pem"), 0644);
  ::unlink(other_trust.Join("k/private.key").c_str());
  ::unlink(other_trust.Join("k/public.pem").c_str());
  ::rmdir(other_trust.Join("k").c_str());
  Run unknown = Capture(
      [&](auto& o2, auto& e2) { return lockctl::RunDbVerify(f.db, other_trust.path(), o2, e2); });
  CHECK(unknown.rc == lockctl::kExitNegative);

  Run missing = Capture([&](auto& o2, auto& e2) {
    return lockctl::RunDbVerify(f.dir.Join("none.lockdb"), f.trust, o2, e2);
  });
  CHECK(missing.rc == lockctl::kExitUsage);
  CHECK(missing.err.find("none.lockdb") != std::string::npos);

  // show without a trust directory needs --no-verify, and then warns loudly.
  Run need_trust = Capture(
      [&](auto& o2, auto& e2) { return lockctl::RunDbShow(f.db, "", false, false, o2, e2); });
  CHECK(need_trust.rc == lockctl::kExitUsage);
  Run unverified = Capture(
      [&](auto& o2, auto& e2) { return lockctl::RunDbShow(f.db, "", true, false, o2, e2); });
  CHECK(unverified.rc == 0);
  CHECK(unverified.err.find("WARNING") == 0);
  CHECK(unverified.out.find("NOT VERIFIED") != std::string::npos);
}

TEST_CASE("db diff after a change to the image") {
  Fixture f;
  REQUIRE(f.Build(1).rc == 0);
  testsupport::WriteFile(f.image + "/usr/bin/hello", "#!/bin/sh\necho hello v2\n", 0755);
  testsupport::WriteFile(f.image + "/usr/bin/added.sh", "echo added\n", 0644);
  REQUIRE(::unlink((f.image + "/usr/lib/mod.py").c_str()) == 0);
  const std::string db2 = f.dir.Join("gen2.lockdb");
  REQUIRE(f.Build(2, db2).rc == 0);
  Run text = Capture(
      [&](auto& o, auto& e) { return lockctl::RunDbDiff(f.db, db2, f.trust, false, o, e); });
  REQUIRE(text.rc == 0);
  CHECK(text.out.find("+ /usr/bin/added.sh") != std::string::npos);
  CHECK(text.out.find("- /usr/lib/mod.py") != std::string::npos);
  CHECK(text.out.find("~ /usr/bin/hello") != std::string::npos);
  CHECK(text.out.find("generation 1 -> 2: 1 added, 1 removed, 1 changed, 3 unchanged") !=
        std::string::npos);
  Run json =
      Capture([&](auto& o, auto& e) { return lockctl::RunDbDiff(f.db, db2, f.trust, true, o, e); });
  REQUIRE(json.rc == 0);
  auto parsed = lockd::audit::ParseJson(json.out.substr(0, json.out.size() - 1));
  REQUIRE(parsed.ok());
  CHECK(parsed->Find("counts")->Find("changed")->uint_value == 1);
  CHECK(parsed->Find("added")->array.at(0).Find("path")->string == "/usr/bin/added.sh");
}

TEST_CASE("lockctl db commands are wired to the command line") {
  Fixture f;
  REQUIRE(f.Build().rc == 0);
  CLI::App app;
  int exit_code = -1;
  lockctl::RegisterKeyCommands(app, exit_code);
  lockctl::RegisterDbCommands(app, exit_code);
  std::vector<std::string> args = {"db", "verify", f.db, "--trust", f.trust};
  std::reverse(args.begin(), args.end());  // CLI11 takes them in reverse order
  app.parse(args);
  CHECK(exit_code == 0);
}
