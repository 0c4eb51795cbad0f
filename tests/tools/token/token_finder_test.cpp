#include "tools/token/token_finder.h"

#include <doctest/doctest.h>

#include "tests/support/db_fixture.h"
#include "tests/tools/token/token_test_support.h"
#include "tools/token/file_token.h"
#include "tools/token/pkcs11_uri.h"

using tokentest::Contains;

namespace {
const std::string kPassphrase = "taro's finder test";
void MakeToken(const std::string& folder) {
  tokentest::MakeParents(folder);
  REQUIRE(lockctl::FileToken::Create(folder, {"", "Taro", "ACME", "2030-01-01"},
                                     hashdb::SignatureAlgorithm::kEcdsaP256Sha256, kPassphrase,
                                     tokentest::kCheapKdf)
              .ok());
}
}  // namespace

TEST_CASE("finder: search roots find the one token folder, two levels down") {
  testsupport::TempDir dir;
  tokentest::MakeParents(dir.Join("media/user/OTHER/readme.txt"));
  testsupport::WriteFile(dir.Join("media/user/OTHER/readme.txt"), "not a token");
  MakeToken(dir.Join("media/user/STICK/LOCKD-TOKEN"));
  lockctl::TokenSearch search;
  search.roots = {dir.Join("media")};
  auto found = lockctl::ResolveTokenFolder("", search);
  REQUIRE(found.ok());
  CHECK(*found == dir.Join("media/user/STICK/LOCKD-TOKEN"));

  MakeToken(dir.Join("media/SECOND/LOCKD-TOKEN"));
  auto several = lockctl::ResolveTokenFolder("", search);
  REQUIRE_FALSE(several.ok());
  CHECK(Contains(several.error().message, "several tokens found"));
  CHECK(Contains(several.error().message, "choose one with --token"));
}

TEST_CASE("finder: nothing found says where it looked") {
  testsupport::TempDir dir;
  lockctl::TokenSearch search;
  search.roots = {dir.path()};
  auto found = lockctl::ResolveTokenFolder("", search);
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().message == "no token found: no LOCKD-TOKEN folder on removable media under " +
                                     dir.path() +
                                     "; insert the token stick or name it with --token");
}

TEST_CASE("finder: mount points from mountinfo under the removable-media prefixes") {
  testsupport::TempDir dir;
  MakeToken(dir.Join("media/my stick/LOCKD-TOKEN"));
  MakeToken(dir.Join("srv/data/LOCKD-TOKEN"));  // mounted, but not removable media
  // mountinfo escapes the blank as \040.
  testsupport::WriteFile(dir.Join("mountinfo"),
                         "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                         "40 22 8:17 / " +
                             dir.Join("media/my\\040stick") +
                             " rw,nosuid,nodev shared:30 - vfat /dev/sdb1 rw\n"
                             "41 22 8:33 / " +
                             dir.Join("srv/data") + " rw shared:31 - ext4 /dev/sdc1 rw\n");
  lockctl::TokenSearch search;
  search.mountinfo = dir.Join("mountinfo");
  search.mount_prefixes = {dir.Join("media")};
  auto found = lockctl::FindTokenFolders(search);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->front() == dir.Join("media/my stick/LOCKD-TOKEN"));

  // A stick mounted straight on a prefix (mount /dev/sdb1 /mnt) counts too.
  MakeToken(dir.Join("mnt/LOCKD-TOKEN"));
  testsupport::WriteFile(dir.Join("mountinfo2"),
                         "42 22 8:17 / " + dir.Join("mnt") + " rw shared:32 - ext4 /dev/sdb1 rw\n");
  search.mountinfo = dir.Join("mountinfo2");
  search.mount_prefixes = {dir.Join("mnt")};
  found = lockctl::FindTokenFolders(search);
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->front() == dir.Join("mnt/LOCKD-TOKEN"));
}

TEST_CASE("finder: --token names the folder or the mount point holding it") {
  testsupport::TempDir dir;
  MakeToken(dir.Join("stick/LOCKD-TOKEN"));
  lockctl::TokenSearch search;
  CHECK(*lockctl::ResolveTokenFolder(dir.Join("stick"), search) == dir.Join("stick/LOCKD-TOKEN"));
  CHECK(*lockctl::ResolveTokenFolder(dir.Join("stick/LOCKD-TOKEN"), search) ==
        dir.Join("stick/LOCKD-TOKEN"));
  auto none = lockctl::ResolveTokenFolder(dir.path(), search);
  REQUIRE_FALSE(none.ok());
  CHECK(Contains(none.error().message, "no token here"));
}

TEST_CASE("finder: OpenToken opens a found file token with the passphrase") {
  testsupport::TempDir dir;
  MakeToken(dir.Join("m/S/LOCKD-TOKEN"));
  lockctl::TokenSearch search;
  search.roots = {dir.Join("m")};
  tokentest::SecretPipe pass(kPassphrase);
  auto token = lockctl::OpenToken("", pass.source(), search);
  REQUIRE(token.ok());
  CHECK((*token)->info().holder == "Taro");
  CHECK(Contains((*token)->Describe(), "file token " + dir.Join("m/S/LOCKD-TOKEN")));
  CHECK(tokentest::SignAndVerify(**token).ok());
}

TEST_CASE("PKCS#11 URI: the supported subset of RFC 7512") {
  auto uri = lockctl::ParsePkcs11Uri(
      "pkcs11:token=My%20Token;object=sign;id=%01%02;type=private"
      "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin");
  REQUIRE(uri.ok());
  CHECK(uri->token == "My Token");
  CHECK(uri->object == "sign");
  REQUIRE(uri->id.has_value());
  CHECK(*uri->id == std::vector<std::uint8_t>{1, 2});
  CHECK(uri->module_path == "/usr/lib/softhsm/libsofthsm2.so");
  CHECK(uri->pin_source == "/run/pin");

  auto err = [](const std::string& u) {
    auto r = lockctl::ParsePkcs11Uri(u);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(Contains(err("pkcs11:token=a?pin-value=1234"), "pin-value is refused"));
  CHECK(Contains(err("pkcs11:colour=red"), "unknown attribute \"colour\""));
  CHECK(Contains(err("pkcs11:token=%4"), "bad percent escape"));
  CHECK(Contains(err("pkcs11:type=public"), "type must be \"private\""));
  CHECK(Contains(err("pkcs11:token=a?pin-source=relative"), "absolute file path"));
  CHECK(Contains(err("file:/x"), "must start with pkcs11:"));
}
