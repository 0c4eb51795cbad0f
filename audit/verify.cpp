#include "audit/verify.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "audit/json_parse.h"
#include "audit/record.h"
#include "hashdb/unique_fd.h"

namespace lockd::audit {
namespace {

constexpr std::uint64_t kMaxFileBytes = 1ull << 30;

bool IsLowerHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct ParsedRecord {
  std::uint64_t seq = 0;
  std::string type;
  std::string prev;
  std::optional<std::uint64_t> torn_bytes;  // torn_record only
  std::string torn_sha256;
  // Counted decisions: deny / would_deny records, repeat (of, count), records_lost and
  // rotation_drop (deny_decisions, would_deny_decisions).
  std::string of;
  std::uint64_t count = 0, deny_decisions = 0, would_deny_decisions = 0;
  std::optional<DeclaredDrop> drop;
};

std::uint64_t UintMember(const JsonValue& object, const char* key) {
  const JsonValue* v = object.Find(key);
  return v && v->type == JsonValue::Type::kUint ? v->uint_value : 0;
}
std::string StringMember(const JsonValue& object, const char* key) {
  const JsonValue* v = object.Find(key);
  return v && v->type == JsonValue::Type::kString ? v->string : std::string();
}

// Checks the shape every record has; the error says what is missing or wrong.
hashdb::Result<ParsedRecord> ParseRecord(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             "line is longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  auto json = ParseJson(line);
  if (!json) return json.error().Wrap("not valid JSON");
  if (json->type != JsonValue::Type::kObject) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat, "not a JSON object");
  }
  auto bad = [](const std::string& what) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat, what);
  };
  ParsedRecord r;
  const JsonValue* seq = json->Find("seq");
  if (!seq || seq->type != JsonValue::Type::kUint || seq->uint_value == 0) {
    return bad("\"seq\" is missing or not a positive integer");
  }
  r.seq = seq->uint_value;
  const JsonValue* time = json->Find("time");
  if (!time || time->type != JsonValue::Type::kString || !ParseTime(time->string)) {
    return bad("\"time\" is missing or not an RFC 3339 UTC time");
  }
  const JsonValue* type = json->Find("type");
  if (!type || type->type != JsonValue::Type::kString || type->string.empty() ||
      !std::all_of(type->string.begin(), type->string.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return bad("\"type\" is missing or not [a-z_]+");
  }
  r.type = type->string;
  const JsonValue* prev = json->Find("prev");
  if (!prev || prev->type != JsonValue::Type::kString || !IsLowerHex64(prev->string)) {
    return bad("\"prev\" is missing or not 64 lower-case hex digits");
  }
  r.prev = prev->string;
  if (r.type == "torn_record") {
    const JsonValue* n = json->Find("torn_bytes");
    const JsonValue* h = json->Find("torn_sha256");
    if (!n || n->type != JsonValue::Type::kUint || !h || h->type != JsonValue::Type::kString) {
      return bad("torn_record without torn_bytes and torn_sha256");
    }
    r.torn_bytes = n->uint_value;
    r.torn_sha256 = h->string;
  }
  if (r.type == "repeat") {
    r.of = StringMember(*json, "of");
    r.count = UintMember(*json, "count");
  }
  if (r.type == "records_lost" || r.type == "rotation_drop") {
    r.deny_decisions = UintMember(*json, "deny_decisions");
    r.would_deny_decisions = UintMember(*json, "would_deny_decisions");
  }
  if (r.type == "rotation_drop") {
    DeclaredDrop d;
    d.file = StringMember(*json, "file");
    d.records = UintMember(*json, "records");
    d.first_seq = UintMember(*json, "first_seq");
    d.last_seq = UintMember(*json, "last_seq");
    d.first_prev = StringMember(*json, "first_prev");
    d.last_hash = StringMember(*json, "last_hash");
    d.unsaved = UintMember(*json, "unsaved");
    r.drop = std::move(d);
  }
  return r;
}

struct ChainState {
  bool have = false;
  std::uint64_t seq = 0;
  std::string hash;
  std::uint64_t last_line_bytes = 0;
  ChainPlace place;
  std::uint64_t records = 0;
};

