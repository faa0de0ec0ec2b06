#include "tracer/container/docker_args.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>

#include "core/error.h"
#include "core/text.h"
#include "core/unique_fd.h"

extern char** environ;

namespace sctrace::container {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// One help line, or nullopt when it does not introduce a flag.
std::optional<FlagInfo> parse_help_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  // Flags are indented by 2 ("  -e, --env") or 6 ("      --cpus"); wrapped
  // descriptions start much further right.
  if (i < 2 || i > 8) return std::nullopt;
  line.remove_prefix(i);
  FlagInfo f;
  if (line.size() >= 4 && line[0] == '-' && line[1] != '-' && line[2] == ',' && line[3] == ' ') {
    f.shorthand = line[1];
    line.remove_prefix(4);
  }
  if (!line.starts_with("--")) return std::nullopt;
  line.remove_prefix(2);
  size_t n = 0;
  while (n < line.size() && is_name_char(line[n])) ++n;
  if (n == 0) return std::nullopt;
  f.name = std::string(line.substr(0, n));
  line.remove_prefix(n);
  // pflag prints "--name TYPE   description": exactly one space before the
  // type, at least two before the description. The type may itself contain
  // single spaces when it comes from a `backquoted` word of the usage.
  if (line.size() >= 2 && line[0] == ' ' && line[1] != ' ') {
    line.remove_prefix(1);
    size_t end = line.find("  ");
    std::string_view type = line.substr(0, end);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    f.type = std::string(type);
    f.takes_value = true;
  } else if (!line.empty() && line[0] != ' ') {
    return std::nullopt;  // "--name," or similar prose, not a flag line
  }
  return f;
}

std::string basename_of(std::string_view p) {
  auto slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// Index of "run"/"create" in argv (1, or 2 after "container"); 0 if none.
size_t command_index(const std::vector<std::string>& argv, bool allow_create) {
  auto is_cmd = [&](const std::string& s) { return s == "run" || (allow_create && s == "create"); };
  if (argv.size() >= 2 && is_cmd(argv[1])) return 1;
  if (argv.size() >= 3 && argv[1] == "container" && is_cmd(argv[2])) return 2;
  return 0;
}

struct Captured {
  int status = 0;
  std::string out, err;
};

// Runs argv with stdin from /dev/null and collects stdout and stderr, killing
// it after `timeout`.
Captured capture(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc == ENOENT) fail(ErrorKind::not_found, "{}: command not found", argv[0]);
  if (rc == EACCES) fail(ErrorKind::not_exec, "{}: permission denied", argv[0]);
  if (rc != 0) fail_errno(ErrorKind::runtime, rc, "cannot run " + argv[0]);
  out_w.reset();
  err_w.reset();

  Captured c;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_r || err_r) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_r) fds[n++] = {out_r.get(), POLLIN, 0};
    if (err_r) fds[n++] = {err_r.get(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int pr = poll(fds, n, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) break;
    for (nfds_t k = 0; k < n; ++k) {
      if (!fds[k].revents) continue;
      UniqueFd& fd = fds[k].fd == out_r.get() ? out_r : err_r;
      std::string& dst = &fd == &out_r ? c.out : c.err;
      char buf[8192];
      ssize_t got = read(fd.get(), buf, sizeof buf);
      if (got > 0)
        dst.append(buf, static_cast<size_t>(got));
      else if (got == 0 || errno != EINTR)
        fd.reset();
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) fail(ErrorKind::runtime, "`{} {} --help` did not finish within {} ms", argv[0], argv[1],
                      timeout.count());
  c.status = status;
  return c;
}

std::string first_line(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ')) s.remove_prefix(1);
  return std::string(s.substr(0, s.find('\n')));
}

}  // namespace

