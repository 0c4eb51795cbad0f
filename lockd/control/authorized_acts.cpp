#include "lockd/control/authorized_acts.h"

#include <unistd.h>

#include <chrono>

#include "hashdb/digest.h"
#include "hashdb/keys.h"
#include "hashdb/small_file.h"
#include "hashdb/terminal_id.h"
#include "lockd/log.h"
#include "lockd/maintenance/db_install.h"
#include "lockd/maintenance/session.h"
#include "lockd/maintenance/trust_anchors.h"
#include "lockd/os/process_tree.h"
#include "lockd/report.h"

namespace lockd::maintenance {

namespace {

ControlReply Refused(const std::string& message) {
  return {ControlReply::Code::kRefused, message + "\n"};
}

std::int64_t WallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

hashdb::Result<std::unique_ptr<Services>> Services::Start(
    const Config& config, DatabaseManager& databases, ModeSource& modes, DecisionSink& sink,
    os::EventKernel& kernel, std::function<std::int64_t()> now, bool start_thread) {
  if (!now) now = WallSeconds;
  auto terminal_id = hashdb::LoadOrCreateTerminalId(config.state_dir + "/terminal-id");
  if (!terminal_id.ok()) return terminal_id.error().Wrap("terminal id");
  std::unique_ptr<Services> s(new Services(config, databases, sink));
  s->authorizer_ = std::make_unique<Authorizer>(*terminal_id, config.trust_dir, sink, now);
  ControllerOptions options;
  options.state_dir = config.state_dir;
  options.trust_dir = config.trust_dir;
  options.terminal_id = *terminal_id;
  options.trusted_updaters = config.trusted_updaters;
  options.now = now;
  options.self = ::getpid();
  options.start_thread = start_thread;
  s->controller_ = std::make_unique<Controller>(options, modes, sink, databases, kernel);
  s->learning_sink_ = std::make_shared<LearningSink>(*s->controller_);
  HASHDB_TRY(s->controller_->Restore());
  return s;
}

void Services::AddHandlers(ControlHandlers& handlers) {
  handlers.challenge = [this](hashdb::Act act, const std::string& argument) {
    return authorizer_->Challenge(act, argument);
  };
  handlers.maintenance_status = [this](bool json) { return MaintenanceStatus(json); };
  handlers.act = [this](const ActRequest& request) { return HandleAct(request); };
}

std::string Services::MaintenanceStatus(bool json) const {
  Controller::StatusExtras extras;
  extras.baseline_roots = config_.baseline_roots;
  extras.baseline_excludes = config_.baseline_excludes;
  extras.database_path = config_.database;
  return controller_->Status(json, extras);
}

ControlReply Services::HandleAct(const ActRequest& request) {
  switch (request.act) {
    case hashdb::Act::kMaintenanceStart:
      return MaintenanceStart(request);
    case hashdb::Act::kMaintenanceAbort:
      return MaintenanceAbort(request);
    case hashdb::Act::kMaintenanceFinish:
    case hashdb::Act::kDbInstall:
      return Install(request);
    case hashdb::Act::kTrustAdd:
      return TrustAdd(request);
    case hashdb::Act::kTrustRetire:
      return TrustRetire(request);
    case hashdb::Act::kLeaveEnforce:
      break;
  }
  return {ControlReply::Code::kError, "no such act on the control socket\n"};
}

ControlReply Services::MaintenanceStart(const ActRequest& request) {
  if (auto w = controller_->window()) {
    return Refused("maintenance already open: session " + w->session);
  }
  // Whose processes will be the maintenance session: the requester's, read now while it waits
  // for this answer.
  const os::ProcFs procs;
  auto origin = OriginOf(request.peer_pid, controller_->self(), procs);
  if (!origin.ok()) return Refused("maintenance start: " + origin.error().message);
  ControlReply refusal;
  auto who = authorizer_->Verify(request.act, std::nullopt, request.authorization, &refusal);
  if (!who) return refusal;
  return controller_->Start(*who, *origin);
}

ControlReply Services::MaintenanceAbort(const ActRequest& request) {
  auto w = controller_->window();
  if (!w) return Refused("not in maintenance");
  ControlReply refusal;
  auto who = authorizer_->Verify(request.act, std::string(), request.authorization, &refusal);
  if (!who) return refusal;
  const auto& token = who->authorization.token;
  const std::string msg = "maintenance session " + w->session + " aborted by token " +
                          token.token_id + " (" + token.holder + "); database unchanged";
  if (!controller_->Close(DaemonEventKind::kMaintenanceAbort, msg, {},
                          {token.token_id, token.holder})) {
    return Refused("not in maintenance");
  }
  return {ControlReply::Code::kOk, msg + "\n"};
}

ControlReply Services::Install(const ActRequest& request) {
  const bool finish = request.act == hashdb::Act::kMaintenanceFinish;
  const std::string what = finish ? "maintenance finish" : "db install";
  auto w = controller_->window();
  if (finish && !w) return Refused("not in maintenance");
  if (!finish && w) {
    return Refused("in maintenance (session " + w->session +
                   "): a database is installed by maintenance finish, or after abort");
  }
  auto file = ReadDatabaseFile(request.operand);
  if (!file.ok()) return Refused(what + ": " + file.error().message);
  ControlReply refusal;
  auto who = authorizer_->Verify(request.act, file->sha256_hex, request.authorization, &refusal);
  if (!who) return refusal;
  const auto& token = who->authorization.token;
  auto before = databases_.Current();
  const std::string mode_before = std::string(
      EffectiveModeName(before ? PolicyMode(before->policy()) : EffectiveMode::kEnforce));
  auto outcome = InstallDatabase(*file, databases_);
  if (!outcome.ok()) {
    const std::string msg = what + " refused: " + outcome.error().message +
                            "; keeping generation " +
                            std::to_string(before ? before->generation() : 0);
    Report(sink_, LogLevel::kError, DaemonEventKind::kDatabaseRefused, msg,
           before ? before->generation() : 0);
    return Refused(msg);
  }
  const std::string loaded = "loaded " + outcome->description + " (installed by token " +
                             token.token_id + ", " + token.holder + ")";
  Report(sink_, LogLevel::kInfo, DaemonEventKind::kDatabaseLoaded, loaded, outcome->generation);
  const std::string counts = std::to_string(outcome->added) + " added, " +
                             std::to_string(outcome->removed) + " removed, " +
                             std::to_string(outcome->changed) + " changed";
  if (finish) {
    const std::string msg = "maintenance session " + w->session + " finished by token " +
                            token.token_id + " (" + token.holder + "): generation " +
                            std::to_string(outcome->previous_generation) + " -> " +
                            std::to_string(outcome->generation) + ", " + counts;
    controller_->Close(DaemonEventKind::kMaintenanceFinish, msg,
                       {{"previous_generation", std::to_string(outcome->previous_generation)},
                        {"db_sha256", file->sha256_hex},
                        {"added", std::to_string(outcome->added)},
                        {"removed", std::to_string(outcome->removed)},
                        {"changed", std::to_string(outcome->changed)}},
                       {token.token_id, token.holder}, outcome->generation);
    return {ControlReply::Code::kOk, msg + "\n"};
  }
  auto after = databases_.Current();
  const std::string mode_after =
      std::string(EffectiveModeName(after ? PolicyMode(after->policy()) : EffectiveMode::kEnforce));
  if (mode_after != mode_before) {
    sink_.OnDaemonEvent({NowUnixNs(),
                         DaemonEventKind::kModeChange,
                         "mode " + mode_before + " -> " + mode_after + " (policy of generation " +
                             std::to_string(outcome->generation) + ")",
                         outcome->generation,
                         {{"from", mode_before},
                          {"to", mode_after},
                          {"token_id", token.token_id},
                          {"holder", token.holder}}});
  }
  return {ControlReply::Code::kOk, "installed generation " + std::to_string(outcome->generation) +
                                       " (was " + std::to_string(outcome->previous_generation) +
                                       "), " + counts + "\n"};
}

ControlReply Services::TrustAdd(const ActRequest& request) {
  auto pem = hashdb::ReadSmallFile(request.operand, 64 * 1024);
  if (!pem.ok()) return Refused("trust add: " + pem.error().message);
  auto key = hashdb::PublicKey::FromPem(*pem, request.operand);
  if (!key.ok()) return Refused("trust add: " + key.error().message);
  const std::string id = hashdb::ToHex(key->id());
  ControlReply refusal;
  auto who = authorizer_->Verify(request.act, id, request.authorization, &refusal);
  if (!who) return refusal;
  const auto& token = who->authorization.token;
  auto added = AddAnchor(config_.trust_dir, request.operand, id);
  if (!added.ok()) return Refused("trust add: " + added.error().message);
  const std::string msg = "trust anchor " + id + " added as " + *added + " by token " +
                          token.token_id + " (" + token.holder + ")";
  Report(
      sink_, LogLevel::kWarning, DaemonEventKind::kTrustChange, msg, 0,
      {{"action", "add"}, {"key_id", id}, {"token_id", token.token_id}, {"holder", token.holder}});
  return {ControlReply::Code::kOk, msg + "\n"};
}

ControlReply Services::TrustRetire(const ActRequest& request) {
  ControlReply refusal;
  auto who = authorizer_->Verify(request.act, request.operand, request.authorization, &refusal);
  if (!who) return refusal;
  const auto& token = who->authorization.token;
  auto current = databases_.Current();
  const std::string signer = current ? hashdb::ToHex(current->signer_key_id()) : std::string();
  auto removed = RetireAnchor(config_.trust_dir, request.operand, signer);
  if (!removed.ok()) return Refused("trust retire: " + removed.error().message);
  const std::string msg = "trust anchor " + request.operand + " retired (" + *removed +
                          ") by token " + token.token_id + " (" + token.holder + ")";
  Report(sink_, LogLevel::kWarning, DaemonEventKind::kTrustChange, msg, 0,
         {{"action", "retire"},
          {"key_id", request.operand},
          {"token_id", token.token_id},
          {"holder", token.holder}});
  return {ControlReply::Code::kOk, msg + "\n"};
}

}  // namespace lockd::maintenance
