#include "lockd/daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>

#include "hashdb/version.h"
#include "lockd/audit/audit_sink.h"
#include "lockd/background_task.h"
#include "lockd/config.h"
#include "lockd/control/authorized_acts.h"
#include "lockd/control/server.h"
#include "lockd/control/socket.h"
#include "lockd/coverage_gate.h"
#include "lockd/database_manager.h"
#include "lockd/decision_cache.h"
#include "lockd/decision_sink.h"
#include "lockd/event_loop.h"
#include "lockd/exec_decider.h"
#include "lockd/filesystem_marker.h"
#include "lockd/kernel_cache.h"
#include "lockd/log.h"
#include "lockd/mode.h"
#include "lockd/mount_discovery.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/fuse_control.h"
#include "lockd/os/process_info.h"
#include "lockd/os/sd_notify.h"
#include "lockd/os/signal_fd.h"
#include "lockd/quarantine/quarantine.h"
#include "lockd/report.h"
#include "lockd/script_coverage.h"
#include "lockd/startup_responder.h"
#include "lockd/stats.h"
#include "lockd/status_report.h"
#include "lockd/teardown.h"
#include "lockd/tty_notice.h"
#include "lockd/untrusted_reader.h"
#include "lockd/userns_policy.h"
#include "lockd/watch_policy.h"

