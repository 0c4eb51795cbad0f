#include "lockd/daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <initializer_list>

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
#include "lockd/status_snapshot.h"
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

// A startup step that failed: the name lockd's log, systemd's status and the ready pipe give
// it ("database", "marks", ...), and why.
struct StepFailure {
  std::string step;
  hashdb::Error error;
  // The step reported its refusal as a daemon event (report.h), whose line is the journal's
  // one line for it: Fail writes no second.
  bool reported = false;
};
// What a startup step returns: nullopt when it is done.
using StepResult = std::optional<StepFailure>;

// Logs the failed step (unless its event did), tells systemd and the supervisor (ready pipe,
// daemon.h), returns 1.
int Fail(const DaemonOptions& options, const StepFailure& failure) {
  const std::string& step = failure.step;
  const hashdb::Error& error = failure.error;
  if (!failure.reported) LogError(step + ": " + error.message);
  (void)os::SdNotify("STATUS=startup failed: " + step);
  if (options.ready_fd >= 0) {
    const std::string message = "F" + step + ": " + error.message;
    (void)!::write(options.ready_fd, message.data(), std::min<std::size_t>(message.size(), 1024));
  }
  return 1;
}

// One decider's life, as the steps RunDaemon runs in order. Each member is what one step made,
// declared in the order of the steps, so that members are destroyed in reverse; before that,
// whatever a step left running is stopped by the undo it pushed on teardown_ (teardown.h): at
// the clean stop of Serve, or when the Decider goes out of scope after a failed step. Main
// thread only (the control socket's thread calls Reload and Status, which read only what is
// safe to read from any thread).
class Decider {
 public:
  explicit Decider(const DaemonOptions& options) : options_(options) {}
  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;

  // The startup steps, in the order RunDaemon runs them.
  StepResult BlockSignals();        // 1
  StepResult AnswerOwnAccesses();   // 2
  StepResult LoadConfiguration();   // 3
  StepResult OpenSinks();           // 4
  StepResult LoadDatabase();        // 5
  StepResult PrepareMarker();       // 6
  StepResult StartDeciders();       // 7
  StepResult MarkFilesystems();     // 8
  StepResult ServeControlSocket();  // 9
  // 10: READY=1, the started record, the ready byte to the supervisor.
  void AnnounceReady();
  // 11: the event loop until SIGTERM or SIGINT, then the clean stop (every teardown step, in
  // order). Returns the process exit status (0).
  int Serve();

 private:
  // Reload (SIGHUP and the control socket share it) and status: the control socket's handlers
  // (step 9).
  ControlReply Reload();
  std::string Status(bool json);
  // Records the decider_restart event when this decider replaces a dead one (step 4).
  void RecordRestart(const DeciderRestart& r);
  // Step 7's second half: the FUSE and network filesystems' own reader and workers.
  StepResult StartUntrustedReader();

  const DaemonOptions& options_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::optional<os::SignalFd> signals_;                // 1
  std::optional<os::LinuxEventKernel> kernel_;         // 2
  std::optional<StartupResponder> responder_;          // 2, until the loop takes over
  std::optional<Config> config_;                       // 3
  std::shared_ptr<FanOutDecisionSink> sink_;           // 4
  DecisionCache cache_;                                // 5
  std::optional<DatabaseManager> databases_;           // 5
  std::shared_ptr<const hashdb::Database> db_;         // 5: the database in force at start
  std::optional<WatchChoice> watch_;                   // 5
  std::optional<FilesystemMarker> marker_;             // 6
  Stats stats_;                                        // 7
  ModeSource modes_;                                   // 7
  std::unique_ptr<maintenance::Services> privileged_;  // 7
  ExecDeciderOptions decider_options_;                 // 7
  unsigned workers_ = 0;                               // 7
  std::optional<ScriptCoverage> scripts_;              // 7
  std::optional<KernelCache> kernel_cache_;            // 7
  std::optional<ExecDecider> decider_;                 // 7
  // What a step's undo refers to is declared before teardown_, so it outlives the undo.
  EventLoop* loop_ = nullptr;                     // 11
  std::unique_ptr<ControlServerThread> control_;  // 9
  // FUSE and network filesystems: their group's own reader and workers, and the guard that
  // aborts a FUSE connection holding them (untrusted_reader.h).
  std::optional<os::LinuxEventKernel> untrusted_kernel_;  // 7
  std::unique_ptr<ExecDecider> untrusted_decider_;        // 7
  os::LinuxFuseConnections fuse_connections_;             // 7
  std::unique_ptr<UntrustedReader> untrusted_reader_;     // 7
  TeardownSteps teardown_;
  std::unique_ptr<MountDiscovery> discovery_;  // 8
};

