#include "lockd/script_arguments.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using lockd::FamilyOf;
using lockd::InterpreterFamily;
using lockd::ScriptArguments;
using lockd::SplitNulList;
using lockd::StartupFiles;

namespace {

std::vector<std::string> Paths(InterpreterFamily f, std::vector<std::string> argv) {
  return ScriptArguments(f, argv).paths;
}
using V = std::vector<std::string>;

}  // namespace

TEST_CASE("families by executable name, versions included; busybox by its applet") {
  CHECK(FamilyOf("bash") == InterpreterFamily::kShell);
  CHECK(FamilyOf("dash") == InterpreterFamily::kShell);
  CHECK(FamilyOf("sh") == InterpreterFamily::kShell);
  CHECK(FamilyOf("python3.11") == InterpreterFamily::kPython);
  CHECK(FamilyOf("python3") == InterpreterFamily::kPython);
  CHECK(FamilyOf("perl5.36.0") == InterpreterFamily::kPerl);
  CHECK(FamilyOf("mawk") == InterpreterFamily::kAwk);
  CHECK(FamilyOf("bashful") == InterpreterFamily::kOther);
  CHECK(FamilyOf("my-renamed-copy") == InterpreterFamily::kOther);
  CHECK(FamilyOf("busybox", "/bin/sh") == InterpreterFamily::kShell);
  CHECK(FamilyOf("busybox", "-sh") == InterpreterFamily::kShell);
  CHECK(FamilyOf("busybox", "awk") == InterpreterFamily::kAwk);
}

TEST_CASE("shell: options before the script, -c and -s mean no script file") {
  const auto sh = InterpreterFamily::kShell;
  CHECK(Paths(sh, {"bash", "FILE", "arg"}) == V{"FILE"});
  CHECK(ScriptArguments(sh, V{"bash", "FILE"}).search_path);
  CHECK(Paths(sh, {"bash", "-x", "-e", "FILE", "data"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "-o", "posix", "FILE"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "+o", "errexit", "FILE"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "-eo", "pipefail", "FILE"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "-O", "extglob", "FILE"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "--norc", "--", "-FILE"}) == V{"-FILE"});
  CHECK(Paths(sh, {"sh", "-", "FILE"}) == V{"FILE"});
  CHECK(Paths(sh, {"bash", "-c", "echo hi", "FILE"}).empty());
  CHECK(Paths(sh, {"bash", "-ec", "echo hi"}).empty());
  CHECK_FALSE(ScriptArguments(sh, V{"bash", "-c", "x"}).search_path);
  CHECK(Paths(sh, {"bash", "-s", "FILE"}).empty());
  CHECK(Paths(sh, {"bash"}).empty());
  // Start-up files named on the command line are code too, with or without a script.
  CHECK(Paths(sh, {"bash", "--rcfile", "RC", "-i"}) == V{"RC"});
  CHECK(Paths(sh, {"bash", "--init-file", "RC", "FILE"}) == V{"FILE", "RC"});
  CHECK(Paths(sh, {"bash", "--rcfile", "RC", "-c", "true"}) == V{"RC"});
}

TEST_CASE("python: -c and -m mean no script file, -W and -X take values") {
  const auto py = InterpreterFamily::kPython;
  CHECK(Paths(py, {"python3", "FILE", "data.txt"}) == V{"FILE"});
  CHECK_FALSE(ScriptArguments(py, V{"python3", "FILE"}).search_path);
  CHECK(Paths(py, {"python3", "-u", "-B", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "-uB", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "-W", "ignore", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "-Wignore", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "-X", "utf8", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "-bX", "dev", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "--check-hash-based-pycs", "always", "FILE"}) == V{"FILE"});
  CHECK(Paths(py, {"python3", "--", "-FILE"}) == V{"-FILE"});
  CHECK(Paths(py, {"python3", "-c", "print(1)", "FILE"}).empty());
  CHECK(Paths(py, {"python3", "-Ic", "print(1)"}).empty());
  CHECK(Paths(py, {"python3", "-m", "http.server", "FILE"}).empty());
  CHECK(Paths(py, {"python3", "-", "FILE"}).empty());
  CHECK(Paths(py, {"python3"}).empty());
}

