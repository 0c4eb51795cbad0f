#include "lockd/status_report.h"

#include "audit/json_escape.h"
#include "lockd/decision_sink.h"
#include "lockd/text_escape.h"

namespace lockd {

using audit::JsonBytesMember;
using audit::JsonString;

namespace {

std::string_view KindName(os::MarkKind kind) {
  return kind == os::MarkKind::kFilesystem ? "filesystem" : "mount";
}

// The signed policy's restrict_user_namespaces against the kernel's settings now: a policy that
// asks for a restriction the kernel does not have is said loudly (lockd could not apply it, or
// someone put the setting back since).
std::string UserNamespacesText(const StatusSnapshot& s) {
  const std::string kernel =
      s.user_namespaces_kernel.empty() ? "" : " (" + s.user_namespaces_kernel + ")";
  if (!s.restrict_user_namespaces) return "policy leaves them on" + kernel;
  if (s.user_namespaces_restricted) return "restricted" + kernel;
  return "NOT restricted although the policy asks" + kernel + ": see lockd's journal";
}

}  // namespace

std::string RenderStatusText(const StatusSnapshot& s) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out.append(key).append(": ").append(value).append("\n");
  };
  line("lockd", s.version);
  line("mode", s.mode);
  if (!s.maintenance_session.empty()) {
    line("maintenance", "session " + s.maintenance_session + ", ends " +
                            FormatTimeUtc(s.maintenance_ends_unix * 1000000000) + ", " +
                            std::to_string(s.maintenance_learned) + " file(s) learned");
  }
  line("database", EscapeLogValue(s.db_path));
  line("generation", std::to_string(s.db_generation));
  line("signer", s.db_signer);
  line("entries", std::to_string(s.db_entries));
  line("uptime", std::to_string(s.uptime_seconds) + " s");
  line("decisions", std::to_string(s.allowed) + " allowed, " + std::to_string(s.denied) +
                        " denied, " + std::to_string(s.would_deny) + " would-deny");
  line("cache", std::to_string(s.cache_hits) + " hits, " + std::to_string(s.cache_misses) +
                    " misses, " + std::to_string(s.cache_entries) + " entries");
  line("kernel cache", s.kernel_cache + ": " + std::to_string(s.kernel_cache_superblocks) +
                           " read-only superblock(s), " + std::to_string(s.kernel_cache_standing) +
                           " file(s) left to the kernel (" + std::to_string(s.kernel_cache_files) +
                           " since start), " + std::to_string(s.kernel_cache_flushes) +
                           " flush(es), " + std::to_string(s.kernel_cache_unwatched) +
                           " taken back from a writer, " + std::to_string(s.kernel_cache_failures) +
                           " failure(s)");
  line("hashed", std::to_string(s.hashes) + " files (" + std::to_string(s.hashes_inline) +
                     " on the event loop from the page cache), " + std::to_string(s.hashed_bytes) +
                     " bytes");
  line("queue depth", std::to_string(s.queue_depth));
  line("workers", std::to_string(s.workers));
  line("queue overflows", std::to_string(s.queue_overflows));
  line("response errors", std::to_string(s.response_errors));
  line("denied unopened (lease)",
       s.reports_open_errors ? std::to_string(s.unopenable_denied) : "not reported by this kernel");
  line("decider restarts", std::to_string(s.decider_restarts));
  if (s.failed_starts > 0 || s.denied_while_down > 0) {
    line("failed decider starts", std::to_string(s.failed_starts));
    line("denied while no decider ran", std::to_string(s.denied_while_down));
  }
  if (!s.watch.empty()) {
    line("watch", EscapeLogValue(s.watch) + " (from " + EscapeLogValue(s.watch_source) + ")");
  }
  line("user namespaces", UserNamespacesText(s));
  out.append("marked filesystems: ").append(std::to_string(s.marked.size())).append("\n");
  for (const auto& m : s.marked) {
    out.append("  ").append(EscapeLogValue(m.mount_point)).append(" (").append(m.fs_type);
    out.append(", ").append(KindName(m.kind)).append(" mark");
    if (!m.via.empty()) out.append(", through ").append(EscapeLogValue(m.via));
    out.append(")\n");
  }
  if (!s.mount_discovery.empty()) {
    out.append("mount discovery: ").append(EscapeLogValue(s.mount_discovery)).append("\n");
  }
  out.append("overlay gaps: ").append(std::to_string(s.overlay_gaps.size())).append("\n");
  for (const auto& g : s.overlay_gaps) out.append("  ").append(EscapeLogValue(g)).append("\n");
  out.append("last denials: ").append(std::to_string(s.last_denials.size())).append("\n");
  for (const auto& d : s.last_denials) {
    out.append("  ").append(FormatTimeUtc(d.time_unix_ns)).append(" ");
    out.append(VerdictName(d.verdict)).append(" ").append(ReasonName(d.reason));
    out.append(" pid=").append(std::to_string(d.pid));
    out.append(" path=\"").append(EscapeLogValue(d.path)).append("\"");
    out.append(" exe=\"").append(EscapeLogValue(d.exe)).append("\"\n");
  }
  return out;
}