struct Pending {
  ChainPlace place;
  std::uint64_t bytes = 0;
  std::string hash;
  std::string reason;
  bool final_unterminated = false;
};

}  // namespace

VerifyReport VerifyLogs(std::span<const LogInput> files, const VerifyOptions& options) {
  VerifyReport report;
  report.head_hash = kGenesisPrev;
  ChainState state;
  ChainState before_last;  // the state before the last record, for the torn-rollback rule
  std::optional<Pending> pending;
  std::vector<bool> anchor_found(options.anchors.size(), false);
  auto fail = [&](ChainPlace place, std::string reason) {
    report.broken = ChainBreak{std::move(place), std::move(reason)};
  };

  for (std::size_t f = 0; f < files.size() && !report.broken; ++f) {
    const std::string_view data = files[f].bytes;
    std::size_t pos = 0;
    std::uint64_t line_no = 0;
    while (pos < data.size() && !report.broken) {
      const std::size_t nl = data.find('\n', pos);
      const bool terminated = nl != std::string_view::npos;
      const std::string_view line =
          data.substr(pos, terminated ? nl - pos : std::string_view::npos);
      pos = terminated ? nl + 1 : data.size();
      ++line_no;
      ChainPlace place{files[f].name, line_no, std::nullopt};
      const std::string hash = LineHash(line);
      auto record = ParseRecord(line);
      if (!record) {
        if (pending) {
          fail(pending->place, "not a valid record (" + pending->reason +
                                   ") and not acknowledged as torn by the next record");
          break;
        }
        pending = Pending{place, line.size(), hash, record.error().message,
                          !terminated && f + 1 == files.size()};
        continue;
      }
      place.seq = record->seq;
      if (pending) {
        if (record->type != "torn_record" || record->torn_bytes != pending->bytes ||
            record->torn_sha256 != pending->hash) {
          fail(pending->place, "not a valid record (" + pending->reason +
                                   ") and not acknowledged as torn by the next record");
          break;
        }
        report.torn.push_back(TornLine{pending->place, pending->bytes, true});
        pending.reset();
      } else if (record->type == "torn_record" && state.have &&
                 record->torn_bytes == state.last_line_bytes && record->torn_sha256 == state.hash) {
        // The previous line looked whole but had no newline when the writer restarted: the
        // writer treated it as torn, so it is not part of the chain.
        report.torn.push_back(TornLine{state.place, state.last_line_bytes, true});
        state = before_last;
      }
      if (state.have) {
        if (record->seq != state.seq + 1) {
          fail(place, "seq " + std::to_string(record->seq) + " does not follow seq " +
                          std::to_string(state.seq) + " (" + state.place.file + ":" +
                          std::to_string(state.place.line) + ")");
          break;
        }
        if (record->prev != state.hash) {
          fail(place, "prev does not match the SHA-256 of the previous record (seq " +
                          std::to_string(state.seq) + ", " + state.place.file + ":" +
                          std::to_string(state.place.line) + ")");
          break;
        }
      } else {
        report.first_seq = record->seq;
        report.first_prev = record->prev;
        report.starts_at_genesis = record->seq == 1 && record->prev == kGenesisPrev;
        if (record->prev == kGenesisPrev && record->seq != 1) {
          fail(place, "a chain start (prev of zeros) must have seq 1");
          break;
        }
        if (options.require_genesis && !report.starts_at_genesis) {
          fail(place,
               "the chain does not start at seq 1 with prev of zeros (records or files "
               "before it are missing)");
          break;
        }
      }
      for (std::size_t a = 0; a < options.anchors.size(); ++a) {
        if (options.anchors[a] == hash) anchor_found[a] = true;
      }
      auto tally = [&](DecisionTally& t, std::string_view verdict, std::uint64_t lost) {
        if (record->type == verdict) ++t.records;
        if (record->type == "repeat" && record->of == verdict) t.repeated += record->count;
        if (record->type == "records_lost") t.lost += lost;
        if (record->type == "rotation_drop") t.rotated_away += lost;
      };
      tally(report.deny, "deny", record->deny_decisions);
      tally(report.would_deny, "would_deny", record->would_deny_decisions);
      if (record->drop) {
        record->drop->place = place;
        report.declared_drops.push_back(std::move(*record->drop));
      }
      before_last = state;
      state.have = true;
      state.seq = record->seq;
      state.hash = hash;
      state.last_line_bytes = line.size();
      state.place = place;
      ++state.records;
    }
  }
  if (!report.broken && pending) {
    if (pending->final_unterminated) {
      report.torn.push_back(TornLine{pending->place, pending->bytes, false});
    } else {
      fail(pending->place, "not a valid record (" + pending->reason + ")");
    }
  }
  for (std::size_t a = 0; a < options.anchors.size() && !report.broken; ++a) {
    if (!anchor_found[a]) {
      fail(state.have ? state.place : ChainPlace{},
           "anchor " + options.anchors[a] +
               " is not the hash of any record in the chain (records were removed or changed)");
    }
  }
  for (const DeclaredDrop& d : report.declared_drops) {
    if (report.broken || !state.have || d.records == 0 || d.last_seq + 1 != report.first_seq)
      continue;
    if (d.last_hash != report.first_prev) {
      fail(d.place, "the rotated-away file " + d.file +
                        " ended with a record whose hash is not "
                        "the prev of the first record read (seq " +
                        std::to_string(report.first_seq) +
                        "): the chain does not continue from what was declared dropped");
    } else {
      report.drops_reach_chain = true;
    }
  }
  report.records = state.records;
  if (state.have) {
    report.last_seq = state.seq;
    report.head_hash = state.hash;
    report.head = state.place;
  }
  return report;
}

