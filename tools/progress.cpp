#include "tools/progress.h"

#include <cmath>
#include <cstdio>

#include "tools/output.h"

namespace lockctl {

namespace {

// A non-negative double as a JSON integer, rounded down (up when round_up).
std::string Integer(double value, bool round_up = false) {
  if (!std::isfinite(value) || value < 0) value = 0;
  if (value > 1e18) value = 1e18;
  return std::to_string(static_cast<std::uint64_t>(round_up ? std::ceil(value) : value));
}

double Rate(const hashdb::ScanProgress& p) {
  return p.seconds > 0 ? static_cast<double>(p.bytes_hashed) / p.seconds : 0;
}

std::string Label(std::string_view task) {
  std::string out(task);
  for (char& c : out) {
    if (c == '-') c = ' ';
  }
  return out;
}

}  // namespace

hashdb::Result<ProgressMode> ParseProgressMode(std::string_view value, bool err_is_tty) {
  if (value == "auto") return err_is_tty ? ProgressMode::kTty : ProgressMode::kNone;
  if (value == "none") return ProgressMode::kNone;
  if (value == "tty") return ProgressMode::kTty;
  if (value == "json") return ProgressMode::kJson;
  return hashdb::MakeError(
      hashdb::ErrorCode::kInvalidArgument,
      "--progress: expected auto, none, tty or json, not '" + EscapeText(value) + "'");
}

std::optional<double> EstimateSecondsLeft(const hashdb::ScanProgress& p) {
  if (p.files_total == 0 || p.files_examined == 0 || p.seconds < 0.5) return std::nullopt;
  if (p.files_examined >= p.files_total) return 0.0;
  const double per_file = p.seconds / static_cast<double>(p.files_examined);
  return per_file * static_cast<double>(p.files_total - p.files_examined);
}

std::string FormatDuration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "--:--";
  const auto total = static_cast<std::uint64_t>(std::llround(*seconds));
  char buf[64];
  if (total >= 3600) {
    std::snprintf(buf, sizeof(buf), "%llu:%02llu:%02llu",
                  static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu:%02llu", static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  }
  return buf;
}

std::string TtyProgressText(std::string_view task, const hashdb::ScanProgress& p) {
  std::string out = Label(task) + ": " + std::to_string(p.files_examined);
  if (p.files_total != 0) {
    const double fraction =
        std::min(1.0, static_cast<double>(p.files_examined) / static_cast<double>(p.files_total));
    out += "/" + std::to_string(p.files_total) + " files (" +
           std::to_string(static_cast<int>(fraction * 100)) + "%)";
  } else {
    out += " files";
  }
  out +=
      ", " + HumanBytes(static_cast<double>(p.bytes_hashed)) + " at " + HumanBytes(Rate(p)) + "/s";
  if (p.skipped != 0) out += ", " + std::to_string(p.skipped) + " skipped";
  if (p.files_total != 0) out += ", " + FormatDuration(EstimateSecondsLeft(p)) + " left";
  return out;
}

std::string TtyCountText(std::string_view task, std::uint64_t files, bool done) {
  return Label(task) + ": counting files: " + std::to_string(files) + (done ? " to examine" : "");
}

std::string JsonCountLine(std::string_view task, std::uint64_t files, bool done) {
  return "{\"event\":\"count\",\"task\":" + JsonString(task) +
         ",\"files_counted\":" + std::to_string(files) + ",\"done\":" + (done ? "true" : "false") +
         "}\n";
}

std::string JsonProgressLine(std::string_view event, std::string_view task,
                             const hashdb::ScanProgress& p) {
  const std::optional<double> eta = event == "done" ? 0.0 : EstimateSecondsLeft(p);
  return "{\"event\":" + JsonString(event) + ",\"task\":" + JsonString(task) +
         ",\"files_examined\":" + std::to_string(p.files_examined) +
         ",\"files_total\":" + std::to_string(p.files_total) +
         ",\"files_recorded\":" + std::to_string(p.files_recorded) +
         ",\"bytes_hashed\":" + std::to_string(p.bytes_hashed) +
         ",\"bytes_per_second\":" + Integer(Rate(p)) + ",\"skipped\":" + std::to_string(p.skipped) +
         ",\"directories\":" + std::to_string(p.directories) +
         ",\"elapsed_ms\":" + Integer(p.seconds * 1000) +
         ",\"eta_seconds\":" + (eta ? Integer(*eta, true) : std::string("null")) + "}\n";
}

StreamProgressReporter::StreamProgressReporter(ProgressMode mode, std::string task,
                                               std::ostream& out)
    : mode_(mode), task_(std::move(task)), out_(out) {}

void StreamProgressReporter::Draw(const std::string& text) {
  out_ << "\r\033[K" << text << std::flush;
  drawn_ = true;
}

void StreamProgressReporter::Counted(std::uint64_t files, bool done) {
  if (mode_ == ProgressMode::kTty) {
    Draw(TtyCountText(task_, files, done));
  } else if (mode_ == ProgressMode::kJson) {
    out_ << JsonCountLine(task_, files, done) << std::flush;
  }
}

void StreamProgressReporter::Progress(const hashdb::ScanProgress& progress) {
  if (mode_ == ProgressMode::kTty) {
    Draw(TtyProgressText(task_, progress));
  } else if (mode_ == ProgressMode::kJson) {
    out_ << JsonProgressLine("progress", task_, progress) << std::flush;
  }
}

void StreamProgressReporter::Finished(const hashdb::ScanProgress& progress) {
  if (mode_ == ProgressMode::kTty) {
    if (drawn_) out_ << "\r\033[K" << std::flush;
    drawn_ = false;
  } else if (mode_ == ProgressMode::kJson) {
    out_ << JsonProgressLine("done", task_, progress) << std::flush;
  }
}

}  // namespace lockctl