FlagTable FlagTable::from_help(std::string_view help_text) {
  FlagTable t;
  size_t pos = 0;
  while (pos <= help_text.size()) {
    size_t nl = help_text.find('\n', pos);
    std::string_view line = help_text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto f = parse_help_line(line)) {
      if (f->shorthand) t.by_short_[f->shorthand] = f->name;
      t.by_name_[f->name] = std::move(*f);
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (t.by_name_.empty()) fail(ErrorKind::runtime, "no flags found in the CLI's `run --help` output");
  return t;
}

const FlagInfo* FlagTable::find(std::string_view long_name) const {
  auto it = by_name_.find(long_name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const FlagInfo* FlagTable::find_short(char c) const {
  auto it = by_short_.find(c);
  return it == by_short_.end() ? nullptr : find(it->second);
}

std::string cli_help_text(const std::string& cli, const std::string& subcommand) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::string> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(cli, subcommand);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  // docker 28 asks the daemon which flags it supports before printing help;
  // an unreachable daemon only makes it list more of them.
  Captured c = capture({cli, subcommand, "--help"}, std::chrono::seconds(30));
  if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0 || c.out.empty()) {
    std::string why = first_line(c.err);
    fail(ErrorKind::runtime, "`{} {} --help` failed{}{}", cli, subcommand, why.empty() ? "" : ": ", why);
  }
  return cache.emplace(key, std::move(c.out)).first->second;
}

CliFlavor cli_flavor(std::string_view argv0) {
  std::string base = basename_of(argv0);
  if (base == "docker") return CliFlavor::docker;
  if (base == "podman") return CliFlavor::podman;
  return CliFlavor::other;
}

std::vector<std::string> DockerRun::argv() const {
  std::vector<std::string> out{cli};
  out.insert(out.end(), command.begin(), command.end());
  out.insert(out.end(), options.begin(), options.end());
  out.push_back(image);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

std::vector<std::string> DockerRun::values(std::string_view flag) const {
  std::vector<std::string> out;
  for (const auto& f : flags)
    if (f.name == flag && f.value) out.push_back(*f.value);
  return out;
}

bool DockerRun::has(std::string_view flag) const {
  for (const auto& f : flags)
    if (f.name == flag) return true;
  return false;
}

DockerRun parse_docker_run(const std::vector<std::string>& argv, std::string_view help_text) {
  if (argv.empty()) fail(ErrorKind::usage, "no container command given");
  DockerRun r;
  r.cli = argv[0];
  r.flavor = cli_flavor(argv[0]);
  std::string tool = basename_of(argv[0]);
  size_t cmd = command_index(argv, false);
  if (cmd == 0)
    fail(ErrorKind::usage, "expected `{} run ...` (global {} options go in the environment, e.g. DOCKER_HOST), got `{}`",
         tool, tool, argv.size() > 1 ? tool + " " + argv[1] : tool);
  r.command.assign(argv.begin() + 1, argv.begin() + static_cast<long>(cmd) + 1);
  FlagTable table = FlagTable::from_help(help_text);

  size_t i = cmd + 1;
  auto next_value = [&](const std::string& flag_text) -> std::string {
    if (i + 1 >= argv.size()) fail(ErrorKind::usage, "{} run: flag needs an argument: {}", tool, flag_text);
    ++i;
    r.options.push_back(argv[i]);
    return argv[i];
  };
  bool have_image = false;
  for (; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s == "--") {
      r.options.push_back(s);
      if (i + 1 >= argv.size()) break;
      ++i;
      have_image = true;
      break;
    }
    if (s.size() < 2 || s[0] != '-') {
      have_image = true;
      break;
    }
    size_t token = r.options.size();
    r.options.push_back(s);
    if (s.starts_with("--")) {
      std::string_view body = std::string_view(s).substr(2);
      auto eq = body.find('=');
      std::string name(body.substr(0, eq));
      ParsedFlag pf;
      pf.name = name;
      pf.token = token;
      if (eq != std::string_view::npos) pf.value = std::string(body.substr(eq + 1));
      const FlagInfo* info = table.find(name);
      if (!info) {
        // Hidden in --help (aliases, flags the daemon's API lacks): only the
        // self-contained "--flag=value" form can be passed on safely.
        if (!pf.value)
          fail(ErrorKind::usage,
               "{} run: unknown flag --{} (not listed by `{} run --help`; if it takes a value, write --{}=VALUE)",
               tool, name, tool, name);
      } else if (info->takes_value) {
        if (!pf.value) {
          pf.value = next_value("--" + name);
          pf.value_in_next = true;
        }
      } else if (pf.value && !parse_go_bool(*pf.value)) {
        fail(ErrorKind::usage, "{} run: invalid boolean value \"{}\" for --{}", tool, *pf.value, name);
      }
      r.flags.push_back(std::move(pf));
      continue;
    }
    // A cluster of shorthands: "-dit", "-p8080:80", "-e=A=1", "-d=false".
    for (size_t j = 1; j < s.size(); ++j) {
      char c = s[j];
      const FlagInfo* info = table.find_short(c);
      if (!info)
        fail(ErrorKind::usage, "{} run: unknown shorthand flag '{}' in {}", tool, std::string(1, c), s);
      ParsedFlag pf;
      pf.name = info->name;
      pf.shorthand = c;
      pf.token = token;
      if (j + 1 < s.size() && s[j + 1] == '=') {
        pf.value = s.substr(j + 2);
        pf.part = s.substr(j);
        if (!info->takes_value && !parse_go_bool(*pf.value))
          fail(ErrorKind::usage, "{} run: invalid boolean value \"{}\" for -{}", tool, *pf.value, std::string(1, c));
        j = s.size();
      } else if (info->takes_value) {
        pf.part = s.substr(j);
        if (j + 1 < s.size()) {
          pf.value = s.substr(j + 1);
        } else {
          pf.value = next_value(std::string("-") + c);
          pf.value_in_next = true;
        }
        j = s.size();
      } else {
        pf.part = std::string(1, c);
      }
      r.flags.push_back(std::move(pf));
    }
  }
  if (!have_image || i >= argv.size())
    fail(ErrorKind::usage, "{} run: no IMAGE given", tool);
  r.image = argv[i];
  r.args.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());

  for (const auto& f : r.flags) {
    const FlagInfo* info = table.find(f.name);
    bool is_bool = info && !info->takes_value;
    bool on = is_bool && (!f.value || parse_go_bool(*f.value).value_or(false));
    const std::string& n = f.name;
    if (is_bool) {
      if (n == "detach") r.detach = on;
      else if (n == "interactive") r.interactive = on;
      else if (n == "tty") r.tty = on;
      else if (n == "rm") r.auto_remove = on;
      else if (n == "init") r.init = on;
      else if (n == "privileged") r.privileged = on;
      else if (n == "publish-all") r.publish_all = on;
      continue;
    }
    if (!f.value) continue;
    const std::string& v = *f.value;
    if (n == "name") r.name = v;
    else if (n == "entrypoint") r.entrypoint = v;
    else if (n == "network" || n == "net") r.network = v;
    else if (n == "user") r.user = v;
    else if (n == "platform") r.platform = v;
    else if (n == "cidfile") r.cidfile = v;
    else if (n == "security-opt") r.security_opts.push_back(v);
    else if (n == "publish") r.publish.push_back(v);
    else if (n == "cap-add") r.cap_add.push_back(v);
    else if (n == "cap-drop") r.cap_drop.push_back(v);
    else if (n == "env") r.env.push_back(v);
  }
  return r;
}

