// lockd/quarantine/: the forensic archive (ustar.h, evidence.h, quarantine.h) and its request
// on the control socket (lockd/control/server.h).
#include "lockd/quarantine/quarantine.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audit/json_parse.h"
#include "audit/record.h"
#include "hashdb/digest.h"
#include "hashdb/sha256.h"
#include "lockd/control/server.h"
#include "lockd/quarantine/evidence.h"
#include "lockd/quarantine/ustar.h"
#include "tests/support/db_fixture.h"

namespace {

using lockd::QuarantineRequest;
using lockd::audit::JsonValue;
namespace q = lockd::quarantine;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string HexOf(const std::string& bytes) {
  return hashdb::ToHex(
      hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
}

std::uint64_t Octal(const std::string& block, std::size_t offset, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = offset; i < offset + width && block[i] >= '0' && block[i] <= '7'; ++i) {
    v = v * 8 + static_cast<std::uint64_t>(block[i] - '0');
  }
  return v;
}

struct Member {
  unsigned mode = 0;
  std::string content;
};

// A minimal ustar reader for the test: checks each header's checksum and type.
std::map<std::string, Member> ReadTar(const std::string& archive) {
  std::map<std::string, Member> out;
  std::size_t pos = 0;
  while (pos + 512 <= archive.size()) {
    std::string header = archive.substr(pos, 512);
    if (header == std::string(512, '\0')) break;
    const std::uint64_t sum = Octal(header, 148, 7);
    std::memset(&header[148], ' ', 8);
    std::uint64_t actual = 0;
    for (unsigned char c : header) actual += c;
    CHECK(sum == actual);
    CHECK(header[156] == '0');
    CHECK(header.substr(257, 5) == "ustar");
    const std::string name = header.substr(0, header.find('\0'));
    const std::uint64_t size = Octal(header, 124, 12);
    Member m;
    m.mode = static_cast<unsigned>(Octal(header, 100, 8));
    m.content = archive.substr(pos + 512, size);
    out[name] = m;
    pos += 512 + (size + 511) / 512 * 512;
  }
  CHECK(archive.size() % 512 == 0);
  CHECK(archive.size() >= pos + 1024);
  return out;
}

// An audit log with records naming (or not) a path and a digest.
std::string AuditLine(std::uint64_t seq, const char* time, const char* type,
                      const std::string& path, const std::string& sha256) {
  lockd::audit::Record r(type);
  r.set_time(*lockd::audit::ParseTime(time));
  r.AddBytes("reason", "not-in-allowlist").AddBytes("mode", "enforce");
  r.AddInt("pid", 4242).AddInt("ppid", 1).AddInt("uid", 1000);
  r.AddBytes("exe", "/usr/bin/bash").AddBytes("path", path);
  if (!sha256.empty()) r.AddBytes("sha256", sha256);
  return lockd::audit::FormatLine(seq, lockd::audit::kGenesisPrev, r);
}

class RecordingSink : public lockd::DecisionSink {
 public:
  void OnDecision(const lockd::DecisionRecord&) override {}
  void OnDaemonEvent(const lockd::DaemonEvent& e) override { events.push_back(e); }
  std::vector<lockd::DaemonEvent> events;
};

struct Fixture {
  testsupport::TempDir dir;
  std::string sample = dir.Join("dropped\nname");
  std::string content = std::string(
                            "\x7f"
                            "ELF",
                            4) +
                        std::string(5000, 'x');
  std::string out = dir.Join("out");
  std::string audit = dir.Join("audit.jsonl");
  std::string digest = HexOf(content);
  Fixture() {
    testsupport::WriteFile(sample, content, 0755);
    REQUIRE(::mkdir(out.c_str(), 0700) == 0);
    std::ofstream log(audit, std::ios::binary);
    log << AuditLine(1, "2026-12-01T10:00:00.000Z", "daemon_start", "", "") << "\n"
        << AuditLine(2, "2026-12-01T10:00:05.000Z", "deny", sample, digest) << "\n"
        << AuditLine(3, "2026-12-01T10:01:00.000Z", "deny", dir.Join("other"), "") << "\n"
        << AuditLine(4, "2026-12-02T09:00:00.000Z", "would_deny", dir.Join("copy"), digest) << "\n"
        << "not a record\n";
  }
  q::QuarantineEnv Env() const {
    return {audit, "terminal-1", [] { return std::int64_t{1'764'583'200'000'000'000}; }};
  }
};

std::string OnlyArchive(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().string());
  }
  REQUIRE(names.size() == 1);
  return names[0];
}

}  // namespace

