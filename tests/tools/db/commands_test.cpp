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

  lockctl::DbBuildOptions Options() const {
    lockctl::DbBuildOptions o;
    o.roots = {image};
    o.strip_prefix = image;
    o.key_path = keys + "/private.key";
    o.out_path = db;
    return o;
  }

  Run Build(std::uint64_t generation = 1, const std::string& out_path = "") {
    lockctl::DbBuildOptions o = Options();
    o.out_path = out_path.empty() ? db : out_path;
    o.generation = generation;
    return Build(o);
  }

  static Run Build(const lockctl::DbBuildOptions& o) {
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
  CHECK(json->Find("format_version")->uint_value == 2);
  // The newer policy settings hold their strong defaults.
  CHECK(json->Find("policy")->Find("watch")->array.empty());
  CHECK(json->Find("policy")->Find("restrict_user_namespaces")->boolean);
  CHECK(json->Find("policy")->Find("deny_user_writable")->boolean);
  CHECK(json->Find("policy")->Find("trusted_owners")->array.empty());
  CHECK(json->Find("interpreter_digests")->uint_value == 0);

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

TEST_CASE("db build sets the signed policy from its options; db show prints it") {
  Fixture f;
  lockctl::DbBuildOptions o = f.Options();
  o.watch = {"/opt/app", "/usr"};
  o.allow_user_namespaces = true;
  o.allow_user_writable_code = true;
  o.trusted_owners = {1001, 1000, 1001};  // sorted and made unique
  Run build = Fixture::Build(o);
  INFO(build.out, build.err);
  REQUIRE(build.rc == 0);
  Run show = Capture(
      [&](auto& o2, auto& e) { return lockctl::RunDbShow(f.db, f.trust, false, true, o2, e); });
  REQUIRE(show.rc == 0);
  auto json = lockd::audit::ParseJson(show.out.substr(0, show.out.size() - 1));
  REQUIRE(json.ok());
  const auto* p = json->Find("policy");
  REQUIRE(p->Find("watch")->array.size() == 2);
  CHECK(p->Find("watch")->array[0].string == "/opt/app");
  CHECK(p->Find("watch")->array[1].string == "/usr");
  CHECK_FALSE(p->Find("restrict_user_namespaces")->boolean);
  CHECK_FALSE(p->Find("deny_user_writable")->boolean);
  REQUIRE(p->Find("trusted_owners")->array.size() == 2);
  CHECK(p->Find("trusted_owners")->array[0].uint_value == 1000);
  CHECK(p->Find("trusted_owners")->array[1].uint_value == 1001);

  Run text = Capture(
      [&](auto& o2, auto& e) { return lockctl::RunDbShow(f.db, f.trust, false, false, o2, e); });
  CHECK(text.out.find("format:       version 2\n") != std::string::npos);
  CHECK(text.out.find("watch:        /opt/app /usr\n") != std::string::npos);
  CHECK(text.out.find("user ns:      allowed (--allow-user-namespaces)\n") != std::string::npos);
  CHECK(text.out.find("user-writable code: allowed (--allow-user-writable-code); trusted owners: "
                      "root, 1000, 1001\n") != std::string::npos);

  // The defaults, in text.
  REQUIRE(f.Build().rc == 0);
  text = Capture(
      [&](auto& o2, auto& e) { return lockctl::RunDbShow(f.db, f.trust, false, false, o2, e); });
  CHECK(text.out.find("watch:        every local filesystem\n") != std::string::npos);
  CHECK(text.out.find("user ns:      restricted") != std::string::npos);
  CHECK(text.out.find("user-writable code: denied (reason writable-by-user); trusted owners: "
                      "root\n") != std::string::npos);

  // Bad values are refused before anything is scanned or written, naming the setting.
  lockctl::DbBuildOptions bad = f.Options();
  bad.out_path = f.dir.Join("bad.lockdb");
  bad.watch = {"relative/dir"};
  Run r = Fixture::Build(bad);
  CHECK(r.rc == lockctl::kExitUsage);
  CHECK(r.err.find("watch path 'relative/dir' is not a canonical absolute path") !=
        std::string::npos);
  bad.watch = {"/srv/"};
  CHECK(Fixture::Build(bad).rc == lockctl::kExitUsage);
  bad.watch = {};
  bad.trusted_owners = {0};
  r = Fixture::Build(bad);
  CHECK(r.rc == lockctl::kExitUsage);
  CHECK(r.err.find("root is always trusted") != std::string::npos);
  CHECK(::access(bad.out_path.c_str(), F_OK) != 0);
}

TEST_CASE("db build flags interpreters by name and by --interpreter; show and lookup say so") {
  Fixture f;
  // An interpreter by name, a renamed copy of it, and a program flagged by hand.
  Copy("/bin/true", f.image + "/usr/bin/python3.11", 0755);
  Copy("/bin/true", f.image + "/usr/bin/renamed", 0755);
  testsupport::WriteFile(f.image + "/usr/bin/runner", "#!/bin/sh\nexec \"$@\"\n", 0755);
  lockctl::DbBuildOptions o = f.Options();
  o.interpreters = {f.image + "/usr/bin/runner"};  // as on disk: --strip-prefix applies
  Run build = Fixture::Build(o);
  INFO(build.out, build.err);
  REQUIRE(build.rc == 0);
  // true, python3.11 and renamed share one content: the flag is on the content.
  CHECK(build.out.find("flagged:  2 distinct contents as interpreters") != std::string::npos);
  CHECK(build.out.find("1 file(s) by --interpreter") != std::string::npos);

  Run lookup = Capture([&](auto& o2, auto& e) {
    return lockctl::RunDbLookup(f.db, f.trust,
                                {f.image + "/usr/bin/renamed", f.image + "/usr/bin/hello"}, o2, e);
  });
  CHECK(lookup.rc == 0);
  CHECK(lookup.out.find("renamed: allowed as elf-exec, an interpreter (") != std::string::npos);
  CHECK(lookup.out.find("hello: allowed as script (") != std::string::npos);

  Run show = Capture(
      [&](auto& o2, auto& e) { return lockctl::RunDbShow(f.db, f.trust, false, false, o2, e); });
  CHECK(show.out.find("interpreter contents: 2 distinct digests flagged") != std::string::npos);
  Run list = Capture(
      [&](auto& o2, auto& e) { return lockctl::RunDbList(f.db, f.trust, false, true, o2, e); });
  auto entries = lockd::audit::ParseJson(list.out.substr(0, list.out.size() - 1));
  REQUIRE(entries.ok());
  int flagged = 0;
  for (const auto& e : entries->array) {
    if (e.Find("interpreter")->boolean) ++flagged;
  }
  CHECK(flagged == 4);  // true, python3.11, renamed, runner

  // A path the scan does not record is an error, with the reason.
  o.interpreters = {f.image + "/usr/bin/link"};  // a symbolic link
  o.out_path = f.dir.Join("bad.lockdb");
  Run bad = Fixture::Build(o);
  CHECK(bad.rc == lockctl::kExitUsage);
  CHECK(bad.err.find("--interpreter /usr/bin/link: not recorded by the scan") != std::string::npos);
  o.interpreters = {"usr/bin/runner"};
  bad = Fixture::Build(o);
  CHECK(bad.rc == lockctl::kExitUsage);
  CHECK(bad.err.find("expected an absolute path") != std::string::npos);
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

  // The policy options of db build reach the database.
  const std::string db2 = f.dir.Join("opts.lockdb");
  args = {"db",
          "build",
          "--root",
          f.image,
          "--strip-prefix",
          f.image,
          "--key",
          f.keys + "/private.key",
          "--out",
          db2,
          "--watch",
          "/usr",
          "--watch",
          "/opt",
          "--allow-user-namespaces",
          "--allow-user-writable-code",
          "--trusted-owner",
          "1000",
          "--interpreter",
          f.image + "/usr/bin/hello"};
  std::reverse(args.begin(), args.end());
  CLI::App app2;
  exit_code = -1;
  lockctl::RegisterDbCommands(app2, exit_code);
  app2.parse(args);
  REQUIRE(exit_code == 0);
  auto db = hashdb::Database::OpenUnverified(db2);
  REQUIRE(db.ok());
  const hashdb::Policy& p = (*db)->policy();
  CHECK(p.watch == std::vector<std::string>{"/usr", "/opt"});
  CHECK_FALSE(p.restrict_user_namespaces);
  CHECK_FALSE(p.deny_user_writable);
  CHECK(p.trusted_owners == std::vector<std::uint32_t>{1000});
  auto hello = (*db)->FindPath("/usr/bin/hello");
  REQUIRE(hello.has_value());
  CHECK((*db)->RecordAt(*hello).interpreter);
}