// 1. Signals: blocked before any thread exists, so every thread inherits the mask. No file is
// opened before step 2.
StepResult Decider::BlockSignals() {
  auto signals = os::SignalFd::Create({SIGTERM, SIGINT, SIGHUP});
  if (!signals.ok()) return StepFailure{"signals", signals.error()};
  signals_.emplace(std::move(*signals));
  ::signal(SIGPIPE, SIG_IGN);
  return std::nullopt;
}

// 2. Our own accesses answered from now on: a decider that replaces a dead one starts with
// every filesystem marked, and its config, database and logs live on them
// (startup_responder.h). Other events wait for the loop (at most 1 s, then denied).
StepResult Decider::AnswerOwnAccesses() {
  if (options_.group != nullptr) {
    kernel_.emplace(*options_.group);
    responder_.emplace(*kernel_, kStartupHoldLimit);
  }
  return std::nullopt;
}

// 3. Configuration.
StepResult Decider::LoadConfiguration() {
  auto config = LoadConfig(options_.config_path);
  if (!config.ok()) return StepFailure{"configuration", config.error()};
  config_.emplace(std::move(*config));
  SetLogLevel(config_->log_level);
  return std::nullopt;
}

// 4. Sinks: stderr (journald) and whatever the caller adds.
StepResult Decider::OpenSinks() {
  sink_ = std::make_shared<FanOutDecisionSink>();
  sink_->Add(std::make_shared<StderrDecisionSink>());
  if (options_.extra_sink) sink_->Add(options_.extra_sink);
  // The hash-chained audit log: records are queued and written by its own thread, never
  // before the kernel has its answer. Without it lockd does not run: an allowlist whose
  // denials leave no evidence is not what a bank deploys.
  audit::AuditLogOptions audit_options;
  audit_options.file.path = config_->audit_log;
  if (config_->syslog_facility != "none") {
    audit::SyslogOptions syslog;
    syslog.facility = *audit::ParseSyslogFacility(config_->syslog_facility);
    audit_options.syslog = syslog;
  }
  auto audit_sink = audit::AuditSink::Start(audit_options);
  if (!audit_sink.ok()) return StepFailure{"audit log " + config_->audit_log, audit_sink.error()};
  sink_->Add(*audit_sink);
  if (options_.restart) RecordRestart(*options_.restart);
  // One line on the terminal of a process whose exec was denied (lockd/tty_notice.h).
  sink_->Add(TtyNoticeSink::Start());
  return std::nullopt;
}