TEST_CASE("ustar headers: checksum, mode without execute bits, names and sizes checked") {
  auto h = q::UstarFileHeader("sample.bin", 1234, 0400, 1'700'000'000);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 512);
  auto members = ReadTar(*h + std::string(1234, 'a') + q::TarPadding(1234) + q::TarEnd());
  REQUIRE(members.count("sample.bin") == 1);
  CHECK(members["sample.bin"].mode == 0400);
  CHECK(members["sample.bin"].content == std::string(1234, 'a'));
  CHECK_FALSE(q::UstarFileHeader("x", 1, 0500, 0).ok());
  CHECK_FALSE(q::UstarFileHeader("x", 1, 0755, 0).ok());
  CHECK_FALSE(q::UstarFileHeader("../x", 1, 0400, 0).ok());
  CHECK_FALSE(q::UstarFileHeader("a/b", 1, 0400, 0).ok());
  CHECK_FALSE(q::UstarFileHeader("", 1, 0400, 0).ok());
  CHECK_FALSE(q::UstarFileHeader("x", q::kMaxTarMemberSize + 1, 0400, 0).ok());
  CHECK(q::TarPadding(512).empty());
  CHECK(q::TarPadding(513).size() == 511);
}

TEST_CASE("deny records are matched by path or by digest; other lines are ignored") {
  const std::string digest(64, 'a');
  auto by_path = q::MatchDenyRecord(AuditLine(7, "2026-12-01T10:00:00.000Z", "deny", "/m/x", ""),
                                    "/m/x", digest);
  REQUIRE(by_path);
  CHECK(by_path->seq == 7);
  CHECK(by_path->by_path);
  CHECK_FALSE(by_path->by_digest);
  CHECK(by_path->pid == 4242);
  CHECK(by_path->uid == 1000);
  CHECK(by_path->exe == "/usr/bin/bash");
  auto by_digest = q::MatchDenyRecord(
      AuditLine(8, "2026-12-01T10:00:00.000Z", "would_deny", "/m/y", digest), "/m/x", digest);
  REQUIRE(by_digest);
  CHECK(by_digest->by_digest);
  CHECK(by_digest->type == "would_deny");
  CHECK_FALSE(q::MatchDenyRecord(
      AuditLine(9, "2026-12-01T10:00:00.000Z", "deny", "/m/z", std::string(64, 'b')), "/m/x",
      digest));
  CHECK_FALSE(q::MatchDenyRecord(
      AuditLine(9, "2026-12-01T10:00:00.000Z", "maintenance_learned", "/m/x", ""), "/m/x", digest));
  CHECK_FALSE(q::MatchDenyRecord("{\"type\":\"deny\", broken", "/m/x", digest));
  // A path that is not UTF-8 is matched on its exact bytes (the record's path_hex).
  const std::string odd = "/m/\xff\xfe";
  auto odd_match =
      q::MatchDenyRecord(AuditLine(10, "2026-12-01T10:00:00.000Z", "deny", odd, ""), odd, digest);
  REQUIRE(odd_match);
  CHECK(odd_match->path == odd);
}

TEST_CASE("a quarantine archive: the file's bytes at 0400, a manifest with stat and denials") {
  Fixture f;
  RecordingSink sink;
  const lockd::ControlReply reply =
      q::HandleQuarantine(QuarantineRequest{f.sample, f.out, false}, f.Env(), sink);
  REQUIRE_MESSAGE(reply.code == lockd::ControlReply::Code::kOk, reply.body);
  const std::string archive = OnlyArchive(f.out);
  CHECK(std::filesystem::path(archive).filename().string() ==
        "lockd-quarantine-" + f.digest.substr(0, 16) + "-20251201T100000Z.tar");
  struct stat st;
  REQUIRE(::stat(archive.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0400);
  CHECK(::access(f.sample.c_str(), F_OK) == 0);  // not removed without --remove

  const std::string bytes = Slurp(archive);
  auto members = ReadTar(bytes);
  REQUIRE(members.count("sample.bin") == 1);
  REQUIRE(members.count("manifest.json") == 1);
  CHECK(members["sample.bin"].content == f.content);
  CHECK(members["sample.bin"].mode == 0400);
  CHECK(members["manifest.json"].mode == 0400);

  auto m = lockd::audit::ParseJson(
      members["manifest.json"].content.substr(0, members["manifest.json"].content.size() - 1));
  REQUIRE(m.ok());
  CHECK(m->Find("format")->string == "lockd-quarantine-v1");
  CHECK(*lockd::audit::FieldBytes(*m, "path") == f.sample);
  CHECK(m->Find("sha256")->string == f.digest);
  CHECK(m->Find("terminal_id")->string == "terminal-1");
  const JsonValue* stat = m->Find("stat");
  REQUIRE(stat != nullptr);
  struct stat orig;
  REQUIRE(::stat(f.sample.c_str(), &orig) == 0);
  CHECK(stat->Find("mode")->string == "0755");
  CHECK(stat->Find("size")->uint_value == f.content.size());
  CHECK(stat->Find("inode")->uint_value == orig.st_ino);
  CHECK(stat->Find("device")->uint_value == orig.st_dev);
  CHECK(stat->Find("uid")->uint_value == orig.st_uid);
  CHECK(m->Find("first_seen")->string == "2026-12-01T10:00:05.000Z");
  CHECK(m->Find("last_seen")->string == "2026-12-02T09:00:00.000Z");
  CHECK(m->Find("deny_records_total")->uint_value == 2);
  const JsonValue* records = m->Find("deny_records");
  REQUIRE(records->array.size() == 2);
  CHECK(records->array[0].Find("seq")->uint_value == 2);
  CHECK(records->array[0].Find("matched_by")->string == "path,sha256");
  CHECK(records->array[1].Find("seq")->uint_value == 4);
  CHECK(records->array[1].Find("matched_by")->string == "sha256");

  // The reply and the audit record.
  auto r = lockd::audit::ParseJson(reply.body.substr(0, reply.body.size() - 1));
  REQUIRE(r.ok());
  CHECK(r->Find("archive")->string == archive);
  CHECK(r->Find("archive_sha256")->string == HexOf(bytes));
  CHECK(r->Find("deny_records")->uint_value == 2);
  CHECK_FALSE(r->Find("removed")->boolean);
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0].kind == lockd::DaemonEventKind::kQuarantine);
  std::map<std::string, std::string> fields(sink.events[0].fields.begin(),
                                            sink.events[0].fields.end());
  CHECK(fields["path"] == f.sample);
  CHECK(fields["sha256"] == f.digest);
  CHECK(fields["archive"] == archive);
  CHECK(fields["archive_sha256"] == HexOf(bytes));
  CHECK(fields["removed"] == "false");
}

