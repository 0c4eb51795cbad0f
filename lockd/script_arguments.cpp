#include "lockd/script_arguments.h"

#include "hashdb/policy.h"

namespace lockd {

namespace {

bool NameIs(std::string_view base, std::initializer_list<const char*> names) {
  std::vector<std::string> list(names.begin(), names.end());
  return hashdb::IsInterpreterName(base, list);
}

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The argv of a login shell starts with '-' ("-bash"): the name follows it.
std::string_view ShellName(std::string_view argv0) {
  std::string_view base = Basename(argv0);
  if (!base.empty() && base[0] == '-') base.remove_prefix(1);
  return base;
}

ScriptCandidates ShellArguments(std::span<const std::string> argv) {
  ScriptCandidates out;
  out.search_path = true;
  bool no_script = false;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--" || a == "-") {
      ++i;
      break;
    }
    if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) break;
    if (a[0] == '-' && a[1] == '-') {
      if ((a == "--rcfile" || a == "--init-file") && i + 1 < argv.size()) {
        out.paths.push_back(argv[++i]);  // a start-up file: code
      }
      continue;  // other long options take no value
    }
    bool takes_next = false;
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (a[k] == 'c' || a[k] == 's') no_script = true;
      if (a[k] == 'o' || a[k] == 'O') takes_next = true;
    }
    if (takes_next) ++i;  // -o NAME: NAME is an option name, not a file
  }
  if (!no_script && i < argv.size()) {
    out.paths.insert(out.paths.begin(), argv[i]);
  } else {
    out.search_path = false;
  }
  return out;
}

ScriptCandidates PythonArguments(std::span<const std::string> argv) {
  ScriptCandidates out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      if (i + 1 < argv.size() && argv[i + 1] != "-") out.paths.push_back(argv[i + 1]);
      return out;
    }
    if (a == "-") return out;  // the program comes from stdin
    if (a.size() < 2 || a[0] != '-') {
      out.paths.push_back(a);
      return out;
    }
    if (a[1] == '-') {
      if (a == "--check-hash-based-pycs") ++i;
      continue;
    }
    for (std::size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      if (c == 'c' || c == 'm') return out;  // code or a module: no script file
      if (c == 'W' || c == 'X') {
        if (k + 1 == a.size()) ++i;  // the value is the next argument
        break;                       // else the rest of the cluster is the value
      }
    }
  }
  return out;
}

ScriptCandidates PerlArguments(std::span<const std::string> argv) {
  ScriptCandidates out;
  bool no_script = false;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-") return out;  // stdin
    if (a.size() < 2 || a[0] != '-') break;
    for (std::size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      if (c == 'e' || c == 'E' || c == 'I') {
        if (c != 'I') no_script = true;
        if (k + 1 == a.size()) ++i;  // -e CODE, -I DIR
        break;
      }
      if (c == 'M' || c == 'm' || c == 'x' || c == 'i' || c == '0' || c == 'l' || c == 'C' ||
          c == 'd' || c == 'D' || c == 'F' || c == 'V') {
        break;  // the rest of the cluster is the value
      }
      if (c == 'S') out.search_path = true;
      if (c == '-') break;  // a long option (--help, --version)
    }
  }
  if (no_script || i >= argv.size()) {
    out.search_path = false;
    return out;
  }
  out.paths.push_back(argv[i]);
  return out;
}

ScriptCandidates AwkArguments(std::span<const std::string> argv) {
  ScriptCandidates out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--" || a.size() < 2 || a[0] != '-') break;
    if (a[1] == '-') {
      for (const char* name : {"--file", "--include", "--exec"}) {
        const std::string n(name);
        if (a == n && i + 1 < argv.size()) {
          out.paths.push_back(argv[++i]);
        } else if (a.starts_with(n + "=")) {
          out.paths.push_back(a.substr(n.size() + 1));
        }
      }
      if (a == "--assign" || a == "--field-separator" || a == "--load") ++i;
      continue;
    }
    const char c = a[1];
    if (c == 'f' || c == 'i' || c == 'E') {
      if (a.size() > 2) {
        out.paths.push_back(a.substr(2));
      } else if (i + 1 < argv.size()) {
        out.paths.push_back(argv[++i]);
      }
    } else if ((c == 'v' || c == 'F' || c == 'l') && a.size() == 2) {
      ++i;
    }
  }
  return out;
}