void Decider::RecordRestart(const DeciderRestart& r) {
  sink_->OnDaemonEvent(
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
  // The supervisor's aborts of FUSE connections that held the dead decider dying.
  for (const auto& a : r.fuse_aborts) {
    sink_->OnDaemonEvent({a.unix_ns,
                          a.error.empty() ? DaemonEventKind::kFuseAbort : DaemonEventKind::kError,
                          DescribeSupervisorFuseAbort(r.previous_pid, a),
                          0,
                          {{"mount_point", a.mount_point},
                           {"connection", a.connection},
                           {"waiting", std::to_string(a.waiting)},
                           {"held_ms", std::to_string(a.dying_ms)},
                           {"held", "the dead decider's exit (a thread in a request to it)"},
                           {"by", "supervisor"}}});
  }
}

// 5. The database: verified against the trust anchors and the anti-rollback floor; the kernel
// settings its policy asks for; where to enforce.
StepResult Decider::LoadDatabase() {
  databases_.emplace(config_->database, config_->trust_dir, StateStore(config_->state_dir));
  databases_->SetOnSwap([this](const hashdb::Database&) { cache_.Clear(); });
  auto db = databases_->Load();
  if (!db.ok()) {
    Report(*sink_, LogLevel::kError, DaemonEventKind::kDatabaseRefused, db.error().message, 0);
    return StepFailure{"database", db.error(), /*reported=*/true};
  }
  db_ = *db;
  // The record's message is the description alone (as before Report; exports copy it).
  Report(*sink_, LogLevel::kInfo, DaemonEventKind::kDatabaseLoaded, DescribeDatabase(*db_),
         db_->generation());
  // memfd execution cannot be seen by fanotify: shut it in the kernel (policy.memfd_noexec).
  ApplyMemfdPolicy(db_->policy(), *sink_, db_->generation());
  // No mounts by unprivileged users: user namespaces off (policy.restrict_user_namespaces),
  // the values found first recorded for uninstall; put back when the policy turns it off.
  ApplyUserNamespacePolicy(db_->policy().restrict_user_namespaces, StateStore(config_->state_dir),
                           *sink_, db_->generation());
  // Where to enforce: the signed policy's watch; lockd.toml may only widen it when enforcing
  // (watch_policy.h). Refused before any mark is placed.
  auto watch = ChooseWatch(db_->policy(), config_->watch, config_->source);
  if (!watch.ok()) {
    Report(*sink_, LogLevel::kError, DaemonEventKind::kError,
           "not starting: " + watch.error().message, db_->generation());
    return StepFailure{"watch", watch.error(), /*reported=*/true};
  }
  watch_.emplace(std::move(*watch));
  LogInfo("marking " + DescribeWatch(watch_->watch) + " (watch from " + watch_->source + ")");
  return std::nullopt;
}

// 6. The fanotify group (made by the supervisor, see daemon.h) and the marker that will place
// the marks in it.
StepResult Decider::PrepareMarker() {
  if (options_.group == nullptr) {
    return StepFailure{"fanotify", options_.group_error.value_or(hashdb::MakeError(
                                       hashdb::ErrorCode::kInvalidArgument, "no fanotify group"))};
  }
  // The mark mask follows the coverage policy of the database in force at start (a reload that
  // changes it is reported: marks are placed once). No mark is placed before step 8.
  const os::MarkMask mask = MarkMaskFor(db_->policy());
  // FUSE and network filesystems in a group of their own when the supervisor made one
  // (untrusted_reader.h).
  marker_.emplace(*options_.group, mask, watch_->watch, UntrustedMarkMask(),
                  options_.untrusted_group);
  // A superblock newly marked or gone: what the cache holds for its device number is stale.
  marker_->SetOnSuperblockChange([this](std::uint64_t dev) { cache_.ForgetDevice(dev); });
  return std::nullopt;
}

// 7. Decider and workers (before the marks: events flow as soon as a mark is placed).
StepResult Decider::StartDeciders() {
  // The maintenance window (resumed if still open, closed if it ended while lockd was down) and
  // the token-authorized acts. Its learning sink sees the decisions made in maintenance mode.
  auto privileged = maintenance::Services::Start(*config_, *databases_, modes_, *sink_, *kernel_);
  if (!privileged.ok()) return StepFailure{"maintenance state", privileged.error()};
  privileged_ = std::move(*privileged);
  sink_->Add(privileged_->learning_sink());
  workers_ = config_->EffectiveWorkers();
  decider_options_.small_workers = workers_;
  decider_options_.large_workers = std::max(1u, workers_ / 2);
  // Audit records name an event's file as the marker sees it (overlay layers, EventPath).
  decider_options_.coverage = &*marker_;
  decider_options_.attribute_maintenance = [&c = privileged_->controller()](int pid) {
    return c.AttributeNow(pid);
  };
  // Script coverage (interpreters by digest, scripts by command line): the decider hands it
  // the digest of every exec'd file it judged by content, so nothing is hashed twice. Made
  // before the decider: the decider's workers call it until Shutdown.
  scripts_.emplace(*kernel_, &*marker_);
  decider_options_.exec_digest = [&scripts = *scripts_](const FileFacts& facts,
                                                        const hashdb::Digest& digest) {
    scripts.NoteDigest(facts, digest);
  };
  // Allowlisted files on read-only superblocks are left to the kernel after their first allow
  // (kernel_cache.h): it follows the marker's view of each superblock after every pass over
  // the mount tables, and every database swap. Made before the decider, whose workers use it
  // until Shutdown.
  kernel_cache_.emplace(*kernel_, config_->kernel_cache);
  marker_->SetOnPublish([this] { kernel_cache_->UpdateSuperblocks(marker_->LocalSuperblocks()); });
  databases_->SetOnSwap([this](const hashdb::Database&) {
    cache_.Clear();
    kernel_cache_->OnDatabaseSwap();
  });
  decider_options_.kernel_cache = &*kernel_cache_;
  decider_options_.inline_hash_bytes = kInlineHashBytes;
  decider_.emplace(*kernel_, *databases_, modes_, cache_, *sink_, stats_, decider_options_);
  // From here on every step that starts something pushes what undoes it; a failed step returns
  // and the scope undoes the steps before it, last first (teardown.h). A clean stop runs them
  // at the end of step 11.
  teardown_.Push("maintenance thread stopped", [this] { privileged_->Stop(); });
  teardown_.Push("workers drained (every request submitted is answered)",
                 [this] { decider_->Shutdown(); });
  return StartUntrustedReader();
}

StepResult Decider::StartUntrustedReader() {
  if (options_.untrusted_group == nullptr) return std::nullopt;
  untrusted_kernel_.emplace(*options_.untrusted_group);
  ExecDeciderOptions untrusted_options = decider_options_;
  untrusted_options.small_workers = 2;
  untrusted_options.large_workers = 1;
  untrusted_options.kernel_cache = nullptr;  // never on FUSE or network filesystems
  untrusted_options.inline_hash_bytes = 0;   // a worker, never the reader thread
  untrusted_decider_ = std::make_unique<ExecDecider>(*untrusted_kernel_, *databases_, modes_,
                                                     cache_, *sink_, stats_, untrusted_options);
  untrusted_reader_ = std::make_unique<UntrustedReader>(
      *untrusted_kernel_, *untrusted_decider_, fuse_connections_,
      [&marker = *marker_] {
        std::vector<FuseMount> fuse;
        for (const auto& m : marker.Marked()) {
          if (m.untrusted && m.fs_type.rfind("fuse", 0) == 0) {
            fuse.push_back({m.dev, m.mount_point});
          }
        }
        return fuse;
      },
      *sink_, stats_);
  if (auto reading = untrusted_reader_->Start(); !reading.ok()) {
    return StepFailure{"reader of FUSE and network filesystems", reading.error()};
  }
  teardown_.Push("FUSE and network filesystems' events read and answered",
                 [this] { untrusted_reader_->Stop(); });
  return std::nullopt;
}

// 8. Marks. A watch path must exist and be canonical on disk: a missing one would resolve to
// whatever filesystem holds its nearest existing parent (often /), and one that passes
// through a symbolic link (which anyone who can write the disk offline can plant in place of
// a signed directory) names a different place from the one the marks are chosen by.
StepResult Decider::MarkFilesystems() {
  if (watch_->watch) {
    for (const auto& w : *watch_->watch) {
      char resolved[PATH_MAX];
      if (::realpath(w.c_str(), resolved) == nullptr) {
        return StepFailure{"marks", hashdb::ErrnoError(watch_->source + ": watch path " + w)};
      }
      if (w != resolved) {
        return StepFailure{"marks", hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                                                      watch_->source + ": watch path " + w +
                                                          " resolves to " + resolved +
                                                          ": watch paths must be canonical (no "
                                                          "symbolic link, '.' or '..')")};
      }
    }
  }
  auto discovery = MountDiscovery::Open(*marker_);
  if (!discovery.ok()) return StepFailure{"mount table", discovery.error()};
  discovery_ = std::move(*discovery);
  auto first = discovery_->SyncOwn();
  if (!first.ok()) return StepFailure{"mount table", first.error()};
  for (const auto& f : first->failures) LogError("cannot mark " + f);
  if (marker_->Marked().empty()) {
    return StepFailure{"marks", hashdb::MakeError(hashdb::ErrorCode::kNotFound,
                                                  "no filesystem could be marked; nothing would "
                                                  "be enforced")};
  }
  // Marks removed first, so no new event arrives; then every event already queued is answered
  // by the loop (once it exists: before that the startup responder holds them).
  teardown_.Push("marks removed, queued events answered", [this] {
    marker_->UnmarkAll();
    if (loop_ != nullptr) loop_->DrainFanotify();
  });
  for (const auto& m : marker_->Marked()) {
    LogInfo("watching " + m.mount_point + " (" + m.fs_type + ", " +
            (m.kind == os::MarkKind::kFilesystem ? "filesystem" : "mount") + " mark)");
  }
  return std::nullopt;
}

