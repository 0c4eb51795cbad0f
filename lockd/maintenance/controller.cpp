#include "lockd/maintenance/controller.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "audit/json_escape.h"
#include "hashdb/classify.h"
#include "hashdb/sha256.h"
#include "hashdb/trust_store.h"
#include "lockd/log.h"
#include "lockd/report.h"
#include "lockd/text_escape.h"

namespace lockd::maintenance {

namespace {

using audit::JsonString;

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(items[i]);
  }
  return out + "]";
}

std::string Rfc3339(std::int64_t seconds) {
  std::string t = FormatTimeUtc(seconds * 1000000000);
  // Whole seconds: drop the ".000000000".
  if (auto dot = t.find('.'); dot != std::string::npos) t = t.substr(0, dot) + "Z";
  return t;
}

}  // namespace

Controller::Controller(ControllerOptions options, ModeSource& modes, DecisionSink& sink,
                       DatabaseManager& databases, os::EventKernel& kernel)
    : options_(std::move(options)),
      modes_(modes),
      sink_(sink),
      databases_(databases),
      kernel_(kernel),
      store_(options_.state_dir) {
  if (options_.procs == nullptr) {
    own_procs_ = std::make_unique<os::ProcFs>();
    procs_ = own_procs_.get();
  } else {
    procs_ = options_.procs;
  }
  if (!options_.now) {
    options_.now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (options_.self == 0) options_.self = ::getpid();
}

Controller::~Controller() { Stop(); }

void Controller::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Controller::PolicyModeName() const {
  auto db = databases_.Current();
  return std::string(
      EffectiveModeName(db != nullptr ? PolicyMode(db->policy()) : EffectiveMode::kEnforce));
}

std::optional<Window> Controller::window() const {
  std::lock_guard lock(mu_);
  return window_;
}

void Controller::OpenLearned(bool truncate) {
  auto list = LearnedList::Open(store_.learned_path(), truncate);
  if (!list.ok()) {
    // The window still works (allow and record in the audit log); lockctl's full rescan does
    // not depend on the list.
    Report(sink_, LogLevel::kError, DaemonEventKind::kError,
           "maintenance: learned list: " + list.error().message, 0);
    list_.reset();
    learned_count_ = 0;
    not_learned_count_ = 0;
    return;
  }
  learned_count_ = list->learned();
  not_learned_count_ = list->not_learned();
  list_ = std::move(*list);
}

void Controller::RefuseResume(const std::string& session, const std::string& check,
                              const std::string& why, const Window* window) {
  const std::string msg = "maintenance window " + (session.empty() ? std::string("?") : session) +
                          " not resumed after a restart: " + check + ": " + why + "; " +
                          PolicyModeName() + " in force";
  Report(sink_, LogLevel::kError, DaemonEventKind::kAuthorizationRefused, msg, 0,
         {{"act", std::string(hashdb::ActName(hashdb::Act::kMaintenanceStart))},
          {"check", check},
          {"key_id", window != nullptr ? window->key_id : ""},
          {"token_id", window != nullptr ? window->token_id : ""},
          {"session", session},
          {"phase", "resume"}});
}

hashdb::Status Controller::Restore() {
  auto loaded = store_.Load();
  std::optional<Window> found;
  if (!loaded.ok()) {
    // Unreadable, or an older lockd's window without the authorization: nothing proves it.
    const bool old = loaded.error().code == hashdb::ErrorCode::kUnsupported;
    store_.SetAside(old ? ".refused" : ".bad");
    RefuseResume("", old ? "no authorization" : "unreadable", loaded.error().message, nullptr);
  } else {
    found = *loaded;
  }
  if (found) {
    auto trust = hashdb::TrustStore::LoadDirectory(options_.trust_dir);
    const ResumeVerdict verdict = trust.ok() ? CheckResumable(*found, options_.terminal_id, *trust)
                                             : ResumeVerdict{"trust store", trust.error().message};
    if (!verdict.ok()) {
      store_.SetAside(".refused");
      RefuseResume(found->session, verdict.check, verdict.message, &*found);
      found.reset();
    }
  }
  if (found) {
    const std::int64_t now = options_.now();
    const WindowState state = StateAt(*found, now);
    if (state == WindowState::kOpen) {
      {
        std::lock_guard lock(mu_);
        window_ = found;
        SetOrigin(window_);
        ++serial_;
        active_serial_ = serial_;
        OpenLearned(false);
      }
      modes_.SetMaintenance(true);
      const std::string msg = "maintenance session " + found->session +
                              " resumed after a restart (authorization of token " +
                              found->token_id + " verified again); ends " + Rfc3339(found->end);
      Report(sink_, LogLevel::kWarning, DaemonEventKind::kModeChange, msg, 0,
             {{"from", PolicyModeName()},
              {"to", "maintenance"},
              {"session", found->session},
              {"token_id", found->token_id},
              {"holder", found->holder}});
    } else {
      const std::string why =
          state == WindowState::kExpired
              ? "ended at " + Rfc3339(found->end) + " while lockd was not running"
              : "starts in the future (" + Rfc3339(found->start) + "): the clock was set back";
      auto removed = store_.Remove();
      if (!removed.ok()) return removed.error();
      const std::string msg =
          "maintenance session " + found->session + " " + why + "; back to " + PolicyModeName();
      Report(sink_, LogLevel::kWarning, DaemonEventKind::kMaintenanceExpired, msg, 0,
             {{"session", found->session}});
    }
  }
  if (options_.start_thread && !thread_.joinable()) {
    thread_ = std::thread([this] { Run(); });
  }
  return {};
}

ControlReply Controller::Start(const Authorized& who, const SessionOrigin& origin) {
  Window w;
  {
    std::lock_guard lock(mu_);
    if (window_) {
      return {ControlReply::Code::kRefused, "maintenance already open: session " +
                                                window_->session + ", ends " +
                                                Rfc3339(window_->end) + "\n"};
    }
    auto opened = WindowFor(who.authorization, options_.now());
    if (!opened.ok()) {
      return {ControlReply::Code::kRefused, "maintenance start: " + opened.error().message + "\n"};
    }
    w = std::move(*opened);
    w.origin = origin;
    // Persisted first, with the authorization: the mode changes only once the end is on disk.
    if (auto saved = store_.Save(w); !saved.ok()) {
      return {ControlReply::Code::kError,
              "maintenance not started: " + saved.error().message + "\n"};
    }
    window_ = w;
    SetOrigin(window_);
    ++serial_;
    active_serial_ = serial_;
    OpenLearned(true);
  }
  const std::int64_t minutes = (w.end - w.start) / 60;
  const std::string from = PolicyModeName();
  modes_.SetMaintenance(true);
  const std::string msg = "maintenance session " + w.session + " started by token " + w.token_id +
                          " (" + w.holder + ", " + w.organisation + ") for " +
                          std::to_string(minutes) + " minute(s), ends " + Rfc3339(w.end);
  Report(sink_, LogLevel::kWarning, DaemonEventKind::kMaintenanceStart, msg, 0,
         {{"session", w.session},
          {"token_id", w.token_id},
          {"holder", w.holder},
          {"organisation", w.organisation},
          {"key_id", w.key_id},
          {"minutes", std::to_string(minutes)},
          {"ends", Rfc3339(w.end)}});
  sink_.OnDaemonEvent(
      {NowUnixNs(),
       DaemonEventKind::kModeChange,
       "mode " + from + " -> maintenance (session " + w.session + ")",
       0,
       {{"from", from}, {"to", "maintenance"}, {"token_id", w.token_id}, {"holder", w.holder}}});
  return {ControlReply::Code::kOk, msg + "\n"};
}

bool Controller::Close(DaemonEventKind kind, const std::string& message,
                       std::vector<std::pair<std::string, std::string>> fields,
                       const Closer& closer, std::uint64_t generation) {
  Window w;
  {
    std::lock_guard lock(mu_);
    if (!window_) return false;
    w = *window_;
    if (auto removed = store_.Remove(); !removed.ok()) {
      // The mode still goes back now; after a restart the file would resume the window until
      // its recorded end at the latest.
      LogError("maintenance: " + removed.error().message);
    }
    window_.reset();
    SetOrigin(window_);
    list_.reset();
    ++serial_;
    active_serial_ = 0;
  }
  modes_.SetMaintenance(false);
  const std::string to = PolicyModeName();
  std::vector<std::pair<std::string, std::string>> all{{"session", w.session}};
  if (kind != DaemonEventKind::kMaintenanceExpired) {
    all.emplace_back("token_id", closer.token_id);
    all.emplace_back("holder", closer.holder);
  }
  for (auto& f : fields) all.push_back(std::move(f));
  Report(sink_, LogLevel::kWarning, kind, message, generation, std::move(all));
  std::vector<std::pair<std::string, std::string>> mode_fields{{"from", "maintenance"}, {"to", to}};
  if (kind != DaemonEventKind::kMaintenanceExpired) {
    mode_fields.emplace_back("token_id", closer.token_id);
    mode_fields.emplace_back("holder", closer.holder);
  }
  sink_.OnDaemonEvent({NowUnixNs(), DaemonEventKind::kModeChange,
                       "mode maintenance -> " + to + " (session " + w.session + ")", generation,
                       std::move(mode_fields)});
  return true;
}

void Controller::Tick() {
  std::optional<Window> w = window();
  if (!w) return;
  const WindowState state = StateAt(*w, options_.now());
  if (state == WindowState::kOpen) return;
  const std::string why = state == WindowState::kExpired
                              ? "ended at " + Rfc3339(w->end)
                              : "closed: the clock was set back before its start";
  Close(DaemonEventKind::kMaintenanceExpired,
        "maintenance session " + w->session + " " + why + "; back to " + PolicyModeName(), {}, {});
}

std::shared_ptr<const SessionOrigin> Controller::Origin() const { return origin_.load(); }

void Controller::SetOrigin(const std::optional<Window>& w) {
  origin_.store(w ? std::make_shared<const SessionOrigin>(w->origin)
                  : std::shared_ptr<const SessionOrigin>());
}

std::string Controller::AttributeNow(pid_t pid) const {
  auto origin = Origin();
  if (!origin) return "";
  return std::string(ByName(Attribute(pid, *origin, *procs_)));
}

void Controller::OnDecision(const DecisionRecord& record) {
  if (record.mode != EffectiveMode::kMaintenance || record.verdict != Verdict::kWouldDeny) return;
  const std::uint64_t serial = active_serial_.load();
  if (serial == 0 || record.path.empty()) return;
  auto origin = Origin();
  if (!origin) return;
  Item item;
  item.session_serial = serial;
  item.how = How::kExec;
  item.path = record.path;
  item.digest = record.digest;
  item.pid = record.pid;
  item.uid = record.uid;
  item.exe = record.exe;
  // Judged by the decider while the process was held (AttributeNow); else now, after the
  // answer, when it may be gone: then its parent decides (a child of a session process is in
  // the session).
  if (auto by = ByFromName(record.maintenance_by)) {
    item.by = *by;
  } else {
    item.by = Attribute(record.pid, *origin, *procs_);
    if (item.by == By::kUnknown && record.ppid > 1) {
      item.by = Attribute(record.ppid, *origin, *procs_);
    }
  }
  Enqueue(std::move(item));
}

void Controller::OnWrite(const os::FanotifyEvent& event) {
  const std::uint64_t serial = active_serial_.load(std::memory_order_relaxed);
  if (serial == 0) return;
  if (!event.is_close_write() || event.pid == options_.self || !event.fd.valid()) {
    return;
  }
  auto origin = Origin();
  if (!origin) return;
  Item item;
  item.session_serial = serial;
  item.how = How::kWrite;
  item.pid = event.pid;
  // No open(2) of a marked filesystem here: it would wait for this very thread. /proc only
  // (never marked): who the writer is must be read now, while it may still exist; first of
  // all whether it belongs to the maintenance session (session.h).
  item.by = Attribute(event.pid, *origin, *procs_);
  const os::ProcessFacts facts = kernel_.Process(event.pid);
  item.uid = facts.uid;
  item.exe = facts.exe;
  if (!options_.trusted_updaters.empty() && !item.exe.empty() &&
      std::find(options_.trusted_updaters.begin(), options_.trusted_updaters.end(), item.exe) !=
          options_.trusted_updaters.end()) {
    // stat, not open: an open here could wait on a permission event only this thread answers.
    if (auto running = kernel_.ExecutableFacts(event.pid)) {
      item.updater = item.exe;
      item.updater_facts = *running;
    }
  }
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= kMaxQueued) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (queued_fds_ < kMaxQueuedFds) {
      item.fd.Reset(::fcntl(event.fd.get(), F_DUPFD_CLOEXEC, 0));
      if (item.fd.valid()) ++queued_fds_;
    }
    if (!item.fd.valid()) item.path = kernel_.FdPath(event.fd.get());
    queue_.push_back(std::move(item));
  }
  queue_cv_.notify_one();
}

