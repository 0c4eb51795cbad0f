#pragma once
// Which files an interpreter process was asked to run, read from its command line and
// environment (issue 11 items 1 and 2). Pure: no system calls; the strings come from
// /proc/<pid>/cmdline and /proc/<pid>/environ (lockd/os/process_args.h), and lockd compares
// the files they name with the opened file by identity (dev + ino), never by name
// (lockd/script_coverage.h). Tested in tests/lockd/script_arguments_test.cpp.
//
// A file named here is judged as a script when the interpreter opens it, whatever its name,
// mode or first bytes. Parsing is per interpreter family and errs towards naming a file: a
// wrongly named data file is judged (denied if not allowlisted), a wrongly missed script runs.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lockd {

enum class InterpreterFamily {
  kShell,   // sh, bash, dash, ash, zsh, ksh, mksh, rbash, busybox's shells
  kPython,  // python, python3, python3.11
  kPerl,    // perl, perl5.36.0
  kAwk,     // awk, gawk, mawk, nawk, busybox awk
  kOther,   // any other interpreter, and one recognised only by its content (a renamed copy)
};

// The family of an interpreter executable by its basename (the version rule of
// hashdb::IsInterpreterName: "python3.11" is python). busybox takes its applet from argv[0]
// (what busybox itself dispatches on), passed as `argv0` (may be empty).
InterpreterFamily FamilyOf(std::string_view exe_basename, std::string_view argv0 = {});

// What the command line names as code to run.
struct ScriptCandidates {
  // Paths as given (relative ones resolve against the process's cwd, absolute ones against
  // its root). Each one that names the opened file makes it a script.
  std::vector<std::string> paths;
  // The first path may also be found through $PATH when it has no '/' and is not in the cwd
  // (bash does this for `bash NAME`; perl -S).
  bool search_path = false;
};

// argv as read from /proc/<pid>/cmdline (argv[0] first). Rules per family:
//  shell: options (-x, +o, -o NAME, -O NAME) before the script; -c or -s: no script file;
//         --rcfile FILE / --init-file FILE name start-up files; "--" or "-" ends options.
//  python: -c CMD and -m MOD: no script file; -W ARG, -X OPT, --check-hash-based-pycs MODE
//         take values (attached or next); "-" is stdin; the first non-option is the script.
//  perl:  -e/-E CODE: no script file; -I DIR, -M MOD, -m MOD take values (attached or next);
//         -x -i -0 -l -C -d -D -F -V take the rest of their cluster; -S searches $PATH.
//  awk:   -f FILE, --file FILE, -i FILE, --include FILE, -E FILE, --exec FILE are program
//         files (every one); -v, -F and -l take values; program text otherwise.
//  other: options are not known: the first non-option argument, and when it follows an option
//         (which may have taken it as its value, as in `ruby -I lib SCRIPT`) the next one too;
//         "--" ends options.
ScriptCandidates ScriptArguments(InterpreterFamily family, std::span<const std::string> argv);

// Start-up files named by the environment (entries "NAME=value" from /proc/<pid>/environ):
//  shell: BASH_ENV and ENV (bash, and every POSIX shell in interactive or posix mode), with
//         $NAME / ${NAME} expanded from the same environment as the shell does (command
//         substitution in them is inline code, like -c: not a file); zsh's $ZDOTDIR/.zshenv,
//         .zprofile, .zshrc, .zlogin, .zlogout.
//  python: PYTHONSTARTUP.
//  other: all of the above (a renamed interpreter could be any of them).
//  perl, awk: none (PERL5OPT's -M/-m load modules, which have the .pm suffix that coverage
//         rule 2 already judges; awk reads no start-up file).
// Relative values resolve against the cwd like script paths.
std::vector<std::string> StartupFiles(InterpreterFamily family, std::span<const std::string> env);

// Splits a NUL-separated /proc list ("a\0b\0") into its strings. A last string without NUL
// is kept (a process may have overwritten its argv area).
std::vector<std::string> SplitNulList(std::string_view bytes);

}  // namespace lockd
