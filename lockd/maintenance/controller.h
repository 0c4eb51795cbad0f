#pragma once
// The maintenance window of a running lockd: opening and closing it (with the audit records),
// its end by itself, and learning what is executed and written while it is open.
//
// Rules:
//  - Opened only by Start, after the caller verified a token's authorization. The window is
//    persisted (WindowStore) before the mode changes, so a crash can never leave lockd in
//    maintenance without the record of when it ends.
//  - At start of the daemon, Restore resumes a window still open (until its recorded end) only
//    when the token's authorization kept with it proves it (window.h, CheckResumable, against
//    the trust anchors read at that moment); a window that fails any check is not resumed
//    (authz_refused naming the check, the file set aside as window.refused). It closes one
//    that has ended (maintenance_expired), or whose file is unreadable or whose start is in
//    the future (the clock was set back): fail closed.
//  - The window's own thread checks the end at least once a second, and writes the learned
//    list; the event loop and the workers only hand it work (never block on it).
//  - Seen: execs and loads of files not in the database (would-deny decisions in maintenance
//    mode: path and digest), and files closed after writing on marked filesystems (path;
//    digest when hashdb/classify.h calls the file code, hashed on this thread). Each with who
//    did it (session.h), judged when lockd sees it: the maintenance session's processes
//    ("session"), a trusted updater ("updater": a process whose executable is a configured
//    trusted updater and whose digest is in the database in force), anything else ("other",
//    or "unknown" when the process was gone). Only session and updater lines are learned
//    (maintenance_learned); the others are listed as not learned (maintenance_not_learned),
//    so that lockctl maintenance finish shows them and takes none of them.
//    Bounded: at most kMaxQueued items wait (kMaxQueuedFds with an open fd); beyond that a
//    written file is queued by path only, and beyond kMaxQueued items are dropped and counted
//    (lockctl's full rescan still finds them).

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/control/authorizer.h"
#include "lockd/control/server.h"
#include "lockd/database_manager.h"
#include "lockd/decision_sink.h"
#include "lockd/file_facts.h"
#include "lockd/maintenance/learned_list.h"
#include "lockd/maintenance/session.h"
#include "lockd/maintenance/window.h"
#include "lockd/mode.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/process_tree.h"

namespace lockd::maintenance {

inline constexpr std::size_t kMaxQueued = 4096;
inline constexpr std::size_t kMaxQueuedFds = 128;

struct ControllerOptions {
  std::string state_dir;
  std::string trust_dir;    // the anchors a resumed window's authorization is checked against
  std::string terminal_id;  // this terminal's id (hashdb/terminal_id.h)
  std::vector<std::string> trusted_updaters;  // absolute paths of updater executables
  std::function<std::int64_t()> now;          // wall clock, seconds since the epoch
  pid_t self = 0;                             // lockd's pid: its own writes are not learned
  bool start_thread = true;                   // false in tests: call Tick() and Process()
  // Where processes are read from (tests inject a fake); nullptr: /proc. Not owned.
  const os::ProcessSource* procs = nullptr;
};

// Who authorized a closing act (empty for the window's own end).
struct Closer {
  std::string token_id;
  std::string holder;
};

class Controller {
 public:
  // `kernel` is what the controller asks about a written file and its writer: the file's path
  // and metadata, the writer's uid and executable, and the identity of the file that
  // executable is (os/event_kernel.h: the daemon's LinuxEventKernel, a fake in tests). Asked
  // from the event loop (OnWrite: stat and /proc only, never an open of a marked file) and from
  // the maintenance thread (Learn). Every reference must outlive the controller.
  Controller(ControllerOptions options, ModeSource& modes, DecisionSink& sink,
             DatabaseManager& databases, os::EventKernel& kernel);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Reads the persisted window once at startup (see the rules above) and starts the thread.
  // Errors are only I/O errors that leave no safe state (never for a window that is closed).
  hashdb::Status Restore();
  // Stops the thread; learning stops. The window stays persisted.
  void Stop();

  // Opens the window a verified maintenance_start authorization grants (its minutes, from
  // now; window.h WindowFor) for the session of origin (session.h OriginOf): persists it with
  // the authorization, truncates the learned list, switches the mode, writes maintenance_start
  // and mode_change. Refused when a window is open already.
  ControlReply Start(const Authorized& who, const SessionOrigin& origin);

