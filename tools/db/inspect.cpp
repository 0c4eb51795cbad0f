// `lockctl db verify|show|list|lookup|diff`: reading signed databases.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "hashdb/database.h"
#include "hashdb/diff.h"
#include "hashdb/sha256.h"
#include "hashdb/trust_store.h"
#include "hashdb/unique_fd.h"
#include "tools/commands.h"
#include "tools/db/commands.h"
#include "tools/output.h"

namespace lockctl {

namespace {

using DbPtr = std::shared_ptr<const hashdb::Database>;

int ExitFor(const hashdb::Error& e) {
  return (e.code == hashdb::ErrorCode::kIo || e.code == hashdb::ErrorCode::kNotFound)
             ? kExitUsage
             : kExitNegative;
}

// Opens file verified against trust_dir (or unverified with no_verify); on failure prints the
// reason and returns the exit code to use.
int Load(const std::string& who, const std::string& file, const std::string& trust_dir,
         bool no_verify, std::ostream& err, DbPtr& db) {
  if (no_verify && trust_dir.empty()) {
    err << "WARNING: " << who << ": --no-verify: the signature of " << file
        << " is NOT checked. Anyone could have written this content; do not base any decision "
           "on it.\n";
    auto r = hashdb::Database::OpenUnverified(file);
    if (!r.ok()) {
      err << who << ": " << r.error().message << "\n";
      return ExitFor(r.error());
    }
    db = *r;
    return kExitOk;
  }
  if (trust_dir.empty()) {
    err << who << ": --trust DIR is required to verify " << file << "\n";
    return kExitUsage;
  }
  auto trust = hashdb::TrustStore::LoadDirectory(trust_dir);
  if (!trust.ok()) {
    err << who << ": " << trust.error().message << "\n";
    return kExitUsage;
  }
  auto r = hashdb::Database::Open(file, *trust);
  if (!r.ok()) {
    err << who << ": " << r.error().message << "\n";
    return ExitFor(r.error());
  }
  db = *r;
  return kExitOk;
}

struct KindTotals {
  std::array<std::uint64_t, 5> records{};
  std::array<std::uint64_t, 5> bytes{};
  std::uint64_t total_bytes = 0;
  std::uint64_t interpreter_digests = 0;
};

KindTotals Totals(const hashdb::Database& db) {
  KindTotals t;
  hashdb::RecordCursor cursor(db);
  while (cursor.Next()) {
    const hashdb::RecordView& r = cursor.record();
    const auto k = static_cast<std::size_t>(r.kind);
    ++t.records[k];
    t.bytes[k] += r.size;
    t.total_bytes += r.size;
  }
  for (std::uint32_t i = 0; i < db.digest_count(); ++i) {
    if (db.InterpreterAt(i)) ++t.interpreter_digests;
  }
  return t;
}

std::string OwnersJson(const std::vector<std::uint32_t>& owners) {
  std::string out = "[";
  for (std::size_t i = 0; i < owners.size(); ++i) {
    out += (i > 0 ? "," : "") + std::to_string(owners[i]);
  }
  return out + "]";
}

std::string StringsJson(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + JsonString(items[i]);
  return out + "]";
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }
const char* TrueFalse(bool b) { return b ? "true" : "false"; }

std::string EntryJson(const hashdb::FileEntry& e) {
  return "{" + JsonBytesMember("path", e.path) + ",\"sha256\":\"" + hashdb::ToHex(e.digest) +
         "\",\"kind\":\"" + std::string(hashdb::KindName(e.kind)) +
         "\",\"size\":" + std::to_string(e.size) + ",\"mode\":" + std::to_string(e.mode) +
         ",\"uid\":" + std::to_string(e.uid) + ",\"gid\":" + std::to_string(e.gid) +
         ",\"interpreter\":" + (e.interpreter ? "true" : "false") + "}";
}

hashdb::FileEntry EntryOf(const hashdb::RecordView& r) {
  return hashdb::FileEntry{r.path, *r.digest, r.kind, r.size, r.mode, r.uid, r.gid, r.interpreter};
}

void ShowJson(const hashdb::Database& db, const std::string& trust_dir, std::ostream& out) {
  const KindTotals t = Totals(db);
  const hashdb::Policy& p = db.policy();
  out << "{" << JsonBytesMember("file", db.name()) << ",\"file_size\":" << db.file_size()
      << ",\"content_digest\":\"" << hashdb::ToHex(db.content_digest())
      << "\",\"signature_verified\":" << TrueFalse(db.signature_verified());
  if (db.signature_verified()) out << "," << JsonBytesMember("trust_dir", trust_dir);
  out << ",\"signer_key_id\":\"" << hashdb::ToHex(db.signer_key_id())
      << "\",\"signature_algorithm\":\"" << hashdb::AlgorithmName(db.signature_algorithm())
      << "\",\"format_version\":" << db.format_version() << ",\"generation\":" << db.generation()
      << ",\"created_unix\":" << db.created_unix() << ",\"created\":\""
      << IsoTimeUtc(db.created_unix()) << "\",\"records\":" << db.record_count()
      << ",\"digests\":" << db.digest_count() << ",\"total_bytes\":" << t.total_bytes
      << ",\"interpreter_digests\":" << t.interpreter_digests << ",\"kinds\":{";
  for (std::uint8_t k = 1; k <= 4; ++k) {
    out << (k > 1 ? "," : "") << "\"" << hashdb::KindName(static_cast<hashdb::Kind>(k))
        << "\":{\"records\":" << t.records[k] << ",\"bytes\":" << t.bytes[k] << "}";
  }
  out << "},\"policy\":{\"mode\":\"" << hashdb::ModeName(p.mode)
      << "\",\"cover_shared_objects\":" << TrueFalse(p.cover_shared_objects)
      << ",\"cover_scripts\":" << TrueFalse(p.cover_scripts)
      << ",\"memfd_noexec\":" << TrueFalse(p.memfd_noexec)
      << ",\"deny_untrusted_fs\":" << TrueFalse(p.deny_untrusted_fs)
      << ",\"interpreters\":" << StringsJson(p.interpreters)
      << ",\"watch\":" << StringsJson(p.watch)
      << ",\"restrict_user_namespaces\":" << TrueFalse(p.restrict_user_namespaces)
      << ",\"deny_user_writable\":" << TrueFalse(p.deny_user_writable)
      << ",\"trusted_owners\":" << OwnersJson(p.trusted_owners) << "}}\n";
}

void ShowText(const hashdb::Database& db, const std::string& trust_dir, std::ostream& out) {
  const KindTotals t = Totals(db);
  const hashdb::Policy& p = db.policy();
  out << "file:         " << EscapeText(db.name()) << " ("
      << HumanBytes(static_cast<double>(db.file_size())) << ", content digest "
      << hashdb::ToHex(db.content_digest()) << ")\n"
      << "signature:    "
      << (db.signature_verified() ? "valid, signer is a trust anchor in " + EscapeText(trust_dir)
                                  : std::string("NOT VERIFIED (--no-verify)"))
      << "\n"
      << "signer:       " << hashdb::ToHex(db.signer_key_id()) << " ("
      << hashdb::AlgorithmName(db.signature_algorithm()) << ")\n"
      << "format:       version " << db.format_version() << "\n"
      << "generation:   " << db.generation() << "\n"
      << "created:      " << IsoTimeUtc(db.created_unix()) << "\n"
      << "entries:      " << db.record_count() << " paths, " << db.digest_count()
      << " distinct digests, " << HumanBytes(static_cast<double>(t.total_bytes)) << "\n";
  for (std::uint8_t k = 1; k <= 4; ++k) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %-11s %10llu paths  %s\n",
                  std::string(hashdb::KindName(static_cast<hashdb::Kind>(k))).c_str(),
                  static_cast<unsigned long long>(t.records[k]),
                  HumanBytes(static_cast<double>(t.bytes[k])).c_str());
    out << line;
  }
  out << "policy:       mode " << hashdb::ModeName(p.mode) << "; shared objects "
      << YesNo(p.cover_shared_objects) << "; scripts " << YesNo(p.cover_scripts)
      << "; memfd_noexec " << YesNo(p.memfd_noexec) << "; deny untrusted fs "
      << YesNo(p.deny_untrusted_fs) << "\n"
      << "watch:        ";
  if (p.watch.empty()) out << "every local filesystem";
  for (std::size_t i = 0; i < p.watch.size(); ++i) {
    out << (i > 0 ? " " : "") << EscapeText(p.watch[i]);
  }
  out << "\n"
      << "user ns:      "
      << (p.restrict_user_namespaces ? "restricted (unprivileged user namespaces turned off)"
                                     : "allowed (--allow-user-namespaces)")
      << "\n"
      << "user-writable code: "
      << (p.deny_user_writable ? "denied (reason writable-by-user)"
                               : "allowed (--allow-user-writable-code)")
      << "; trusted owners: root";
  for (std::uint32_t uid : p.trusted_owners) out << ", " << uid;
  out << "\n"
      << "interpreters:";
  for (const std::string& i : p.interpreters) out << " " << EscapeText(i);
  out << "\n"
      << "interpreter contents: " << t.interpreter_digests
      << " distinct digests flagged (recognised by content, whatever the file's name)\n";
}

}  // namespace