namespace lockd {

namespace {

// How long an event read during startup may wait for the event loop before it is denied: the
// terminal must not wait on a slow start (no exec or open waits on lockd for more than a second
// or two), and nothing unjudged is allowed.
constexpr std::chrono::milliseconds kStartupHoldLimit{1000};

// Logs the failed step, tells systemd and the supervisor (ready pipe, daemon.h), returns 1.
int Fail(const DaemonOptions& options, const std::string& step, const hashdb::Error& error) {
  LogError(step + ": " + error.message);
  (void)os::SdNotify("STATUS=startup failed: " + step);
  if (options.ready_fd >= 0) {
    const std::string message = "F" + step + ": " + error.message;
    (void)!::write(options.ready_fd, message.data(), std::min<std::size_t>(message.size(), 1024));
  }
  return 1;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  const auto started = std::chrono::steady_clock::now();

  // 1. Signals: blocked before any thread exists, so every thread inherits the mask. No file
  // is opened before step 2.
  auto signals = os::SignalFd::Create({SIGTERM, SIGINT, SIGHUP});
  if (!signals.ok()) return Fail(options, "signals", signals.error());
  ::signal(SIGPIPE, SIG_IGN);

  // 2. Our own accesses answered from now on: a decider that replaces a dead one starts with
  // every filesystem marked, and its config, database and logs live on them
  // (startup_responder.h). Other events wait for the loop (at most 1 s, then denied).
  std::optional<os::LinuxEventKernel> kernel;
  std::optional<StartupResponder> responder;
  if (options.group != nullptr) {
    kernel.emplace(*options.group);
    responder.emplace(*kernel, kStartupHoldLimit);
  }

  // 3. Configuration.
  auto config = LoadConfig(options.config_path);
  if (!config.ok()) return Fail(options, "configuration", config.error());
  SetLogLevel(config->log_level);

  // 4. Sinks: stderr (journald) and whatever the caller adds.
  auto sink = std::make_shared<FanOutDecisionSink>();
  sink->Add(std::make_shared<StderrDecisionSink>());
  if (options.extra_sink) sink->Add(options.extra_sink);
  // The hash-chained audit log: records are queued and written by its own thread, never
  // before the kernel has its answer. Without it lockd does not run: an allowlist whose
  // denials leave no evidence is not what a bank deploys.
  {
    audit::AuditLogOptions audit_options;
    audit_options.file.path = config->audit_log;
    if (config->syslog_facility != "none") {
      audit::SyslogOptions syslog;
      syslog.facility = *audit::ParseSyslogFacility(config->syslog_facility);
      audit_options.syslog = syslog;
    }
    auto audit_sink = audit::AuditSink::Start(audit_options);
    if (!audit_sink.ok())
      return Fail(options, "audit log " + config->audit_log, audit_sink.error());
    sink->Add(*audit_sink);
  }
  if (options.restart) {
    const DeciderRestart& r = *options.restart;
    sink->OnDaemonEvent(
        {NowUnixNs(),
         DaemonEventKind::kDecider,
         "decider " + std::to_string(r.previous_pid) + " ended (" + r.how_ended + "); " +
             std::to_string(r.pending_denied) + " event(s) it had read denied (" +
             std::to_string(r.denied_outside_ledger) + " found by the fd sweep); restart " +
             std::to_string(r.number) + ", new decider " + std::to_string(::getpid()),
         0,
         {{"exit", r.how_ended},
          {"pending_denied", std::to_string(r.pending_denied)},
          {"previous_pid", std::to_string(r.previous_pid)},
          {"restarts", std::to_string(r.number)},
          {"failed_starts", std::to_string(r.failed_starts)},
          {"last_failure", r.last_failure},
          {"denied_while_down", std::to_string(r.denied_while_down)}}});
  }
  // One line on the terminal of a process whose exec was denied (lockd/tty_notice.h).
  sink->Add(TtyNoticeSink::Start());

  // 5. The database: verified against the trust anchors and the anti-rollback floor.
  DecisionCache cache;
  DatabaseManager databases(config->database, config->trust_dir, StateStore(config->state_dir));
  databases.SetOnSwap([&cache](const hashdb::Database&) { cache.Clear(); });
  auto db = databases.Load();
  if (!db.ok()) {
    sink->OnDaemonEvent({NowUnixNs(), DaemonEventKind::kDatabaseRefused, db.error().message, 0});
    return Fail(options, "database", db.error());
  }
  // The record's message is the description alone (as before Report; exports copy it).
  Report(*sink, LogLevel::kInfo, DaemonEventKind::kDatabaseLoaded, DescribeDatabase(**db),
         (*db)->generation());
  // memfd execution cannot be seen by fanotify: shut it in the kernel (policy.memfd_noexec).
  ApplyMemfdPolicy((*db)->policy(), *sink, (*db)->generation());
  // No mounts by unprivileged users: user namespaces off (policy.restrict_user_namespaces),
  // the values found first recorded for uninstall; put back when the policy turns it off.
  ApplyUserNamespacePolicy((*db)->policy().restrict_user_namespaces, StateStore(config->state_dir),
                           *sink, (*db)->generation());
  // Where to enforce: the signed policy's watch; lockd.toml may only widen it when enforcing
  // (watch_policy.h). Refused before any mark is placed.
  auto watch = ChooseWatch((*db)->policy(), config->watch, config->source);
  if (!watch.ok()) {
    sink->OnDaemonEvent({NowUnixNs(), DaemonEventKind::kError,
                         "not starting: " + watch.error().message, (*db)->generation()});
    return Fail(options, "watch", watch.error());
  }
  LogInfo("marking " + DescribeWatch(watch->watch) + " (watch from " + watch->source + ")");

  // 6. fanotify group (made by the supervisor, see daemon.h), mount table.
  if (options.group == nullptr) {
    return Fail(options, "fanotify",
                options.group_error.value_or(
                    hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument, "no fanotify group")));
  }
  os::FanotifyGroup& g = *options.group;
  // The mark mask follows the coverage policy of the database in force at start (a reload that
  // changes it is reported: marks are placed once). No mark is placed before step 7.
  const os::MarkMask mask = MarkMaskFor((*db)->policy());
  // FUSE and network filesystems in a group of their own when the supervisor made one
  // (untrusted_reader.h).
  FilesystemMarker marker(g, mask, watch->watch, UntrustedMarkMask(), options.untrusted_group);
  // A superblock newly marked or gone: what the cache holds for its device number is stale.
  marker.SetOnSuperblockChange([&cache](std::uint64_t dev) { cache.ForgetDevice(dev); });