// Reload: the database again, then what its policy asks of the kernel; what needs a
// restart is said.
ControlReply Decider::Reload() {
  const ReloadOutcome outcome = databases_->Reload();
  const std::uint64_t generation = outcome.current ? outcome.current->generation() : 0;
  if (!outcome.loaded) {
    Report(*sink_, LogLevel::kError, DaemonEventKind::kDatabaseRefused, outcome.message,
           generation);
    return {ControlReply::Code::kRefused, outcome.message + "\n"};
  }
  const hashdb::Policy& policy = outcome.current->policy();
  if (!MarkMaskCovers(marker_->mask(), policy)) {
    LogError(
        "the new policy covers shared objects or scripts but the marks were placed "
        "without FAN_OPEN_PERM: restart lockd to apply it");
  }
  // Marks are placed once, at start: a new signed watch is applied by a restart, and one
  // that lockd.toml would narrow makes that restart refuse. Both are said now.
  auto new_watch = ChooseWatch(policy, config_->watch, config_->source);
  if (!new_watch.ok()) {
    Report(*sink_, LogLevel::kError, DaemonEventKind::kError,
           "reload: the new policy's watch: " + new_watch.error().message +
               ": lockd keeps the marks it placed at start and will refuse to restart",
           generation);
  } else if (new_watch->watch != watch_->watch) {
    LogError("the new policy enforces on " + DescribeWatch(new_watch->watch) +
             " but the marks were placed for " + DescribeWatch(watch_->watch) +
             ": restart lockd to apply it");
  }
  if (policy.memfd_noexec) ApplyMemfdPolicy(policy, *sink_, generation);
  ApplyUserNamespacePolicy(policy.restrict_user_namespaces, StateStore(config_->state_dir), *sink_,
                           generation);
  Report(*sink_, LogLevel::kInfo, DaemonEventKind::kDatabaseLoaded, outcome.message, generation);
  return {ControlReply::Code::kOk, outcome.message + "\n"};
}