int RunDbVerify(const std::string& file, const std::string& trust_dir, std::ostream& out,
                std::ostream& err) {
  DbPtr db;
  if (int rc = Load("lockctl db verify", file, trust_dir, false, err, db); rc != kExitOk) {
    return rc;
  }
  out << EscapeText(file) << ": valid: generation " << db->generation() << ", "
      << db->record_count() << " paths, signed by " << hashdb::ToHex(db->signer_key_id()) << " ("
      << hashdb::AlgorithmName(db->signature_algorithm()) << ")\n";
  return kExitOk;
}

int RunDbShow(const std::string& file, const std::string& trust_dir, bool no_verify, bool json,
              std::ostream& out, std::ostream& err) {
  DbPtr db;
  if (int rc = Load("lockctl db show", file, trust_dir, no_verify, err, db); rc != kExitOk) {
    return rc;
  }
  if (json) {
    ShowJson(*db, trust_dir, out);
  } else {
    ShowText(*db, trust_dir, out);
  }
  return kExitOk;
}

int RunDbList(const std::string& file, const std::string& trust_dir, bool no_verify, bool json,
              std::ostream& out, std::ostream& err) {
  DbPtr db;
  if (int rc = Load("lockctl db list", file, trust_dir, no_verify, err, db); rc != kExitOk) {
    return rc;
  }
  // JSON: one array, one entry per line (parseable whole, and line by line after the first).
  if (json) out << "[\n";
  hashdb::RecordCursor cursor(*db);
  while (cursor.Next()) {
    const hashdb::RecordView& r = cursor.record();
    const std::uint32_t i = cursor.index();
    if (json) {
      out << EntryJson(EntryOf(r)) << (i + 1 < db->record_count() ? ",\n" : "\n");
    } else {
      out << hashdb::ToHex(*r.digest) << "  " << hashdb::KindName(r.kind) << "  " << r.size << "  "
          << EscapeText(r.path) << "\n";
    }
  }
  if (json) out << "]\n";
  return kExitOk;
}