DockerRun parse_docker_run(const std::vector<std::string>& argv) {
  if (argv.empty()) fail(ErrorKind::usage, "no container command given");
  return parse_docker_run(argv, cli_help_text(argv[0], "run"));
}

std::set<std::string> run_only_flags(std::string_view run_help, std::string_view create_help) {
  FlagTable run = FlagTable::from_help(run_help);
  FlagTable create = FlagTable::from_help(create_help);
  std::set<std::string> out;
  for (const auto& [name, info] : run.flags())
    if (!create.find(name)) out.insert(name);
  return out;
}

std::set<std::string> default_run_only_flags(CliFlavor flavor) {
  std::set<std::string> out{"detach", "detach-keys", "sig-proxy"};
  if (flavor == CliFlavor::podman) out.insert({"passwd", "preserve-fds", "rmi"});
  return out;
}

std::vector<std::string> to_create_argv(const DockerRun& run, const std::set<std::string>& run_only) {
  std::vector<bool> drop(run.options.size(), false);
  std::vector<std::optional<std::string>> rewritten(run.options.size());
  for (size_t t = 0; t < run.options.size(); ++t) {
    std::string cluster = "-";
    bool any_flag = false, any_dropped = false;
    for (const auto& f : run.flags) {
      if (f.token != t) continue;
      any_flag = true;
      if (run_only.count(f.name)) {
        any_dropped = true;
        if (f.value_in_next && t + 1 < drop.size()) drop[t + 1] = true;
      } else if (f.shorthand) {
        cluster += f.part;
      }
    }
    if (!any_flag || !any_dropped) continue;
    // A long flag is one element: dropped whole. A cluster keeps the letters
    // (and attached value) of the flags that stay.
    if (cluster == "-" || !run.options[t].starts_with("-") || run.options[t].starts_with("--"))
      drop[t] = true;
    else
      rewritten[t] = cluster;
  }
  std::vector<std::string> out{run.cli};
  out.insert(out.end(), run.command.begin(), run.command.end());
  out.back() = "create";
  for (size_t t = 0; t < run.options.size(); ++t) {
    if (drop[t]) continue;
    out.push_back(rewritten[t] ? *rewritten[t] : run.options[t]);
  }
  out.push_back(run.image);
  out.insert(out.end(), run.args.begin(), run.args.end());
  return out;
}