TEST_CASE("perl: -e/-E mean no script file, -I takes a value, -M/-m and friends their cluster") {
  const auto pl = InterpreterFamily::kPerl;
  CHECK(Paths(pl, {"perl", "FILE", "data"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "-w", "-I", "lib", "FILE"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "-Ilib", "-Mstrict", "FILE"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "-wMstrict", "FILE"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "-i.bak", "-pe", "s/a/b/", "data"}).empty());
  CHECK(Paths(pl, {"perl", "-e", "print 1", "data"}).empty());
  CHECK(Paths(pl, {"perl", "-E", "say 1"}).empty());
  CHECK(Paths(pl, {"perl", "-n", "-e", "print", "-I", "lib", "data"}).empty());
  CHECK(Paths(pl, {"perl", "-l", "-0777", "FILE"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "-x", "FILE"}) == V{"FILE"});
  CHECK(Paths(pl, {"perl", "--", "-FILE"}) == V{"-FILE"});
  CHECK(Paths(pl, {"perl", "-", "FILE"}).empty());
  auto s = ScriptArguments(pl, V{"perl", "-S", "NAME"});
  CHECK(s.paths == V{"NAME"});
  CHECK(s.search_path);
  CHECK_FALSE(ScriptArguments(pl, V{"perl", "FILE"}).search_path);
}

TEST_CASE("awk: every program file, program text otherwise") {
  const auto awk = InterpreterFamily::kAwk;
  CHECK(Paths(awk, {"awk", "{print}", "data"}).empty());
  CHECK(Paths(awk, {"awk", "-f", "PROG", "data"}) == V{"PROG"});
  CHECK(Paths(awk, {"awk", "-fPROG", "-f", "LIB", "data"}) == V{"PROG", "LIB"});
  CHECK(Paths(awk, {"gawk", "--file=PROG", "--include", "INC", "data"}) == V{"PROG", "INC"});
  CHECK(Paths(awk, {"awk", "-v", "x=1", "-F", ":", "-f", "PROG"}) == V{"PROG"});
  CHECK(Paths(awk, {"gawk", "-E", "PROG", "data"}) == V{"PROG"});
}

TEST_CASE("other interpreters: the first non-option, and the next when an option came first") {
  const auto o = InterpreterFamily::kOther;
  CHECK(Paths(o, {"ruby", "FILE", "data"}) == V{"FILE"});
  CHECK(Paths(o, {"ruby", "-I", "lib", "FILE", "data"}) == V{"lib", "FILE"});
  CHECK(Paths(o, {"node", "--max-old-space-size=64", "FILE", "data"}) == V{"FILE"});
  CHECK(Paths(o, {"copy", "--", "FILE"}) == V{"FILE"});
  CHECK(Paths(o, {"copy"}).empty());
}

TEST_CASE("start-up files named in the environment") {
  const V env = {"HOME=/home/u", "BASH_ENV=$HOME/.benv",        "ENV=${HOME}/e",
                 "PATH=/bin",    "PYTHONSTARTUP=/tmp/start.py", "ZDOTDIR=/z"};
  const auto sh = StartupFiles(InterpreterFamily::kShell, env);
  CHECK(sh == V{"/home/u/.benv", "/home/u/e", "/z/.zshenv", "/z/.zprofile", "/z/.zshrc",
                "/z/.zlogin", "/z/.zlogout"});
  CHECK(StartupFiles(InterpreterFamily::kPython, env) == V{"/tmp/start.py"});
  CHECK(StartupFiles(InterpreterFamily::kPerl, env).empty());
  CHECK(StartupFiles(InterpreterFamily::kAwk, env).empty());
  const auto other = StartupFiles(InterpreterFamily::kOther, env);
  CHECK(other.size() == sh.size() + 1);
  CHECK(other.back() == "/tmp/start.py");
  // Unknown variables expand to nothing, as in the shell; anything but $NAME is kept.
  CHECK(StartupFiles(InterpreterFamily::kShell, V{"BASH_ENV=/x/$NOPE/y"}) == V{"/x//y"});
  CHECK(StartupFiles(InterpreterFamily::kShell, V{"BASH_ENV=/x/$(id)"}) == V{"/x/$(id)"});
  CHECK(StartupFiles(InterpreterFamily::kShell, V{"BASH_ENV="}).empty());
  // A name given twice: both count (which one the interpreter uses depends on its libc).
  CHECK(StartupFiles(InterpreterFamily::kShell, V{"BASH_ENV=/a", "BASH_ENV=/b"}) == V{"/a", "/b"});
  CHECK(StartupFiles(InterpreterFamily::kShell, V{"BASH_ENVX=/a", "XENV=/b"}).empty());
}

TEST_CASE("NUL-separated /proc lists") {
  using namespace std::string_literals;
  CHECK(SplitNulList("a\0bc\0"s) == V{"a", "bc"});
  CHECK(SplitNulList("a\0\0b"s) == V{"a", "", "b"});
  CHECK(SplitNulList("").empty());
}