  // 7. Decider and workers (before the marks: events flow as soon as a mark is placed).
  Stats stats;
  ModeSource modes;
  // The maintenance window (resumed if still open, closed if it ended while lockd was down) and
  // the token-authorized acts. Its learning sink sees the decisions made in maintenance mode.
  auto privileged = maintenance::Services::Start(*config, databases, modes, *sink);
  if (!privileged.ok()) return Fail(options, "maintenance state", privileged.error());
  sink->Add((*privileged)->learning_sink());
  ExecDeciderOptions decider_options;
  const unsigned workers = config->EffectiveWorkers();
  decider_options.small_workers = workers;
  decider_options.large_workers = std::max(1u, workers / 2);
  // Audit records name an event's file as the marker sees it (overlay layers, EventPath).
  decider_options.coverage = &marker;
  decider_options.attribute_maintenance = [&c = (*privileged)->controller()](int pid) {
    return c.AttributeNow(pid);
  };
  // Script coverage (interpreters by digest, scripts by command line): the decider hands it
  // the digest of every exec'd file it judged by content, so nothing is hashed twice. Declared
  // before the decider: the decider's workers call it until Shutdown.
  ScriptCoverage scripts(*kernel, &marker);
  decider_options.exec_digest = [&scripts](const FileFacts& facts, const hashdb::Digest& digest) {
    scripts.NoteDigest(facts, digest);
  };
  // Allowlisted files on read-only superblocks are left to the kernel after their first allow
  // (kernel_cache.h): it follows the marker's view of each superblock after every pass over
  // the mount tables, and every database swap. Declared before the decider, whose workers use
  // it until Shutdown.
  KernelCache kernel_cache(*kernel, config->kernel_cache);
  marker.SetOnPublish([&] { kernel_cache.UpdateSuperblocks(marker.LocalSuperblocks()); });
  databases.SetOnSwap([&cache, &kernel_cache](const hashdb::Database&) {
    cache.Clear();
    kernel_cache.OnDatabaseSwap();
  });
  decider_options.kernel_cache = &kernel_cache;
  decider_options.inline_hash_bytes = kInlineHashBytes;
  ExecDecider decider(*kernel, databases, modes, cache, *sink, stats, decider_options);
  // From here on every step that starts something pushes what undoes it; a failed step returns
  // and the scope undoes the steps before it, last first (teardown.h). A clean stop runs them
  // at the end of step 12. What a step's undo refers to is declared before `teardown`, so it
  // outlives the undo.
  EventLoop* loop_for_teardown = nullptr;        // step 12
  std::unique_ptr<ControlServerThread> control;  // step 10
  // FUSE and network filesystems: their group's own reader and workers, and the guard that
  // aborts a FUSE connection holding them (untrusted_reader.h).
  std::optional<os::LinuxEventKernel> untrusted_kernel;
  std::unique_ptr<ExecDecider> untrusted_decider;
  os::LinuxFuseConnections fuse_connections;
  std::unique_ptr<UntrustedReader> untrusted_reader;
  TeardownSteps teardown;
  teardown.Push("maintenance thread stopped", [&] { (*privileged)->Stop(); });
  teardown.Push("workers drained (every request submitted is answered)",
                [&] { decider.Shutdown(); });
  if (options.untrusted_group != nullptr) {
    untrusted_kernel.emplace(*options.untrusted_group);
    ExecDeciderOptions untrusted_options = decider_options;
    untrusted_options.small_workers = 2;
    untrusted_options.large_workers = 1;
    untrusted_options.kernel_cache = nullptr;  // never on FUSE or network filesystems
    untrusted_options.inline_hash_bytes = 0;   // a worker, never the reader thread
    untrusted_decider = std::make_unique<ExecDecider>(*untrusted_kernel, databases, modes, cache,
                                                      *sink, stats, untrusted_options);
    untrusted_reader = std::make_unique<UntrustedReader>(
        *untrusted_kernel, *untrusted_decider, fuse_connections,
        [&marker] {
          std::vector<FuseMount> fuse;
          for (const auto& m : marker.Marked()) {
            if (m.untrusted && m.fs_type.rfind("fuse", 0) == 0) {
              fuse.push_back({m.dev, m.mount_point});
            }
          }
          return fuse;
        },
        *sink, stats);
    if (auto reading = untrusted_reader->Start(); !reading.ok()) {
      return Fail(options, "reader of FUSE and network filesystems", reading.error());
    }
    teardown.Push("FUSE and network filesystems' events read and answered",
                  [&] { untrusted_reader->Stop(); });
  }

  // 8. Marks. A watch path must exist and be canonical on disk: a missing one would resolve to
  // whatever filesystem holds its nearest existing parent (often /), and one that passes
  // through a symbolic link (which anyone who can write the disk offline can plant in place of
  // a signed directory) names a different place from the one the marks are chosen by.
  if (watch->watch) {
    for (const auto& w : *watch->watch) {
      char resolved[PATH_MAX];
      if (::realpath(w.c_str(), resolved) == nullptr) {
        return Fail(options, "marks", hashdb::ErrnoError(watch->source + ": watch path " + w));
      }
      if (w != resolved) {
        return Fail(
            options, "marks",
            hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                              watch->source + ": watch path " + w + " resolves to " + resolved +
                                  ": watch paths must be canonical (no "
                                  "symbolic link, '.' or '..')"));
      }
    }
  }
  auto discovery = MountDiscovery::Open(marker);
  if (!discovery.ok()) {
    return Fail(options, "mount table", discovery.error());
  }
  auto first = (*discovery)->SyncOwn();
  if (!first.ok()) {
    return Fail(options, "mount table", first.error());
  }
  for (const auto& f : first->failures) LogError("cannot mark " + f);
  if (marker.Marked().empty()) {
    return Fail(options, "marks",
                hashdb::MakeError(hashdb::ErrorCode::kNotFound,
                                  "no filesystem could be marked; nothing would be "
                                  "enforced"));
  }
  // Marks removed first, so no new event arrives; then every event already queued is answered
  // by the loop (once it exists: before that the startup responder holds them).
  teardown.Push("marks removed, queued events answered", [&] {
    marker.UnmarkAll();
    if (loop_for_teardown != nullptr) loop_for_teardown->DrainFanotify();
  });
  for (const auto& m : marker.Marked()) {
    LogInfo("watching " + m.mount_point + " (" + m.fs_type + ", " +
            (m.kind == os::MarkKind::kFilesystem ? "filesystem" : "mount") + " mark)");
  }

