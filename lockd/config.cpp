#include "lockd/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <thread>

#include "lockd/audit/syslog_sink.h"

namespace lockd {

namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr std::int64_t kMaxWorkers = 64;

hashdb::Error At(const std::string& source, const toml::source_region& where,
                 const std::string& why) {
  std::string place = source;
  if (where.begin.line > 0) place += ":" + std::to_string(where.begin.line);
  return hashdb::MakeError(hashdb::ErrorCode::kFormat, place + ": " + why);
}

hashdb::Result<std::string> AbsolutePath(const std::string& source, std::string_view key,
                                         const toml::node& node) {
  const auto* s = node.as_string();
  if (s == nullptr) return At(source, node.source(), std::string(key) + ": expected a string");
  const std::string& v = s->get();
  if (v.empty() || v[0] != '/' || v.find('\0') != std::string::npos) {
    return At(source, node.source(),
              std::string(key) + ": expected an absolute path, got '" + v + "'");
  }
  return v;
}

hashdb::Result<std::vector<std::string>> StringList(const std::string& source, std::string_view key,
                                                    const toml::node& node, bool paths) {
  const auto* arr = node.as_array();
  const std::string what = paths ? "an array of absolute paths" : "an array of glob patterns";
  if (arr == nullptr) return At(source, node.source(), std::string(key) + ": expected " + what);
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    if (paths) {
      auto path = AbsolutePath(source, key, item);
      if (!path.ok()) return path.error();
      out.push_back(*path);
      continue;
    }
    const auto* s = item.as_string();
    bool clean = s != nullptr && !s->get().empty();
    if (clean) {
      for (unsigned char c : s->get()) clean = clean && c >= 0x20 && c != 0x7f;
    }
    if (!clean) {
      return At(source, item.source(),
                std::string(key) + ": expected non-empty patterns without control characters");
    }
    out.push_back(s->get());
  }
  return out;
}

}  // namespace

unsigned Config::EffectiveWorkers() const {
  if (workers != 0) return workers;
  return std::max(2u, std::thread::hardware_concurrency());
}

hashdb::Result<Config> ParseConfig(std::string_view text, const std::string& source_name) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return At(source_name, e.source(), std::string(e.description()));
  }
  Config config;
  config.source = source_name;
  for (const auto& [key_node, node] : table) {
    const std::string key(key_node.str());
    if (key == "database" || key == "trust_dir" || key == "state_dir" || key == "control_socket" ||
        key == "audit_log") {
      auto path = AbsolutePath(source_name, key, node);
      if (!path.ok()) return path.error();
      if (key == "database") config.database = *path;
      if (key == "trust_dir") config.trust_dir = *path;
      if (key == "state_dir") config.state_dir = *path;
      if (key == "control_socket") config.control_socket = *path;
      if (key == "audit_log") config.audit_log = *path;
    } else if (key == "syslog_facility") {
      const auto* v = node.as_string();
      if (v == nullptr || (v->get() != "none" && !audit::ParseSyslogFacility(v->get()).ok())) {
        return At(source_name, node.source(),
                  "syslog_facility: expected \"none\", \"auth\", \"authpriv\", \"daemon\", "
                  "\"user\" or \"local0\"..\"local7\"");
      }
      config.syslog_facility = v->get();
    } else if (key == "workers") {
      const auto* v = node.as_integer();
      if (v == nullptr || v->get() < 0 || v->get() > kMaxWorkers) {
        return At(
            source_name, node.source(),
            "workers: expected an integer from 0 (one per CPU) to " + std::to_string(kMaxWorkers));
      }
      config.workers = static_cast<unsigned>(v->get());
    } else if (key == "kernel_cache") {
      const auto* v = node.as_string();
      const auto scope = v != nullptr ? ParseKernelCacheScope(v->get()) : std::nullopt;
      if (!scope.has_value()) {
        return At(source_name, node.source(),
                  "kernel_cache: expected \"read-only\", \"immutable\" or \"off\"");
      }
      config.kernel_cache = *scope;
    } else if (key == "log_level") {
      const auto* v = node.as_string();
      if (v == nullptr || !ParseLogLevel(v->get(), config.log_level)) {
        return At(source_name, node.source(),
                  "log_level: expected one of \"error\", \"warning\", \"info\", \"debug\"");
      }
    } else if (key == "watch") {
      const auto* arr = node.as_array();
      if (arr == nullptr) {
        return At(source_name, node.source(), "watch: expected an array of absolute paths");
      }
      if (arr->empty()) {
        return At(source_name, node.source(),
                  "watch: an empty list would mark nothing; remove the key to mark every local "
                  "filesystem");
      }
      std::vector<std::string> paths;
      for (const auto& item : *arr) {
        auto path = AbsolutePath(source_name, "watch", item);
        if (!path.ok()) return path.error();
        paths.push_back(*path);
      }
      config.watch = std::move(paths);
    } else if (key == "trusted_updaters" || key == "baseline_roots" || key == "baseline_excludes") {
      auto list = StringList(source_name, key, node, key != "baseline_excludes");
      if (!list.ok()) return list.error();
      if (key == "baseline_roots" && list->empty()) {
        return At(source_name, node.source(),
                  "baseline_roots: an empty list would rescan nothing at maintenance finish");
      }
      if (key == "trusted_updaters") config.trusted_updaters = std::move(*list);
      if (key == "baseline_roots") config.baseline_roots = std::move(*list);
      if (key == "baseline_excludes") config.baseline_excludes = std::move(*list);
    } else {
      return At(source_name, key_node.source(),
                "unknown key '" + key +
                    "' (expected database, trust_dir, state_dir, control_socket, workers, "
                    "kernel_cache, log_level, watch, audit_log, syslog_facility, trusted_updaters, "
                    "baseline_roots, baseline_excludes)");
    }
  }
  return config;
}

hashdb::Result<Config> LoadConfig(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return hashdb::ErrnoError(path);
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return hashdb::ErrnoError(path, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      return hashdb::MakeError(hashdb::ErrorCode::kFormat, path + ": larger than 1 MiB");
    }
  }
  ::close(fd);
  return ParseConfig(text, path);
}

}  // namespace lockd
