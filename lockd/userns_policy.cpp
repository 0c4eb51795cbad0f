#include "lockd/userns_policy.h"

#include <algorithm>

#include "lockd/log.h"
#include "lockd/report.h"

namespace lockd {

namespace {
constexpr std::string_view kNames[] = {os::kMaxUserNamespacesName,
                                       os::kUnprivilegedUsernsCloneName};
}  // namespace

UserNamespacePlan PlanUserNamespaces(bool restrict,
                                     const std::map<std::string, std::optional<long>>& current,
                                     const std::map<std::string, long>& saved) {
  UserNamespacePlan plan;
  if (!restrict) {
    // Put back what lockd changed; the record then goes.
    for (const auto& [name, value] : saved) {
      auto it = current.find(name);
      if (it != current.end() && it->second && *it->second != value) {
        plan.writes.emplace_back(name, value);
      }
    }
    return plan;
  }
  plan.record = saved;  // the values from before lockd's first change stay
  // Debian's switch where the kernel has it: it refuses user namespaces to unprivileged users
  // only, and root's own uses (containers, systemd's PrivateUsers=) keep working. Elsewhere the
  // count limit, which refuses them to everyone.
  auto value = [&](std::string_view name) -> std::optional<long> {
    auto it = current.find(std::string(name));
    return it == current.end() ? std::nullopt : it->second;
  };
  const std::string_view name = value(os::kUnprivilegedUsernsCloneName)
                                    ? os::kUnprivilegedUsernsCloneName
                                    : os::kMaxUserNamespacesName;
  const std::optional<long> now = value(name);
  if (!now || *now == 0) return plan;
  plan.record.try_emplace(std::string(name), *now);
  plan.writes.emplace_back(std::string(name), 0);
  return plan;
}

void ApplyUserNamespacePolicy(bool restrict, const StateStore& state, DecisionSink& sink,
                              std::uint64_t generation, const os::Sysctl& sysctl) {
  auto report_error = [&](const std::string& msg) {
    Report(sink, LogLevel::kError, DaemonEventKind::kError, msg, generation);
  };
  std::map<std::string, std::optional<long>> current;
  for (std::string_view name : kNames) {
    auto v = sysctl.ReadInt(name);
    if (!v.ok()) {
      if (restrict) report_error("cannot read " + std::string(name) + ": " + v.error().message);
      continue;
    }
    current[std::string(name)] = *v;
  }
  auto saved = state.SavedSysctls();
  if (!saved.ok()) {
    // Without the record the values to restore would be lost: change nothing.
    report_error(saved.error().message + "; user namespaces are left as they are");
    return;
  }
  const UserNamespacePlan plan = PlanUserNamespaces(restrict, current, *saved);
  if (restrict) {
    const bool any = std::any_of(current.begin(), current.end(),
                                 [](const auto& kv) { return kv.second.has_value(); });
    if (!any) {
      report_error(
          "this kernel has neither user.max_user_namespaces nor "
          "kernel.unprivileged_userns_clone: unprivileged user namespaces cannot be turned off "
          "by lockd");
      return;
    }
    if (plan.record != *saved) {
      if (auto s = state.SaveSysctls(plan.record); !s.ok()) {
        report_error(s.error().message + "; user namespaces are left as they are");
        return;
      }
    }
  }
  for (const auto& [name, value] : plan.writes) {
    const long before = current[name].value_or(-1);
    if (auto s = sysctl.Write(name, std::to_string(value)); !s.ok()) {
      report_error("cannot set " + name + "=" + std::to_string(value) + ": " + s.error().message +
                   (restrict ? "; unprivileged users can still create user namespaces and mount "
                               "filesystems in them"
                             : ""));
      continue;
    }
    LogInfo(name + " " + std::to_string(before) + " -> " + std::to_string(value) +
            (restrict ? " (policy restrict_user_namespaces)"
                      : " (restored: policy restrict_user_namespaces is off)"));
  }
  if (!restrict) {
    if (!saved->empty()) {
      if (auto s = state.ForgetSysctls(); !s.ok()) LogError(s.error().message);
    } else {
      LogInfo("policy leaves user namespaces as they are (restrict_user_namespaces off)");
    }
    return;
  }
  if (plan.writes.empty()) LogInfo("unprivileged user namespaces are already off");
}

UserNamespaceSettings ReadUserNamespaceSettings(const os::Sysctl& sysctl) {
  UserNamespaceSettings out;
  for (std::string_view name : kNames) {
    auto v = sysctl.ReadInt(name);
    std::string part;
    if (!v.ok()) {
      part = "cannot read " + std::string(name) + ": " + v.error().message;
    } else if (!v->has_value()) {
      continue;
    } else {
      part = std::string(name) + "=" + std::to_string(**v);
      if (**v == 0) out.restricted = true;
    }
    out.text += (out.text.empty() ? "" : ", ") + part;
  }
  if (out.text.empty()) out.text = "neither setting in this kernel";
  return out;
}

}  // namespace lockd