  // 9. Reload (SIGHUP and control socket share it) and status.
  auto reload = [&]() -> ControlReply {
    const ReloadOutcome outcome = databases.Reload();
    const std::uint64_t generation = outcome.current ? outcome.current->generation() : 0;
    if (!outcome.loaded) {
      Report(*sink, LogLevel::kError, DaemonEventKind::kDatabaseRefused, outcome.message,
             generation);
      return {ControlReply::Code::kRefused, outcome.message + "\n"};
    }
    const hashdb::Policy& policy = outcome.current->policy();
    if (!MarkMaskCovers(marker.mask(), policy)) {
      LogError(
          "the new policy covers shared objects or scripts but the marks were placed "
          "without FAN_OPEN_PERM: restart lockd to apply it");
    }
    // Marks are placed once, at start: a new signed watch is applied by a restart, and one
    // that lockd.toml would narrow makes that restart refuse. Both are said now.
    auto new_watch = ChooseWatch(policy, config->watch, config->source);
    if (!new_watch.ok()) {
      Report(*sink, LogLevel::kError, DaemonEventKind::kError,
             "reload: the new policy's watch: " + new_watch.error().message +
                 ": lockd keeps the marks it placed at start and will refuse to restart",
             generation);
    } else if (new_watch->watch != watch->watch) {
      LogError("the new policy enforces on " + DescribeWatch(new_watch->watch) +
               " but the marks were placed for " + DescribeWatch(watch->watch) +
               ": restart lockd to apply it");
    }
    if (policy.memfd_noexec) ApplyMemfdPolicy(policy, *sink, generation);
    ApplyUserNamespacePolicy(policy.restrict_user_namespaces, StateStore(config->state_dir), *sink,
                             generation);
    Report(*sink, LogLevel::kInfo, DaemonEventKind::kDatabaseLoaded, outcome.message, generation);
    return {ControlReply::Code::kOk, outcome.message + "\n"};
  };
  auto status = [&](bool json) {
    StatusSnapshot s;
    s.version = hashdb::kLockdVersion;
    auto current = databases.Current();
    if (current) {
      s.mode = std::string(EffectiveModeName(modes.Current(current->policy())));
      s.db_generation = current->generation();
      s.db_path = current->name();
      s.db_signer = hashdb::ToHex(current->signer_key_id());
      s.db_entries = current->digest_count();
      s.db_created_unix = current->created_unix();
    }
    s.uptime_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    s.allowed = stats.allowed.load();
    s.denied = stats.denied.load();
    s.would_deny = stats.would_deny.load();
    s.cache_hits = cache.hits();
    s.cache_misses = cache.misses();
    s.cache_entries = cache.size();
    s.hashes = stats.hashes.load();
    s.hashed_bytes = stats.hashed_bytes.load();
    s.hashes_inline = stats.hashed_inline.load();
    s.response_errors = stats.response_errors.load();
    s.queue_overflows = stats.queue_overflows.load();
    s.queue_depth = stats.pending.load();
    s.decider_restarts = options.restart ? options.restart->number : 0;
    s.unopenable_denied = stats.unopenable_denied.load();
    s.reports_open_errors = g.reports_fd_errors();
    s.failed_starts = options.restart ? options.restart->failed_starts : 0;
    s.denied_while_down = options.restart ? options.restart->denied_while_down : 0;
    s.workers = workers;
    const KernelCache::Counters kc = kernel_cache.counters();
    s.kernel_cache = KernelCacheScopeName(kernel_cache.scope());
    s.kernel_cache_superblocks = kc.superblocks;
    s.kernel_cache_files = kc.files;
    s.kernel_cache_standing = kc.standing;
    s.kernel_cache_flushes = kc.flushes;
    s.kernel_cache_failures = kc.failures;
    s.kernel_cache_unwatched = kc.unwatched;
    s.watch = DescribeWatch(watch->watch);
    s.watch_source = watch->source;
    if (current) s.restrict_user_namespaces = current->policy().restrict_user_namespaces;
    const UserNamespaceSettings userns = ReadUserNamespaceSettings();
    s.user_namespaces_restricted = userns.restricted;
    s.user_namespaces_kernel = userns.text;
    s.marked = marker.Marked();
    s.mount_discovery = (*discovery)->Describe();
    s.overlay_gaps = marker.OverlayGaps();
    s.last_denials = stats.RecentDenials();
    if (auto w = (*privileged)->controller().window()) {
      s.maintenance_session = w->session;
      s.maintenance_ends_unix = w->end;
      s.maintenance_learned = (*privileged)->controller().learned_count();
    }
    return json ? RenderStatusJson(s) : RenderStatusText(s);
  };

