#include "lockd/audit/rotation_drop.h"

#include <algorithm>
#include <charconv>
#include <span>

#include "audit/verify.h"
#include "hashdb/atomic_file.h"
#include "hashdb/small_file.h"

namespace lockd::audit {
namespace {

std::optional<std::uint64_t> ToUint(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string_view> LineMember(std::string_view line, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  std::size_t at = 0;
  while ((at = line.find(needle, at)) != std::string_view::npos) {
    // A member starts after '{' or ','; inside a string every '"' is escaped, so an unescaped
    // quote there is never preceded by one of these.
    if (at > 0 && (line[at - 1] == '{' || line[at - 1] == ',')) break;
    at += needle.size();
  }
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(at + needle.size());
  if (!rest.empty() && rest[0] == '"') {
    std::size_t i = 1;
    while (i < rest.size() && rest[i] != '"') i += rest[i] == '\\' ? 2 : 1;
    if (i >= rest.size()) return std::nullopt;
    return rest.substr(1, i - 1);
  }
  const std::size_t end = rest.find_first_of(",}");
  if (end == std::string_view::npos) return std::nullopt;
  return rest.substr(0, end);
}

hashdb::Result<DroppedFile> DescribeDroppedFile(const std::string& path) {
  auto bytes = ReadLogFile(path);
  if (!bytes) return bytes.error();
  DroppedFile d;
  d.name = path.substr(path.rfind('/') + 1);
  d.bytes = bytes->size();
  std::string_view rest(*bytes);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {  // a torn tail: not a record
      ++d.other_lines;
      break;
    }
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    const auto seq = ToUint(LineMember(line, "seq"));
    const auto type = LineMember(line, "type");
    const auto time = LineMember(line, "time");
    const auto prev = LineMember(line, "prev");
    if (!seq || !type || !time || !prev) {
      ++d.other_lines;
      continue;
    }
    if (d.records == 0) {
      d.first_seq = *seq;
      d.first_time = *time;
      d.first_prev = *prev;
    }
    ++d.records;
    d.last_seq = *seq;
    d.last_time = *time;
    d.last_hash = LineHash(line);
    if (*type == "deny") ++d.deny_decisions;
    if (*type == "would_deny") ++d.would_deny_decisions;
    if (*type == "repeat") {
      const auto count = ToUint(LineMember(line, "count")).value_or(0);
      const auto of = LineMember(line, "of");
      if (of == "deny") d.deny_decisions += count;
      if (of == "would_deny") d.would_deny_decisions += count;
    }
  }
  return d;
}

std::uint64_t UnsavedRecords(std::uint64_t first, std::uint64_t last, const TakenMarks& m) {
  if (first == 0 || last < first) return 0;
  std::uint64_t unsaved = last - first + 1;
  // Covered by the export: first..min(last, exported_through).
  std::uint64_t from = first;
  if (m.exported_through >= from) {
    const std::uint64_t upto = std::min(last, m.exported_through);
    unsaved -= upto - from + 1;
    from = upto + 1;
  }
  if (from > last) return 0;
  // Covered by the syslog copy, beyond what the export covered.
  if (m.forwarded_from != 0 && m.forwarded_through >= m.forwarded_from) {
    const std::uint64_t a = std::max(from, m.forwarded_from);
    const std::uint64_t b = std::min(last, m.forwarded_through);
    if (a <= b) unsaved -= b - a + 1;
  }
  return unsaved;
}

Record RotationDropRecord(const DroppedFile& f, const TakenMarks& m) {
  Record r("rotation_drop");
  r.AddBytes("file", f.name);
  r.AddUint("bytes", f.bytes);
  r.AddUint("records", f.records);
  if (f.records > 0) {
    r.AddUint("first_seq", f.first_seq).AddUint("last_seq", f.last_seq);
    r.AddBytes("first_time", f.first_time).AddBytes("last_time", f.last_time);
    r.AddBytes("first_prev", f.first_prev).AddBytes("last_hash", f.last_hash);
  }
  if (f.other_lines > 0) r.AddUint("other_lines", f.other_lines);
  r.AddUint("deny_decisions", f.deny_decisions);
  r.AddUint("would_deny_decisions", f.would_deny_decisions);
  r.AddUint("unsaved", UnsavedRecords(f.first_seq, f.last_seq, m));
  r.AddUint("exported_through", m.exported_through);
  r.AddUint("forwarded_through", m.forwarded_through);
  return r;
}

std::string ExportMarkPath(const std::string& log_path) { return log_path + ".exported"; }

std::uint64_t ReadExportMark(const std::string& log_path) {
  auto text = hashdb::ReadSmallFile(ExportMarkPath(log_path), 4096);
  if (!text) return 0;
  const std::string_view t(*text);
  return ToUint(t.substr(0, t.find(' '))).value_or(0);
}

hashdb::Status WriteExportMark(const std::string& log_path, std::uint64_t seq,
                               std::string_view hash) {
  if (seq <= ReadExportMark(log_path)) return {};
  const std::string text = std::to_string(seq) + " " + std::string(hash) + "\n";
  return hashdb::WriteFileAtomically(
      ExportMarkPath(log_path),
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0640);
}

}  // namespace lockd::audit
