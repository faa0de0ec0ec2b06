#pragma once
// The user's `docker run ...` (or `podman run ...`) command line, understood
// well enough to rewrite it: which elements are options (and their values),
// which one is IMAGE, which are the container's ARGS.
//
// Which flags take a value is not written down here: it is learnt from the
// CLI's own `run --help` (cobra/pflag format, the same for docker 20.10, 28.x
// and podman 4):
//   "  -e, --env list            Set environment variables"   -> takes a value
//   "      --cpus decimal        Number of CPUs"               -> takes a value
//   "  -d, --detach              Run container in background"  -> boolean
// A flag name followed by ONE space and a word has a value type; followed by
// two or more spaces (or nothing) it is a boolean. Continuation lines of long
// descriptions are indented further and never start with "-".
//
// Parsing then follows pflag with interspersed arguments off (as docker and
// podman configure `run`): the first element that is not an option is IMAGE,
// everything after it belongs to the container; "--" ends the options.
//
// Caveat: docker 28 hides from `run --help` the flags the connected daemon's
// API cannot serve (e.g. --annotation needs API 1.43) and its hidden aliases
// (--net). Such a flag is accepted only as "--flag=value" (self-contained, the
// CLI validates it later); "--flag" alone is an Error(usage) naming it.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sctrace::container {

struct FlagInfo {
  std::string name;       // long name without "--"
  char shorthand = 0;     // 0 when it has none
  bool takes_value = false;
  std::string type;       // as printed ("list", "string", "bytes", ...); "" for booleans
};

class FlagTable {
 public:
  // Throws Error(runtime) when the text lists no flags at all (not a help text).
  static FlagTable from_help(std::string_view help_text);

  const FlagInfo* find(std::string_view long_name) const;
  const FlagInfo* find_short(char c) const;
  const std::map<std::string, FlagInfo, std::less<>>& flags() const { return by_name_; }

 private:
  std::map<std::string, FlagInfo, std::less<>> by_name_;
  std::map<char, std::string> by_short_;
};

// The stdout of `<cli> <subcommand> --help`, run once per (cli, subcommand)
// for the life of the process. Throws Error(not_found) when cli is not found
// and Error(runtime) when it fails or prints no help.
std::string cli_help_text(const std::string& cli, const std::string& subcommand);

enum class CliFlavor { docker, podman, other };
// By the basename of argv[0]: "docker", "podman", anything else.
CliFlavor cli_flavor(std::string_view argv0);

struct ParsedFlag {
  std::string name;                   // long name ("detach"), or the letter for a shorthand-only flag
  char shorthand = 0;                 // the letter when written in a "-x" cluster
  std::optional<std::string> value;   // unset for a boolean written without "="
  size_t token = 0;                   // index in DockerRun::options of the element naming the flag
  bool value_in_next = false;         // the value is the element after `token`
  std::string part;                   // in a cluster: this flag's share of it ("d", "p8080:80", "d=false")
};

struct DockerRun {
  std::string cli;                    // argv[0] as given
  CliFlavor flavor = CliFlavor::other;
  std::vector<std::string> command;   // {"run"} or {"container", "run"}
  std::vector<std::string> options;   // each element as given, values included
  std::vector<ParsedFlag> flags;      // what the options mean, in order
  std::string image;
  std::vector<std::string> args;      // the container's COMMAND and ARGs

  // The last value the user gave (booleans honour "--rm=false").
  bool detach = false, interactive = false, tty = false, auto_remove = false, init = false;
  bool privileged = false, publish_all = false;
  std::optional<std::string> name, entrypoint, network, user, platform, cidfile;
  // Repeatable options, in order.
  std::vector<std::string> security_opts, publish, cap_add, cap_drop, env;

  // The whole command line again: cli, command, options, image, args.
  std::vector<std::string> argv() const;
  // Every value given for a long flag name (in order).
  std::vector<std::string> values(std::string_view flag) const;
  bool has(std::string_view flag) const;
};

// Throws Error(usage) with one line for: no "run", an unknown flag, a missing
// value, a bad boolean, no IMAGE. help_text is `<cli> run --help`'s output.
DockerRun parse_docker_run(const std::vector<std::string>& argv, std::string_view help_text);
// Same, with the help text from cli_help_text(argv[0], "run").
DockerRun parse_docker_run(const std::vector<std::string>& argv);

// Long names of the flags `run` has and `create` lacks.
std::set<std::string> run_only_flags(std::string_view run_help, std::string_view create_help);
// What run_only_flags() gives for these CLIs (checked against the real ones by
// the unit tests): docker 20.10 and 28.x lack --detach, --detach-keys and
// --sig-proxy in `create`; podman 4 also --passwd, --preserve-fds and --rmi.
std::set<std::string> default_run_only_flags(CliFlavor flavor);

// The same command as `create` ("container run" -> "container create"), with
// every run-only flag removed: "-d" disappears, "-dit" becomes "-it",
// "--detach-keys X" loses both elements.
std::vector<std::string> to_create_argv(const DockerRun& run, const std::set<std::string>& run_only);
std::vector<std::string> to_create_argv(const DockerRun& run);

// argv with {"--security-opt", opt} inserted right after "run"/"create"
// (e.g. opt = "seccomp=/tmp/p.json"). Throws Error(usage) when argv has no
// run/create command. Note: a seccomp= the user gave later in argv wins; see
// DockerRun::security_opts.
std::vector<std::string> with_security_opt(const std::vector<std::string>& argv, const std::string& opt);
// The same for any flag with a value: {flag, value} right after "run"/"create"
// (with_security_opt is with_flag(argv, "--security-opt", opt)).
std::vector<std::string> with_flag(const std::vector<std::string>& argv, const std::string& flag,
                                   const std::string& value);

// One line saying why `docker/podman create` failed, from its stderr: the
// client's "See/Run '... --help'" hints are dropped (the line used to be all
// that was shown), a "docker: " prefix goes, and an image that is not here
// and could not be pulled is named as such.
std::string create_error_line(const std::string& err, const std::string& image);

}  // namespace sctrace::container