hashdb::Result<std::string> ReadLogFile(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError(path + ": fstat");
  if (!S_ISREG(st.st_mode)) {
    return hashdb::MakeError(hashdb::ErrorCode::kIo, path + ": not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
    return hashdb::MakeError(hashdb::ErrorCode::kIo, path + ": larger than 1 GiB");
  }
  std::string bytes;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError(path + ": read");
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxFileBytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kIo, path + ": larger than 1 GiB");
    }
  }
  return bytes;
}

hashdb::Result<VerifyReport> VerifyLogFiles(const std::vector<std::string>& paths,
                                            const VerifyOptions& options) {
  std::vector<LogInput> inputs;
  for (const std::string& path : paths) {
    auto bytes = ReadLogFile(path);
    if (!bytes) return bytes.error();
    inputs.push_back(LogInput{path, std::move(*bytes)});
  }
  return VerifyLogs(inputs, options);
}

hashdb::Result<std::vector<std::string>> DiscoverLogFiles(const std::string& base) {
  const auto slash = base.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : base.substr(0, slash));
  const std::string name = slash == std::string::npos ? base : base.substr(slash + 1);
  std::vector<std::pair<std::uint64_t, std::string>> rotated;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return hashdb::ErrnoError(dir);
  while (const dirent* e = ::readdir(d)) {
    const std::string_view entry = e->d_name;
    if (entry.size() <= name.size() + 1 || entry.substr(0, name.size()) != name ||
        entry[name.size()] != '.') {
      continue;
    }
    const std::string_view digits = entry.substr(name.size() + 1);
    if (digits.size() > 9 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    rotated.emplace_back(std::stoull(std::string(digits)), dir + "/" + std::string(entry));
  }
  ::closedir(d);
  std::sort(rotated.begin(), rotated.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> files;
  for (auto& r : rotated) files.push_back(std::move(r.second));
  struct stat st {};
  if (::stat(base.c_str(), &st) == 0) {
    files.push_back(base);
  } else if (errno != ENOENT) {
    return hashdb::ErrnoError(base);
  }
  if (files.empty()) {
    return hashdb::MakeError(hashdb::ErrorCode::kNotFound,
                             base + ": no such log (nor rotated " + name + ".N)");
  }
  return files;
}

}  // namespace lockd::audit