void Controller::Enqueue(Item item) {
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= kMaxQueued) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(item));
  }
  queue_cv_.notify_one();
}

bool Controller::IsUpdater(const std::string& exe_path, const FileFacts& running) {
  // Opened here, off the event loop: the configured path, which must still be the file version
  // the writer was running (same inode, size and times), else it is not trusted.
  hashdb::UniqueFd fd(::open(exe_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return false;
  const FileFacts facts = FileFacts::FromStat(st);
  if (!facts.regular() || !facts.SameVersion(running)) return false;
  auto digest = hashdb::Sha256File(fd.get(), facts.size);
  if (!digest.ok()) return false;
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0 || !FileFacts::FromStat(after).SameVersion(running))
    return false;
  auto db = databases_.Current();
  return db != nullptr && db->Lookup(*digest).has_value();
}

void Controller::Learn(Item& item) {
  std::string kind;
  if (item.fd.valid()) {
    item.path = kernel_.FdPath(item.fd.get());
    auto facts = kernel_.Stat(item.fd.get());
    if (!facts.ok() || !facts->regular()) return;
    auto cls = hashdb::ClassifyFd(item.fd.get(), static_cast<std::uint64_t>(facts->size),
                                  facts->mode, item.path);
    if (cls.ok() && cls->has_value()) {
      kind = std::string(hashdb::KindName(**cls));
      auto digest = hashdb::Sha256File(item.fd.get(), facts->size);
      if (digest.ok()) item.digest = *digest;
    }
  }
  if (item.path.empty() || item.path[0] != '/') return;
  if (item.how == How::kWrite && item.updater_facts &&
      IsUpdater(item.updater, *item.updater_facts)) {
    item.how = How::kUpdater;
    item.by = By::kUpdater;
  }
  std::string session;
  {
    std::lock_guard lock(mu_);
    if (item.session_serial != serial_ || !window_ || !list_) return;  // another session now
    session = window_->session;
    auto added =
        list_->Add({item.digest, item.how, item.by, item.pid, item.uid, item.exe, item.path});
    if (!added.ok()) {
      LogError("maintenance: " + added.error().message);
      return;
    }
    if (!*added) return;
    learned_count_ = list_->learned();
    not_learned_count_ = list_->not_learned();
  }
  const bool learned = IsLearned(item.by);
  std::vector<std::pair<std::string, std::string>> fields{
      {"session", session},
      {"how", std::string(HowName(item.how))},
      {"by", std::string(ByName(item.by))},
      {"pid", std::to_string(item.pid)},
      {"uid", item.uid < 0 ? std::string("-") : std::to_string(item.uid)},
      {"exe", item.exe},
      {"path", item.path}};
  if (item.digest) fields.emplace_back("sha256", hashdb::ToHex(*item.digest));
  if (!kind.empty()) fields.emplace_back("kind", kind);
  const std::string who = std::string(ByName(item.by)) + " pid " + std::to_string(item.pid);
  sink_.OnDaemonEvent(
      {NowUnixNs(),
       learned ? DaemonEventKind::kMaintenanceLearned : DaemonEventKind::kMaintenanceNotLearned,
       (learned ? "learned (" : "not learned (") + std::string(HowName(item.how)) + " by " + who +
           ") " + item.path,
       0, std::move(fields)});
}

void Controller::Process() {
  for (;;) {
    Item item;
    {
      std::lock_guard lock(queue_mu_);
      if (queue_.empty()) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      if (item.fd.valid()) --queued_fds_;
    }
    Learn(item);
  }
}

void Controller::Run() {
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait_for(lock, std::chrono::milliseconds(500),
                         [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
    }
    Process();
    Tick();
  }
}

std::string Controller::Status(bool json, const StatusExtras& extras) const {
  std::optional<Window> w = window();
  auto db = databases_.Current();
  const std::uint64_t generation = db != nullptr ? db->generation() : 0;
  if (json) {
    std::string out = "{\"state\":";
    out += w ? "\"active\"" : "\"inactive\"";
    if (w) {
      out += ",\"session\":" + JsonString(w->session);
      out += ",\"token\":{\"token_id\":" + JsonString(w->token_id) +
             ",\"holder\":" + JsonString(w->holder) +
             ",\"organisation\":" + JsonString(w->organisation) +
             ",\"key_id\":" + JsonString(w->key_id) + "}";
      out +=
          ",\"start\":" + JsonString(Rfc3339(w->start)) + ",\"end\":" + JsonString(Rfc3339(w->end));
      out +=
          ",\"start_unix\":" + std::to_string(w->start) + ",\"end_unix\":" + std::to_string(w->end);
    }
    if (w) {
      out += ",\"session_origin\":{\"requester\":" + std::to_string(w->origin.requester) +
             ",\"origin\":" + std::to_string(w->origin.origin) + ",\"login_session\":" +
             (w->origin.login_session ? std::to_string(*w->origin.login_session) : "null") + "}";
    }
    out += ",\"learned_list\":" + JsonString(learned_path());
    out += ",\"learned_count\":" + std::to_string(learned_count());
    out += ",\"not_learned_count\":" + std::to_string(not_learned_count());
    out += ",\"learned_dropped\":" + std::to_string(dropped());
    out += ",\"baseline_roots\":" + JsonList(extras.baseline_roots);
    out += ",\"baseline_excludes\":" + JsonList(extras.baseline_excludes);
    out += ",\"trusted_updaters\":" + JsonList(options_.trusted_updaters);
    out += ",\"database\":{\"path\":" + JsonString(extras.database_path) +
           ",\"generation\":" + std::to_string(generation) + "}";
    return out + "}\n";
  }
  if (!w) {
    return "maintenance: inactive (mode " + PolicyModeName() + ", database generation " +
           std::to_string(generation) + ")\n";
  }
  std::string out = "maintenance: active\n";
  out += "session:      " + w->session + "\n";
  out += "token:        " + EscapeLogValue(w->token_id) + " (" + EscapeLogValue(w->holder) + ", " +
         EscapeLogValue(w->organisation) + ")\n";
  out += "started:      " + Rfc3339(w->start) + "\n";
  out += "ends:         " + Rfc3339(w->end) + "\n";
  out += "opened from:  pid " + std::to_string(w->origin.requester) + "; its session: pid " +
         std::to_string(w->origin.origin) + " and descendants" +
         (w->origin.login_session ? ", login session " + std::to_string(*w->origin.login_session)
                                  : std::string()) +
         "\n";
  out +=
      "learned:      " + std::to_string(learned_count()) + " file(s) in " + learned_path() + "\n";
  if (not_learned_count() > 0) {
    out += "not learned:  " + std::to_string(not_learned_count()) +
           " file(s) written or run by processes outside the session\n";
  }
  if (dropped() > 0) out += "not seen:     " + std::to_string(dropped()) + " (queue full)\n";
  out +=
      "database:     " + extras.database_path + " generation " + std::to_string(generation) + "\n";
  return out;
}

}  // namespace lockd::maintenance