ScriptCandidates OtherArguments(std::span<const std::string> argv) {
  ScriptCandidates out;
  bool after_option = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      if (i + 1 < argv.size()) out.paths.push_back(argv[i + 1]);
      return out;
    }
    if (a.size() >= 2 && a[0] == '-') {
      after_option = a.find('=') == std::string::npos;
      continue;
    }
    out.paths.push_back(a);
    if (!after_option) return out;
    after_option = false;
  }
  return out;
}

std::string_view EnvValue(std::span<const std::string> env, std::string_view name) {
  // The first definition, as glibc's getenv (for expanding $NAME inside BASH_ENV).
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      return std::string_view(e).substr(name.size() + 1);
    }
  }
  return {};
}

// Every value of NAME (a process may carry the same name twice; which one the interpreter
// uses depends on its libc).
std::vector<std::string_view> EnvValues(std::span<const std::string> env, std::string_view name) {
  std::vector<std::string_view> out;
  for (const std::string& e : env) {
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
      out.push_back(std::string_view(e).substr(name.size() + 1));
    }
  }
  return out;
}

bool NameChar(char c, bool first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (!first && c >= '0' && c <= '9');
}

// $NAME and ${NAME} from env; anything else is kept as written.
std::string ExpandParameters(std::string_view value, std::span<const std::string> env) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) {
      out.push_back(value[i]);
      continue;
    }
    std::size_t start = i + 1;
    bool braced = value[start] == '{';
    if (braced) ++start;
    std::size_t end = start;
    while (end < value.size() && NameChar(value[end], end == start)) ++end;
    if (end == start || (braced && (end >= value.size() || value[end] != '}'))) {
      out.push_back(value[i]);
      continue;
    }
    out += EnvValue(env, value.substr(start, end - start));
    i = braced ? end : end - 1;
  }
  return out;
}

void ShellStartup(std::span<const std::string> env, std::vector<std::string>& out) {
  for (const char* name : {"BASH_ENV", "ENV"}) {
    for (std::string_view v : EnvValues(env, name)) {
      std::string expanded = ExpandParameters(v, env);
      if (!expanded.empty()) out.push_back(std::move(expanded));
    }
  }
  for (std::string_view dir : EnvValues(env, "ZDOTDIR")) {
    if (dir.empty()) continue;
    for (const char* file : {".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout"}) {
      out.push_back(std::string(dir) + "/" + file);
    }
  }
}

void PythonStartup(std::span<const std::string> env, std::vector<std::string>& out) {
  for (std::string_view v : EnvValues(env, "PYTHONSTARTUP")) {
    if (!v.empty()) out.emplace_back(v);
  }
}

}  // namespace

InterpreterFamily FamilyOf(std::string_view exe_basename, std::string_view argv0) {
  std::string_view base = exe_basename;
  if (NameIs(base, {"busybox"})) base = ShellName(argv0);
  if (NameIs(base, {"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "mksh", "hush"})) {
    return InterpreterFamily::kShell;
  }
  if (NameIs(base, {"python", "python3"})) return InterpreterFamily::kPython;
  if (NameIs(base, {"perl"})) return InterpreterFamily::kPerl;
  if (NameIs(base, {"awk", "gawk", "mawk", "nawk"})) return InterpreterFamily::kAwk;
  return InterpreterFamily::kOther;
}

ScriptCandidates ScriptArguments(InterpreterFamily family, std::span<const std::string> argv) {
  switch (family) {
    case InterpreterFamily::kShell:
      return ShellArguments(argv);
    case InterpreterFamily::kPython:
      return PythonArguments(argv);
    case InterpreterFamily::kPerl:
      return PerlArguments(argv);
    case InterpreterFamily::kAwk:
      return AwkArguments(argv);
    case InterpreterFamily::kOther:
      break;
  }
  return OtherArguments(argv);
}

std::vector<std::string> StartupFiles(InterpreterFamily family, std::span<const std::string> env) {
  std::vector<std::string> out;
  switch (family) {
    case InterpreterFamily::kShell:
      ShellStartup(env, out);
      break;
    case InterpreterFamily::kPython:
      PythonStartup(env, out);
      break;
    case InterpreterFamily::kPerl:
    case InterpreterFamily::kAwk:
      break;
    case InterpreterFamily::kOther:
      ShellStartup(env, out);
      PythonStartup(env, out);
      break;
  }
  return out;
}

std::vector<std::string> SplitNulList(std::string_view bytes) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < bytes.size()) {
    std::size_t nul = bytes.find('\0', start);
    if (nul == std::string_view::npos) nul = bytes.size();
    out.emplace_back(bytes.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

}  // namespace lockd