// Status (status_snapshot.h gathers it, status_report.h renders it).
std::string Decider::Status(bool json) {
  const StatusSnapshot s = GatherStatus(
      {started_, *databases_, modes_, stats_, cache_, *options_.group, options_.restart, workers_,
       *watch_, *marker_, *discovery_, privileged_->controller(), &*kernel_cache_});
  return json ? RenderStatusJson(s) : RenderStatusText(s);
}

// 9. Control socket, with Reload, Status, the maintenance services' and quarantine's handlers.
StepResult Decider::ServeControlSocket() {
  auto server = os::ControlServer::Listen(config_->control_socket);
  if (!server.ok()) return StepFailure{"control socket", server.error()};
  ControlHandlers handlers;
  handlers.status = [this](bool json) { return Status(json); };
  handlers.reload = [this] { return Reload(); };
  privileged_->AddHandlers(handlers);
  quarantine::QuarantineEnv quarantine_env{
      config_->audit_log, privileged_->authorizer().terminal_id(), {}};
  handlers.quarantine = [quarantine_env, &events = *sink_](const QuarantineRequest& request) {
    return quarantine::HandleQuarantine(request, quarantine_env, events);
  };
  control_ = std::make_unique<ControlServerThread>(std::move(*server), std::move(handlers));
  teardown_.Push("control socket closed", [this] { control_.reset(); });
  return std::nullopt;
}

