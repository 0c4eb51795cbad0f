#include "tools/quarantine/commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "audit/json_parse.h"
#include "hashdb/digest.h"
#include "lockd/control/socket.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace lockctl {

namespace {

constexpr char kWho[] = "lockctl quarantine";

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  std::string out = cwd;
  if (out.back() != '/') out.push_back('/');
  return out + path;
}

std::string Text(const lockd::audit::JsonValue& v, const char* key) {
  auto bytes = lockd::audit::FieldBytes(v, key);
  return bytes ? *bytes : std::string();
}

std::uint64_t Number(const lockd::audit::JsonValue& v, const char* key) {
  const auto* m = v.Find(key);
  return m != nullptr && m->type == lockd::audit::JsonValue::Type::kUint ? m->uint_value : 0;
}

bool Flag(const lockd::audit::JsonValue& v, const char* key) {
  const auto* m = v.Find(key);
  return m != nullptr && m->type == lockd::audit::JsonValue::Type::kBool && m->boolean;
}

}  // namespace

std::string QuarantineRequestText(const std::string& abs_path, const std::string& abs_out_dir,
                                  bool remove) {
  const auto hex = [](const std::string& s) {
    return hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  return std::string(remove ? "quarantine --remove" : "quarantine") + "\n" + hex(abs_path) + "\n" +
         hex(abs_out_dir);
}

int RunQuarantine(const QuarantineArgs& args, std::ostream& out, std::ostream& err) {
  if (args.path.empty() || args.out_dir.empty()) {
    err << kWho << ": expected a file and --out DIR\n";
    return kExitUsage;
  }
  const std::string path = Absolute(args.path);
  const std::string out_dir = Absolute(args.out_dir);
  auto reply = lockd::os::ControlRequest(args.socket,
                                         QuarantineRequestText(path, out_dir, args.remove), 60000);
  if (!reply.ok()) {
    err << kWho << ": " << reply.error().message << "\n";
    return kExitUsage;
  }
  const auto nl = reply->find('\n');
  const std::string head = reply->substr(0, nl);
  const std::string body = nl == std::string::npos ? "" : reply->substr(nl + 1);
  if (head != "ok") {
    err << kWho << ": " << (body.empty() ? head + "\n" : body);
    return head == "refused" ? kExitNegative : kExitUsage;
  }
  auto v = lockd::audit::ParseJson(body.substr(0, body.find_last_not_of('\n') + 1));
  if (!v.ok()) {
    err << kWho << ": lockd's reply does not parse: " << v.error().message << "\n";
    return kExitUsage;
  }
  const bool removed = Flag(*v, "removed");
  if (args.json) {
    out << body;
  } else {
    const std::string first = Text(*v, "first_seen"), last = Text(*v, "last_seen");
    out << "archive:  " << EscapeText(Text(*v, "archive")) << " (sha256 "
        << Text(*v, "archive_sha256") << ")\n"
        << "sample:   " << EscapeText(Text(*v, "path")) << ", " << Number(*v, "size")
        << " bytes, sha256 " << Text(*v, "sha256") << "\n"
        << "denials:  " << Number(*v, "deny_records") << " audit record(s) name it"
        << (first.empty() ? std::string() : ", first " + first + ", last " + last) << "\n";
    if (args.remove) {
      out << "removed:  "
          << (removed ? std::string("yes") : "no: " + EscapeText(Text(*v, "remove_error"))) << "\n";
    }
  }
  if (args.remove && !removed) {
    err << kWho << ": the archive was written but the file was not removed: "
        << EscapeText(Text(*v, "remove_error")) << "\n";
    return kExitNegative;
  }
  return kExitOk;
}

void RegisterQuarantineCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<QuarantineArgs>();
  CLI::App* q = app.add_subcommand(
      "quarantine",
      "Have lockd copy a file (e.g. a denied program) into a non-executable archive for "
      "forensics, and remove it when asked");
  q->add_option("path", args->path, "The file (not a symlink, a regular file)")->required();
  q->add_option("--out", args->out_dir, "Directory for the archive (written 0400)")->required();
  q->add_flag("--remove", args->remove,
              "Remove the file once the archive is written and synced to disk");
  q->add_flag("--json", args->json, "lockd's reply as one JSON object");
  q->add_option("--socket", args->socket, "Control socket of the daemon")->capture_default_str();
  q->callback([args, &exit_code] { exit_code = RunQuarantine(*args, std::cout, std::cerr); });
}

}  // namespace lockctl