  // 10. Control socket.
  auto server = os::ControlServer::Listen(config->control_socket);
  if (!server.ok()) return Fail(options, "control socket", server.error());
  ControlHandlers handlers;
  handlers.status = status;
  handlers.reload = reload;
  (*privileged)->AddHandlers(handlers);
  quarantine::QuarantineEnv quarantine_env{
      config->audit_log, (*privileged)->authorizer().terminal_id(), {}};
  handlers.quarantine = [quarantine_env, &events = *sink](const QuarantineRequest& request) {
    return quarantine::HandleQuarantine(request, quarantine_env, events);
  };
  control = std::make_unique<ControlServerThread>(std::move(*server), std::move(handlers));
  teardown.Push("control socket closed", [&] { control.reset(); });

  // 11. Ready: the marks are in place.
  (void)os::SdNotify("READY=1\nSTATUS=enforcing with generation " +
                     std::to_string((*db)->generation()));
  sink->OnDaemonEvent({NowUnixNs(), DaemonEventKind::kStarted,
                       std::string("lockd ") + hashdb::kLockdVersion + " started, " +
                           std::to_string(marker.Marked().size()) + " filesystem(s) marked",
                       (*db)->generation()});
  LogInfo("ready");
  if (options.ready_fd >= 0) {
    const std::string message = "R" + config->control_socket;
    (void)!::write(options.ready_fd, message.data(), message.size());
    ::close(options.ready_fd);
  }

  // 12. The loop.
  // SIGHUP's reload opens the database, on a marked filesystem: never on the loop thread, which
  // alone answers that open (background_task.h).
  BackgroundTask sighup_reload([&] { (void)reload(); });
  EventLoopParts parts{*kernel,
                       *signals,
                       discovery->get(),
                       marker,
                       decider,
                       cache,
                       *sink,
                       stats,
                       [&] { sighup_reload.Request(); },
                       os::WatchdogPingInterval()};
  parts.databases = &databases;  // the policy that triages plain opens
  parts.scripts = &scripts;
  parts.kernel_cache = &kernel_cache;  // the opens of files whose execs the kernel answers
  parts.on_write = [&c = (*privileged)->controller()](const os::FanotifyEvent& event) {
    c.OnWrite(event);  // maintenance learning; returns at once when no window is open
  };
  EventLoop loop(std::move(parts));
  loop_for_teardown = &loop;
  // The loop takes over from the startup responder: what it held is handled first, in order.
  if (responder) {
    auto held = responder->Stop();
    const auto c = responder->counts();
    if (c.denied_late > 0 || c.dropped > 0) {
      LogWarning("startup: " + std::to_string(c.denied_late) + " access(es) denied after waiting " +
                 std::to_string(kStartupHoldLimit.count()) + " ms for the start, " +
                 std::to_string(c.dropped) + " notification(s) dropped");
    }
    loop.HandleEvents(std::move(held));
    responder.reset();
  }
  loop.SyncOtherNamespaces();
  const int sig = loop.Run();

  // Teardown, always in this order.
  (void)os::SdNotify("STOPPING=1");
  Report(*sink, LogLevel::kInfo, DaemonEventKind::kStopping,
         "stopping on signal " + std::to_string(sig),
         databases.Current() ? databases.Current()->generation() : 0);
  teardown.RunAll();  // control socket, marks and queued events, workers, maintenance thread
  LogInfo("stopped: " + std::to_string(stats.allowed.load()) + " allowed, " +
          std::to_string(stats.denied.load()) + " denied, " +
          std::to_string(stats.would_deny.load()) + " would-deny");
  return 0;
}

}  // namespace lockd