int RunDbLookup(const std::string& file, const std::string& trust_dir,
                const std::vector<std::string>& paths, std::ostream& out, std::ostream& err) {
  const std::string who = "lockctl db lookup";
  DbPtr db;
  if (int rc = Load(who, file, trust_dir, false, err, db); rc != kExitOk) return rc;
  int rc = kExitOk;
  for (const std::string& path : paths) {
    hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    struct stat st;
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
      err << who << ": " << EscapeText(path) << ": " << std::strerror(errno) << "\n";
      rc = kExitUsage;
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      err << who << ": " << EscapeText(path) << ": not a regular file\n";
      rc = kExitUsage;
      continue;
    }
    auto digest = hashdb::Sha256File(fd.get(), st.st_size);
    if (!digest.ok()) {
      err << who << ": " << EscapeText(path) << ": " << digest.error().message << "\n";
      rc = kExitUsage;
      continue;
    }
    std::optional<hashdb::LookupResult> hit = db->Lookup(*digest);
    if (hit) {
      hashdb::RecordView first = db->FirstRecordOf(hit->digest_index);
      out << EscapeText(path) << ": allowed as " << hashdb::KindName(hit->kind)
          << (hit->interpreter ? ", an interpreter" : "") << " (sha256 " << hashdb::ToHex(*digest)
          << ", listed as " << EscapeText(first.path) << ")\n";
    } else {
      out << EscapeText(path) << ": NOT allowed (sha256 " << hashdb::ToHex(*digest) << " is not in "
          << EscapeText(file) << ")\n";
      if (rc == kExitOk) rc = kExitNegative;
    }
  }
  return rc;
}