std::string RenderStatusJson(const StatusSnapshot& s) {
  std::string o = "{";
  auto num = [&](std::string_view k, auto v) {
    o.append("\"").append(k).append("\":").append(std::to_string(v)).append(",");
  };
  auto str = [&](std::string_view k, std::string_view v) {
    o.append(JsonBytesMember(k, v)).append(",");
  };
  str("version", s.version);
  str("mode", s.mode);
  if (!s.maintenance_session.empty()) {
    o.append("\"maintenance\":{");
    str("session", s.maintenance_session);
    num("ends_unix", s.maintenance_ends_unix);
    str("ends", FormatTimeUtc(s.maintenance_ends_unix * 1000000000));
    num("learned", s.maintenance_learned);
    o.back() = '}';
    o.append(",");
  }
  o.append("\"database\":{");
  str("path", s.db_path);
  num("generation", s.db_generation);
  str("signer", s.db_signer);
  num("entries", s.db_entries);
  num("created_unix", s.db_created_unix);
  o.back() = '}';
  o.append(",");
  num("uptime_seconds", s.uptime_seconds);
  o.append("\"decisions\":{");
  num("allowed", s.allowed);
  num("denied", s.denied);
  num("would_deny", s.would_deny);
  o.back() = '}';
  o.append(",\"cache\":{");
  num("hits", s.cache_hits);
  num("misses", s.cache_misses);
  num("entries", s.cache_entries);
  o.back() = '}';
  o.append(",\"kernel_cache\":{");
  str("scope", s.kernel_cache);
  num("superblocks", s.kernel_cache_superblocks);
  num("files", s.kernel_cache_files);
  num("standing", s.kernel_cache_standing);
  num("flushes", s.kernel_cache_flushes);
  num("failures", s.kernel_cache_failures);
  num("unwatched", s.kernel_cache_unwatched);
  o.back() = '}';
  o.append(",");
  num("hashes", s.hashes);
  num("hashed_bytes", s.hashed_bytes);
  num("hashes_inline", s.hashes_inline);
  num("queue_depth", s.queue_depth);
  num("workers", s.workers);
  num("queue_overflows", s.queue_overflows);
  num("response_errors", s.response_errors);
  num("unopenable_denied", s.unopenable_denied);
  o.append("\"reports_open_errors\":").append(s.reports_open_errors ? "true," : "false,");
  num("decider_restarts", s.decider_restarts);
  num("failed_starts", s.failed_starts);
  num("denied_while_down", s.denied_while_down);
  str("watch", s.watch);
  str("watch_source", s.watch_source);
  str("user_namespaces", UserNamespacesText(s));
  o.append("\"marked_filesystems\":[");
  for (const auto& m : s.marked) {
    o.append("{").append(JsonBytesMember("mount_point", m.mount_point));
    o.append(",\"fs_type\":").append(JsonString(m.fs_type));
    o.append(",\"dev\":").append(std::to_string(m.dev));
    o.append(",\"mark\":").append(JsonString(KindName(m.kind)));
    if (!m.via.empty()) o.append(",").append(JsonBytesMember("via", m.via));
    o.append("},");
  }
  if (o.back() == ',') o.pop_back();
  o.append("],");
  str("mount_discovery", s.mount_discovery);
  o.append("\"overlay_gaps\":[");
  for (const auto& g : s.overlay_gaps) o.append("{").append(JsonBytesMember("gap", g)).append("},");
  if (o.back() == ',') o.pop_back();
  o.append("],\"last_denials\":[");
  for (const auto& d : s.last_denials) {
    o.append("{\"time\":").append(JsonString(FormatTimeUtc(d.time_unix_ns)));
    o.append(",\"verdict\":").append(JsonString(VerdictName(d.verdict)));
    o.append(",\"reason\":").append(JsonString(ReasonName(d.reason)));
    o.append(",\"pid\":").append(std::to_string(d.pid));
    o.append(",").append(JsonBytesMember("exe", d.exe));
    o.append(",").append(JsonBytesMember("path", d.path));
    o.append(",\"digest\":").append(d.digest ? JsonString(hashdb::ToHex(*d.digest)) : "null");
    o.append("},");
  }
  if (o.back() == ',') o.pop_back();
  o.append("]}\n");
  return o;
}

}  // namespace lockd