std::vector<std::string> to_create_argv(const DockerRun& run) {
  return to_create_argv(run, default_run_only_flags(run.flavor));
}

std::vector<std::string> with_security_opt(const std::vector<std::string>& argv, const std::string& opt) {
  return with_flag(argv, "--security-opt", opt);
}

std::vector<std::string> with_flag(const std::vector<std::string>& argv, const std::string& flag,
                                   const std::string& value) {
  size_t cmd = command_index(argv, true);
  if (cmd == 0) fail(ErrorKind::usage, "expected a `run` or `create` command line to add {} to", flag);
  std::vector<std::string> out(argv.begin(), argv.begin() + static_cast<long>(cmd) + 1);
  out.push_back(flag);
  out.push_back(value);
  out.insert(out.end(), argv.begin() + static_cast<long>(cmd) + 1, argv.end());
  return out;
}

std::string create_error_line(const std::string& err, const std::string& image) {
  std::vector<std::string> lines;
  bool not_local = false;
  size_t from = 0;
  while (from < err.size()) {
    size_t nl = err.find('\n', from);
    std::string l = err.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    from = nl == std::string::npos ? err.size() : nl + 1;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.pop_back();
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.erase(0, 1);
    if (l.empty() || l.find("--help") != std::string::npos) continue;
    for (std::string_view prefix : {"docker: ", "podman: ", "Error: "})
      if (l.rfind(prefix, 0) == 0) l.erase(0, prefix.size());
    if (l.rfind("Unable to find image", 0) == 0 || l.rfind("Trying to pull", 0) == 0) {
      not_local = true;
      continue;
    }
    lines.push_back(l);
  }
  std::string why = lines.empty() ? "no error message" : lines.back();
  if (not_local) return fmt::format("image {} is not here and could not be pulled: {}", image, why);
  return why;
}

}  // namespace sctrace::container