TEST_CASE("--remove removes the file after the archive is in place") {
  Fixture f;
  RecordingSink sink;
  auto reply = q::HandleQuarantine(QuarantineRequest{f.sample, f.out, true}, f.Env(), sink);
  REQUIRE_MESSAGE(reply.code == lockd::ControlReply::Code::kOk, reply.body);
  CHECK(::access(f.sample.c_str(), F_OK) != 0);
  CHECK(ReadTar(Slurp(OnlyArchive(f.out)))["sample.bin"].content == f.content);
  REQUIRE(sink.events.size() == 1);
  CHECK(reply.body.find("\"removed\":true") != std::string::npos);
}

TEST_CASE("refused: symlinks, FIFOs, directories, relative paths, a bad output directory") {
  Fixture f;
  RecordingSink sink;
  const auto refused = [&](const std::string& path, const std::string& out,
                           const std::string& why) {
    auto reply = q::HandleQuarantine(QuarantineRequest{path, out, true}, f.Env(), sink);
    CHECK_MESSAGE(reply.code == lockd::ControlReply::Code::kRefused, path, " ", reply.body);
    CHECK_MESSAGE(reply.body.find(why) != std::string::npos, reply.body);
  };
  const std::string link = f.dir.Join("link");
  REQUIRE(::symlink(f.sample.c_str(), link.c_str()) == 0);
  refused(link, f.out, "a symlink: refused");
  const std::string fifo = f.dir.Join("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  refused(fifo, f.out, "a FIFO: refused");  // and did not hang
  refused(f.dir.path(), f.out, "a directory: refused");
  refused("relative/file", f.out, "not an absolute path");
  const std::string out_link = f.dir.Join("outlink");
  REQUIRE(::symlink(f.out.c_str(), out_link.c_str()) == 0);
  refused(f.sample, out_link, "symlink or not a directory");
  refused(f.sample, f.sample, "symlink or not a directory");
  // Nothing was written or removed, and nothing recorded.
  CHECK(std::filesystem::is_empty(f.out));
  CHECK(::access(f.sample.c_str(), F_OK) == 0);
  CHECK(sink.events.empty());
  // A missing file is an error, not a refusal.
  auto missing =
      q::HandleQuarantine(QuarantineRequest{f.dir.Join("nope"), f.out, false}, f.Env(), sink);
  CHECK(missing.code == lockd::ControlReply::Code::kError);
}

TEST_CASE("a file someone holds open for writing is refused") {
  Fixture f;
  RecordingSink sink;
  const int w = ::open(f.sample.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(w >= 0);
  auto reply = q::HandleQuarantine(QuarantineRequest{f.sample, f.out, true}, f.Env(), sink);
  ::close(w);
  // Without CAP_LEASE the lease is unavailable and the version checks alone decide (the file
  // does not change here, so it would be archived): the refusal is checked only as root.
  if (::geteuid() == 0) {
    CHECK(reply.code == lockd::ControlReply::Code::kRefused);
    CHECK(reply.body.find("open for writing") != std::string::npos);
    CHECK(std::filesystem::is_empty(f.out));
  }
}

TEST_CASE("the control socket's quarantine request: hex paths in the body, root only") {
  lockd::ControlHandlers h;
  std::vector<QuarantineRequest> seen;
  h.quarantine = [&](const QuarantineRequest& r) {
    seen.push_back(r);
    return lockd::ControlReply{lockd::ControlReply::Code::kOk, "{}\n"};
  };
  const auto hex = [](const std::string& s) {
    return hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  const std::string body = hex("/m/a b\nc") + "\n" + hex("/out");
  using lockd::ControlServerThread;
  CHECK(ControlServerThread::Handle("quarantine\n" + body, 1000, h).code ==
        lockd::ControlReply::Code::kError);
  CHECK(seen.empty());
  CHECK(ControlServerThread::Handle("quarantine\n" + body, 0, h).code ==
        lockd::ControlReply::Code::kOk);
  CHECK(ControlServerThread::Handle("quarantine --remove\n" + body + "\n", 0, h).code ==
        lockd::ControlReply::Code::kOk);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].path == "/m/a b\nc");
  CHECK(seen[0].out_dir == "/out");
  CHECK_FALSE(seen[0].remove);
  CHECK(seen[1].remove);
  for (const std::string& bad :
       std::vector<std::string>{"quarantine --force\n" + body, "quarantine\n" + hex("/m/a"),
                                "quarantine", "quarantine\n" + hex("relative") + "\n" + hex("/out"),
                                "quarantine\n" + hex("/m/a") + "\n" + hex("/o") + "X",
                                "quarantine\n" + hex(std::string("/m/\0x", 5)) + "\n" + hex("/out"),
                                "quarantine\n2F6D2F61\n" + hex("/out")}) {
    CHECK_MESSAGE(ControlServerThread::Handle(bad, 0, h).code == lockd::ControlReply::Code::kError,
                  bad);
  }
  CHECK(seen.size() == 2);
}