int RunDbDiff(const std::string& old_file, const std::string& new_file,
              const std::string& trust_dir, bool json, std::ostream& out, std::ostream& err) {
  const std::string who = "lockctl db diff";
  DbPtr before;
  DbPtr after;
  if (int rc = Load(who, old_file, trust_dir, false, err, before); rc != kExitOk) return rc;
  if (int rc = Load(who, new_file, trust_dir, false, err, after); rc != kExitOk) return rc;
  const hashdb::DatabaseDiff d = hashdb::DiffDatabases(*before, *after);
  if (json) {
    out << "{" << JsonBytesMember("old", old_file) << ",\"old_generation\":" << before->generation()
        << "," << JsonBytesMember("new", new_file) << ",\"new_generation\":" << after->generation()
        << ",\"counts\":{\"added\":" << d.added.size() << ",\"removed\":" << d.removed.size()
        << ",\"changed\":" << d.changed.size() << ",\"unchanged\":" << d.unchanged
        << "},\n\"added\":[";
    for (std::size_t i = 0; i < d.added.size(); ++i) {
      out << (i > 0 ? ",\n" : "\n") << EntryJson(d.added[i]);
    }
    out << "],\n\"removed\":[";
    for (std::size_t i = 0; i < d.removed.size(); ++i) {
      out << (i > 0 ? ",\n" : "\n") << EntryJson(d.removed[i]);
    }
    out << "],\n\"changed\":[";
    for (std::size_t i = 0; i < d.changed.size(); ++i) {
      out << (i > 0 ? ",\n" : "\n") << "{\"old\":" << EntryJson(d.changed[i].before)
          << ",\"new\":" << EntryJson(d.changed[i].after) << "}";
    }
    out << "]}\n";
    return kExitOk;
  }
  for (const hashdb::FileEntry& e : d.removed) {
    out << "- " << EscapeText(e.path) << "  (" << hashdb::KindName(e.kind) << ", "
        << hashdb::ToHex(e.digest) << ")\n";
  }
  for (const hashdb::FileEntry& e : d.added) {
    out << "+ " << EscapeText(e.path) << "  (" << hashdb::KindName(e.kind) << ", "
        << hashdb::ToHex(e.digest) << ")\n";
  }
  for (const hashdb::ChangedEntry& c : d.changed) {
    out << "~ " << EscapeText(c.after.path) << "  (" << hashdb::ToHex(c.before.digest) << " -> "
        << hashdb::ToHex(c.after.digest) << ")\n";
  }
  out << "generation " << before->generation() << " -> " << after->generation() << ": "
      << d.added.size() << " added, " << d.removed.size() << " removed, " << d.changed.size()
      << " changed, " << d.unchanged << " unchanged\n";
  return kExitOk;
}

}  // namespace lockctl
