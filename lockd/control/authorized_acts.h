#pragma once
// The token-authorized acts of a running lockd, wired together: the Authorizer (challenges,
// nonces, verification), the maintenance Controller (window, learning), database install and
// trust changes. The daemon creates one Services after the database is loaded and hands its
// handlers to the control socket, its LearningSink to the decision sink and its write hook to
// the event loop.
//
// Order inside every act: cheap state checks first (so a request that cannot succeed does not
// use up the token's authorization), then the authorization (which consumes its nonce), then
// the act; every refusal is "refused" with the reason, and the old state stays.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hashdb/result.h"
#include "lockd/config.h"
#include "lockd/control/authorizer.h"
#include "lockd/control/server.h"
#include "lockd/database_manager.h"
#include "lockd/decision_sink.h"
#include "lockd/maintenance/controller.h"
#include "lockd/mode.h"

namespace lockd::maintenance {

class Services {
 public:
  // Reads (or creates) the terminal id at <state_dir>/terminal-id, restores the maintenance
  // window (controller.h) and starts its thread. kernel: what the controller asks about written
  // files and their writers (controller.h); must outlive the Services. now: wall clock seconds
  // (tests inject one).
  static hashdb::Result<std::unique_ptr<Services>> Start(
      const Config& config, DatabaseManager& databases, ModeSource& modes, DecisionSink& sink,
      os::EventKernel& kernel, std::function<std::int64_t()> now = {}, bool start_thread = true);

  // Fills challenge, maintenance_status and act.
  void AddHandlers(ControlHandlers& handlers);
  ControlReply HandleAct(const ActRequest& request);
  std::string MaintenanceStatus(bool json) const;

  std::shared_ptr<DecisionSink> learning_sink() const { return learning_sink_; }
  Controller& controller() { return *controller_; }
  Authorizer& authorizer() { return *authorizer_; }
  // Stops the maintenance thread (teardown, after the decider stopped).
  void Stop() { controller_->Stop(); }

 private:
  Services(const Config& config, DatabaseManager& databases, DecisionSink& sink)
      : config_(config), databases_(databases), sink_(sink) {}
  ControlReply MaintenanceStart(const ActRequest& request);
  ControlReply MaintenanceAbort(const ActRequest& request);
  ControlReply Install(const ActRequest& request);  // finish and db-install
  ControlReply TrustAdd(const ActRequest& request);
  ControlReply TrustRetire(const ActRequest& request);

  const Config config_;
  DatabaseManager& databases_;
  DecisionSink& sink_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<Controller> controller_;
  std::shared_ptr<DecisionSink> learning_sink_;
};

}  // namespace lockd::maintenance