// 10. Ready: the marks are in place.
void Decider::AnnounceReady() {
  (void)os::SdNotify("READY=1\nSTATUS=enforcing with generation " +
                     std::to_string(db_->generation()));
  sink_->OnDaemonEvent({NowUnixNs(), DaemonEventKind::kStarted,
                        std::string("lockd ") + hashdb::kLockdVersion + " started, " +
                            std::to_string(marker_->Marked().size()) + " filesystem(s) marked",
                        db_->generation()});
  LogInfo("ready");
  if (options_.ready_fd >= 0) {
    const std::string message = "R" + config_->control_socket;
    (void)!::write(options_.ready_fd, message.data(), message.size());
    ::close(options_.ready_fd);
  }
}

// 11. The loop, then the teardown, always in the same order.
int Decider::Serve() {
  // SIGHUP's reload opens the database, on a marked filesystem: never on the loop thread, which
  // alone answers that open (background_task.h).
  BackgroundTask sighup_reload([this] { (void)Reload(); });
  EventLoopParts parts{*kernel_,
                       *signals_,
                       discovery_.get(),
                       *marker_,
                       *decider_,
                       cache_,
                       *sink_,
                       stats_,
                       [&sighup_reload] { sighup_reload.Request(); },
                       os::WatchdogPingInterval()};
  parts.databases = &*databases_;  // the policy that triages plain opens
  parts.scripts = &*scripts_;
  parts.kernel_cache = &*kernel_cache_;  // the opens of files whose execs the kernel answers
  parts.on_write = [&c = privileged_->controller()](const os::FanotifyEvent& event) {
    c.OnWrite(event);  // maintenance learning; returns at once when no window is open
  };
  EventLoop loop(std::move(parts));
  loop_ = &loop;
  // The loop takes over from the startup responder: what it held is handled first, in order.
  if (responder_) {
    auto held = responder_->Stop();
    const auto c = responder_->counts();
    if (c.denied_late > 0 || c.dropped > 0) {
      LogWarning("startup: " + std::to_string(c.denied_late) + " access(es) denied after waiting " +
                 std::to_string(kStartupHoldLimit.count()) + " ms for the start, " +
                 std::to_string(c.dropped) + " notification(s) dropped");
    }
    loop.HandleEvents(std::move(held));
    responder_.reset();
  }
  loop.SyncOtherNamespaces();
  const int sig = loop.Run();

  (void)os::SdNotify("STOPPING=1");
  Report(*sink_, LogLevel::kInfo, DaemonEventKind::kStopping,
         "stopping on signal " + std::to_string(sig),
         databases_->Current() ? databases_->Current()->generation() : 0);
  teardown_.RunAll();  // control socket, marks and queued events, workers, maintenance thread
  loop_ = nullptr;
  LogInfo("stopped: " + std::to_string(stats_.allowed.load()) + " allowed, " +
          std::to_string(stats_.denied.load()) + " denied, " +
          std::to_string(stats_.would_deny.load()) + " would-deny");
  return 0;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  Decider decider(options);
  // A failed step is logged and told (Fail) while everything before it still runs; then the
  // Decider's scope undoes the earlier steps, last first.
  for (StepResult (Decider::*step)() : std::initializer_list<StepResult (Decider::*)()>{
           &Decider::BlockSignals, &Decider::AnswerOwnAccesses, &Decider::LoadConfiguration,
           &Decider::OpenSinks, &Decider::LoadDatabase, &Decider::PrepareMarker,
           &Decider::StartDeciders, &Decider::MarkFilesystems, &Decider::ServeControlSocket}) {
    if (StepResult failed = (decider.*step)()) {
      return Fail(options, *failed);
    }
  }
  decider.AnnounceReady();
  return decider.Serve();
}

}  // namespace lockd