  // Closes the open window: removes the file, switches back to the policy mode, then writes
  // the record kind (kMaintenanceFinish, kMaintenanceAbort, kMaintenanceExpired) with
  // message and fields (session, token_id and holder are added here; generation, when not 0,
  // is the record's generation) and mode_change. Returns false when no window was open.
  bool Close(DaemonEventKind kind, const std::string& message,
             std::vector<std::pair<std::string, std::string>> fields, const Closer& closer,
             std::uint64_t generation = 0);

  // Closes the window if it has ended (called every second by the thread).
  void Tick();

  bool active() const { return modes_.maintenance(); }
  std::optional<Window> window() const;
  std::uint64_t learned_count() const { return learned_count_.load(); }
  std::uint64_t not_learned_count() const { return not_learned_count_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  std::string learned_path() const { return store_.learned_path(); }
  pid_t self() const { return options_.self; }

  // Whose process pid is (session.h ByName) for the open window, "" when none is open. For the
  // decider, before it answers a maintenance-mode decision (the process is held, so /proc
  // still shows it). Reads /proc only.
  std::string AttributeNow(pid_t pid) const;
  // From the decider's workers (via LearningSink): a decision in maintenance mode.
  void OnDecision(const DecisionRecord& record);
  // From the event loop: a write notification. Returns at once.
  void OnWrite(const os::FanotifyEvent& event);
  // Handles whatever is queued (the thread does this; tests call it).
  void Process();

  // "maintenance-status" (text or JSON), with the extra keys lockctl needs.
  struct StatusExtras {
    std::vector<std::string> baseline_roots;
    std::vector<std::string> baseline_excludes;
    std::string database_path;
  };
  std::string Status(bool json, const StatusExtras& extras) const;

 private:
  struct Item {
    std::uint64_t session_serial = 0;
    How how = How::kExec;
    std::string path;
    std::optional<hashdb::Digest> digest;
    hashdb::UniqueFd fd;   // the written file (write items)
    pid_t pid = 0;         // the writer, or the process that ran the file
    By by = By::kUnknown;  // judged when lockd saw it (OnWrite / OnDecision)
    long uid = -1;
    std::string exe;
    std::string updater;  // the writer's executable, when it is a trusted updater
    // The identity of the writer's /proc/<pid>/exe (EventKernel::ExecutableFacts), taken on the
    // loop thread (the writer may have exited by the time the maintenance thread looks): the
    // updater file hashed later must be this very file version.
    std::optional<FileFacts> updater_facts;
  };
  void Run();
  void Enqueue(Item item);
  void Learn(Item& item);
  bool IsUpdater(const std::string& exe_path, const FileFacts& running);
  std::string PolicyModeName() const;
  void OpenLearned(bool truncate);
  // The session of the open window (nullptr when closed), for the loop and the workers: never
  // behind mu_, which the maintenance thread holds across file writes.
  std::shared_ptr<const SessionOrigin> Origin() const;
  void SetOrigin(const std::optional<Window>& window);  // mu_ held
  // Records (authz_refused, phase "resume") and logs why a recorded window is not resumed.
  void RefuseResume(const std::string& session, const std::string& check, const std::string& why,
                    const Window* window);

  ControllerOptions options_;
  ModeSource& modes_;
  DecisionSink& sink_;
  DatabaseManager& databases_;
  os::EventKernel& kernel_;
  WindowStore store_;

  mutable std::mutex mu_;  // window_, list_, serial_
  std::optional<Window> window_;
  std::optional<LearnedList> list_;
  std::uint64_t serial_ = 0;  // incremented at every open and close
  std::atomic<std::uint64_t> learned_count_{0};
  std::atomic<std::uint64_t> not_learned_count_{0};
  std::atomic<std::shared_ptr<const SessionOrigin>> origin_;
  std::unique_ptr<os::ProcessSource> own_procs_;
  const os::ProcessSource* procs_ = nullptr;
  std::atomic<std::uint64_t> dropped_{0};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Item> queue_;
  std::size_t queued_fds_ = 0;
  std::atomic<std::uint64_t> active_serial_{0};  // serial_ while open, 0 when closed
  bool stop_ = false;
  std::thread thread_;
};

// A DecisionSink that hands maintenance-mode decisions to the controller.
class LearningSink : public DecisionSink {
 public:
  explicit LearningSink(Controller& controller) : controller_(controller) {}
  void OnDecision(const DecisionRecord& record) override { controller_.OnDecision(record); }
  void OnDaemonEvent(const DaemonEvent&) override {}

 private:
  Controller& controller_;
};

}  // namespace lockd::maintenance
