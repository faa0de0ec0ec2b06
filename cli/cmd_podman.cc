// `sctrace run --backend notify -- podman run ...` (and docker, where the
// engine passes listenerPath; and `runc run` on a bundle): the container runs
// under a recording profile whose allowed syscalls are all SCMP_ACT_NOTIFY,
// with listenerPath pointing at sctrace's seccomp agent (tracer/container/
// listener.h). runc hands the listener over and every notified syscall is
// recorded and let through. No sensor, no ptrace, no image change: and the
// recording starts where the filter does, inside runc, so runc's own syscalls
// after the filter (capset, setgroups, prctl, ...) are measured rather than
// taken from templates/runtime-baseline.json.
//
// Limits, by design of the protocol rather than of sctrace:
// - `write` stays SCMP_ACT_ALLOW: runc refuses SCMP_ACT_NOTIFY for it (it
//   needs write to hand the listener over) so it is never seen; it is recorded
//   as always present.
// - `rt_sigreturn` and `restart_syscall` stay SCMP_ACT_ALLOW too: runc's
//   init is a Go program whose threads take signals (asynchronous preemption)
//   at any moment, also between loading the filter and handing the listener
//   to its parent; a notified rt_sigreturn on the thread that is about to
//   hand it over blocks that thread forever (seen here once in about a
//   dozen starts). Both are in every profile anyway (errno-policy always_allow).
// - The template's defaultAction and its non-allow rules are kept: what the
//   template denies stays denied while recording. A template whose default is
//   SCMP_ACT_ALLOW cannot be used (runc refuses NOTIFY as the default).
// - Docker 20.10 drops listenerPath and the container hangs on its first
//   notified syscall (cli/backend.h checks the engine first; a runtime that
//   never connects is also caught by a watchdog here).
//
// Services: with probes (--http-probe, --wait-port, ...) or -d, the container
// ID comes from a --cidfile sctrace adds, the probe target from
// `<cli> inspect`, and the container is stopped with `<cli> stop` (SIGTERM,
// then SIGKILL after 10 s) once the probes are done, so the shutdown path is
// recorded too. The container is removed at the end whatever --rm said: its
// configuration names the recording profile's socket, which is gone.
//
// runc bundles: the bundle is not changed. sctrace writes a copy of its
// config.json into a private directory (root.path made absolute so the
// rootfs is used in place, linux.seccomp replaced by the recording profile in
// OCI form) and points `runc run --bundle` there.
//
// `sctrace check --profile P -- podman|runc run ...` (cli/cmd_check.cc) runs
// the same way (cli/podman.h: prepare_agent_workload, run_with_agent) with
// another profile, check_runtime_profile(P): what P allows whatever the
// arguments stays SCMP_ACT_ALLOW in the kernel and never wakes sctrace; every
// other syscall libseccomp knows on P's arches is named SCMP_ACT_NOTIFY
// (NOTIFY cannot be the default), and the agent runs P's compiled watch
// program on each notification to tell a conditional allow (clone's flags,
// personality's persona) or P's designed errno from a violation. `write`,
// `rt_sigreturn` and `restart_syscall` stay allowed for the reasons above,
// so they cannot be watched when P does not allow them.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <seccomp.h>
#include <set>
#include <thread>

#include "advice/container_config.h"
#include "session/workload.h"
#include "cli/commands.h"
#include "cli/podman.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "core/unique_fd.h"
#include "profile/emit/formats.h"
#include "profile/emit/summary.h"
#include "core/redact.h"
#include "profile/minimizer.h"
#include "profile/recorder.h"
#include "profile/templates.h"
#include "session/recording_sink.h"
#include "tracer/child_process.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/listener.h"
#include "tracer/container/session.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tracer/probes.h"

namespace sctrace::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kAllow = "SCMP_ACT_ALLOW";
constexpr const char* kNotify = "SCMP_ACT_NOTIFY";
// After the container is gone, how long the processes still holding its
// filter (there should be none) are served.
constexpr std::chrono::milliseconds kAgentGrace{3000};
// Once the runtime has created the container (the cidfile is written), it
// connects to the agent within milliseconds; an engine that dropped
// listenerPath never does, and the container hangs instead.
constexpr std::chrono::seconds kConnectTimeout{30};
// podman in this kind of VM fails to start containers with the host's
// (unlimited) limits; these are what it needs.
const std::vector<std::string> kDefaultUlimits = {"--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"};

std::string parent_dir(const std::string& path) { return path.substr(0, path.rfind('/')); }

int pidfd_signal(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The container's privileges as the line configures them
// (advice/container_config.h). podman reads --cap-add/--cap-drop as
// comma-separated lists, docker each value as one name.
ContainerConfig config_of(const container::DockerRun& run) {
  ContainerFlags f{run.cap_add, run.cap_drop, run.privileged, run.security_opts};
  if (run.flavor == container::CliFlavor::podman)
    for (auto* list : {&f.cap_add, &f.cap_drop}) {
      std::vector<std::string> split;
      for (const auto& v : *list)
        for (size_t start = 0, end = 0; end != std::string::npos; start = end + 1) {
          end = v.find(',', start);
          if (end != start) split.push_back(v.substr(start, end - start));
        }
      *list = std::move(split);
    }
  return container_config(f);
}

// Never observable (see the top of this file); runc and every program use it.
void add_write(RecordingSink& sink) {
  SyscallEvent w;
  w.audit_arch = arch::native();
  w.nr = static_cast<int32_t>(*arch::syscall_nr(arch::native(), "write"));
  sink.on_syscall(w);
}

// Minimize and write the outputs. runc's part is in the recording, and the
// runtime baseline is still added: Go's scheduler calls (nanosleep,
// sched_yield, tgkill...) depend on timing, so one start may not make them
// and the next one would break.
RunOutputs write_outputs(const Options& o, Recording& rec, const SeccompProfile& tmpl, MinimizeOptions mopts) {
  const RunOutputs out = run_outputs(o, rec.complete);
  if (!out.recording.empty()) write_file_atomic(out.recording, recording_to_json(rec));
  MinimizeResult m = minimize(rec, tmpl, mopts);
  for (const auto& note : write_profile(m.profile, mopts.ctx, o.format, out.output)) say(note);
  std::fputs(summary_text(m).c_str(), stderr);
  return out;
}

// The whole `<cli> run` under the recording profile: spawn, find the
// container, probe, stop, wait, remove.
class NotifyContainerRun {
 public:
  NotifyContainerRun(const Options& o, const container::DockerRun& run, const std::string& profile_path,
                     const std::string& work_dir, container::SeccompAgent& agent)
      : o_(o), run_(run), agent_(agent) {
    service_ = !o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0;
    if (run.cidfile) {
      cidfile_ = *run.cidfile;
    } else {
      cidfile_ = work_dir + "/cid";
    }
    argv_ = {run.cli};
    argv_.insert(argv_.end(), run.command.begin(), run.command.end());
    if (!run.cidfile) {
      argv_.push_back("--cidfile");
      argv_.push_back(cidfile_);
    }
    argv_.push_back("--security-opt");
    argv_.push_back("seccomp=" + profile_path);
    if (run.flavor == container::CliFlavor::podman && !run.has("ulimit"))
      argv_.insert(argv_.end(), kDefaultUlimits.begin(), kDefaultUlimits.end());
    // -d --rm: the engine would remove the container the moment it exits,
    // exit code and all (a failing container then passed verify); sctrace
    // removes it itself (remove()) once it has read that code.
    for (const auto& t : run.options)
      if (!(run.detach && (t == "--rm" || t.rfind("--rm=", 0) == 0))) argv_.push_back(t);
    argv_.push_back(run.image);
    argv_.insert(argv_.end(), run.args.begin(), run.args.end());
  }

  // Returns the shell-like exit code of the run.
  int execute() {
    install_interrupt_handlers();
    const auto start = Clock::now();
    const auto limit = std::chrono::milliseconds(static_cast<int64_t>(o_.timeout_sec * 1000));
    ChildProcess child = ChildProcess::spawn(argv_, ChildOptions{});
    std::optional<int> run_status;   // of `<cli> run`
    std::optional<Clock::time_point> created_at;
    int acted = 0;
    bool probed = false;
    bool stop_sent = false;
    for (;;) {
      if (!run_status) {
        pollfd p{child.pidfd(), POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) run_status = child.wait();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (id_.empty()) read_cid();
      if (!id_.empty() && !created_at) created_at = Clock::now();

      const int n = interrupt_count();
      if (n > acted) {
        acted = n;
        interrupted_ = true;
        if (n >= 2) {
          if (!run_status) pidfd_signal(child.pidfd(), SIGKILL);
          if (!id_.empty()) container::run_capture({run_.cli, "kill", id_});
        } else if (!id_.empty()) {
          stop_container();
          stop_sent = true;
        } else if (!run_status) {
          pidfd_signal(child.pidfd(), last_interrupt_signal());
        }
      }
      if (limit.count() > 0 && !timed_out_ && Clock::now() - start >= limit) {
        timed_out_ = true;
        if (!id_.empty()) stop_container();
        else if (!run_status) pidfd_signal(child.pidfd(), SIGTERM);
        stop_sent = true;
      }
      if (created_at && agent_.connected() == 0 && Clock::now() - *created_at > kConnectTimeout) {
        if (!run_status) pidfd_signal(child.pidfd(), SIGKILL);
        container::run_capture({run_.cli, "rm", "-f", id_});
        fail(ErrorKind::runtime,
             "the runtime never connected to the seccomp agent within {} s of creating the container: the engine "
             "dropped listenerPath, or runc blocked on a notification before handing the listener over "
             "(use --backend ptrace)",
             kConnectTimeout.count());
      }

      // -d: `run` returns once the container started; it is watched by ID.
      if (run_status && (!run_.detach || shell_code(*run_status) != 0 || id_.empty())) break;
      if (service_ && !probed && !id_.empty() && agent_.connected() > 0 && !interrupted_ && !timed_out_) {
        probed = true;
        run_probes();
        if (!stop_sent) {
          stop_container();
          stop_sent = true;
        }
      }
      if (run_status && !running()) break;
    }
    if (run_.detach && run_status && shell_code(*run_status) == 0 && !id_.empty()) {
      std::string code = trimmed(container::run_capture({run_.cli, "inspect", "--format", "{{.State.ExitCode}}", id_}).out);
      return code.empty() ? 0 : std::atoi(code.c_str());
    }
    return run_status ? shell_code(*run_status) : 1;
  }

  void remove() {
    if (!id_.empty()) container::run_capture({run_.cli, "rm", "-f", id_});
  }

  bool interrupted() const { return interrupted_; }
  bool timed_out() const { return timed_out_; }
  bool probes_ok() const { return probes_ok_; }
  const std::vector<std::string>& probe_failures() const { return probe_failures_; }

 private:
  void read_cid() {
    std::error_code ec;
    if (!fs::exists(cidfile_, ec)) return;
    try {
      id_ = trimmed(read_file(cidfile_));
    } catch (const Error&) {
    }
  }

  json inspect() {
    container::Captured r = container::run_capture({run_.cli, "inspect", "--type", "container", id_});
    json j = json::parse(r.out, nullptr, false);
    if (j.is_array() && !j.empty()) return j[0];
    return json::object();
  }

  bool running() {
    container::Captured r = container::run_capture({run_.cli, "inspect", "--format", "{{.State.Running}}", id_});
    return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && trimmed(r.out) == "true";
  }

  void stop_container() { container::run_capture({run_.cli, "stop", "-t", "10", id_}); }

  void fail_probe(std::string what) {
    probes_ok_ = false;
    probe_failures_.push_back(std::move(what));
  }

  bool cancelled() { return interrupt_count() > 0 || timed_out_now(); }
  bool timed_out_now() {
    if (o_.timeout_sec <= 0) return false;
    return Clock::now() - start_ > std::chrono::milliseconds(static_cast<int64_t>(o_.timeout_sec * 1000));
  }

  // Ports first (readiness), then the probes in the order given, then
  // --duration; the same order as Docker mode (tracer/container/session.cc).
  void run_probes() {
    std::vector<ProbeSpec> probes;
    for (const auto& p : o_.probes) {
      if (p.kind == "http") probes.push_back(parse_http_probe(p.text));
      else if (p.kind == "cmd") probes.push_back(parse_probe_cmd(p.text));
      else probes.push_back(parse_exec_probe(p.text));
    }
    std::vector<int> ports;
    for (const auto& w : o_.wait_ports) ports.push_back(parse_wait_port(w).port);
    for (const auto& p : probes)
      if (p.kind == ProbeKind::http) ports.push_back(p.port);

    ProbeTarget target = probe_target_from_inspect(inspect());
    target.container_id = id_;
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.ready_timeout_sec * 1000));
    for (int port : ports) {
      if (!wait_port(target, port, deadline, [&] { return cancelled(); })) {
        if (cancelled()) return;
        fail_probe(running() ? fmt::format("port {} not ready after {} s", port, o_.ready_timeout_sec)
                             : fmt::format("the container exited before port {} was ready", port));
        return;
      }
    }
    for (const auto& p : probes) {
      if (cancelled()) return;
      ProbeResult r;
      switch (p.kind) {
        case ProbeKind::http: r = run_http_probe(p, target); break;
        case ProbeKind::cmd:
          r = run_cmd_probe(p.command, target, std::chrono::seconds(60), [&] { return interrupt_count() > 0; });
          break;
        case ProbeKind::exec: {
          // The exec'd process gets the container's filter: runc connects to
          // the agent again and it is recorded like the rest.
          std::vector<std::string> argv = {run_.cli, "exec", id_};
          argv.insert(argv.end(), p.argv.begin(), p.argv.end());
          ChildProcess c = ChildProcess::spawn(argv, ChildOptions{});
          int st = c.wait();
          r.ok = shell_code(st) == 0;
          r.code = shell_code(st);
          if (!r.ok) r.detail = fmt::format("exit status {}", r.code);
          break;
        }
        case ProbeKind::wait_port: r.ok = true; break;
      }
      if (r.cancelled) return;
      say(fmt::format("probe {}: {}{}{}", p.text, r.ok ? "ok" : "FAILED", r.detail.empty() ? "" : " - ", r.detail));
      if (!r.ok) {
        fail_probe(fmt::format("probe {} failed: {}", p.text, r.detail));
        return;
      }
    }
    auto until = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.duration_sec * 1000));
    while (Clock::now() < until && !cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  const Options& o_;
  const container::DockerRun& run_;
  container::SeccompAgent& agent_;
  std::vector<std::string> argv_;
  std::string cidfile_;
  std::string id_;
  bool service_ = false;
  bool interrupted_ = false;
  bool timed_out_ = false;
  bool probes_ok_ = true;
  std::vector<std::string> probe_failures_;
  Clock::time_point start_ = Clock::now();
};

// Removes a file when leaving scope (the profile sits in the agent's private
// directory, which is removed after it).
struct FileGuard {
  std::string path;
  ~FileGuard() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

struct TreeGuard {
  std::string path;
  ~TreeGuard() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

}  // namespace

// The template with every allow rule turned into notify, except for `write`
// (see the top of this file), which keeps its own allow rule with the same
// conditions.
SeccompProfile recording_profile(const SeccompProfile& tmpl, const std::string& listener_path) {
  SeccompProfile p = tmpl;
  if (p.default_action == kAllow)
    fail(ErrorKind::input, "backend notify: the template's defaultAction is SCMP_ACT_ALLOW, which runc cannot notify "
                           "(use a template that lists what it allows)");
  std::vector<SyscallRule> out;
  for (const SyscallRule& r : p.syscalls) {
    if (r.action != kAllow) {
      out.push_back(r);
      continue;
    }
    SyscallRule notify = r;
    notify.names.clear();
    SyscallRule keep = r;
    keep.names.clear();
    for (const auto& n : r.names) {
      if (n == "write" || n == "rt_sigreturn" || n == "restart_syscall") keep.names.push_back(n);
      else notify.names.push_back(n);
    }
    if (!keep.names.empty()) out.push_back(std::move(keep));
    if (!notify.names.empty()) {
      notify.action = kNotify;
      out.push_back(std::move(notify));
    }
  }
  p.syscalls = std::move(out);
  p.listener_path = listener_path;
  p.listener_metadata = "sctrace";
  return p;
}

// ---- runc run -------------------------------------------------------------

bool is_runc_line(const std::vector<std::string>& argv) {
  if (argv.size() < 2) return false;
  std::string base = fs::path(argv[0]).filename().string();
  if (base != "runc" && base != "crun") return false;
  return std::find(argv.begin() + 1, argv.end(), "run") != argv.end();
}

namespace {

// runc's global options that take a value (runc --help).
bool runc_global_takes_value(const std::string& a) {
  return a == "--root" || a == "--log" || a == "--log-format" || a == "--criu";
}

struct RuncLine {
  size_t run_index = 0;                 // of "run"
  std::optional<size_t> bundle_value;   // index of the bundle path
  std::optional<size_t> bundle_inline;  // index of "--bundle=PATH" / "-b=PATH"
  std::string bundle = ".";
  bool detach = false;
};

RuncLine parse_runc_line(const std::vector<std::string>& argv) {
  RuncLine l;
  size_t i = 1;
  for (; i < argv.size() && argv[i] != "run"; ++i)
    if (runc_global_takes_value(argv[i])) ++i;
  if (i >= argv.size()) fail(ErrorKind::usage, "runc: no 'run' command on the line");
  l.run_index = i;
  for (size_t j = i + 1; j < argv.size(); ++j) {
    const std::string& a = argv[j];
    if (a == "-b" || a == "--bundle") {
      if (j + 1 >= argv.size()) fail(ErrorKind::usage, "runc run: {} needs a value", a);
      l.bundle_value = j + 1;
      l.bundle = argv[++j];
    } else if (a.rfind("--bundle=", 0) == 0 || a.rfind("-b=", 0) == 0) {
      l.bundle_inline = j;
      l.bundle = a.substr(a.find('=') + 1);
    } else if (a == "-d" || a == "--detach") {
      l.detach = true;
    } else if (a == "--console-socket" || a == "--pid-file" || a == "--preserve-fds") {
      ++j;
    }
  }
  return l;
}

// `runc run` on a private copy of the bundle's config.json whose
// linux.seccomp is `profile`; waits for it, forwarding interrupts (runc run
// passes signals on to the container's init) and stopping it at --timeout.
AgentRunResult run_runc(const Options& o, const AgentWorkload& w, const SeccompProfile& profile,
                        const std::string& work_dir) {
  TreeGuard copy{work_dir + "/bundle"};
  if (::mkdir(copy.path.c_str(), 0700) != 0) fail_errno(ErrorKind::io, errno, "mkdir " + copy.path);
  json config = w.config;
  std::string root = config.value("root", json::object()).value("path", std::string("rootfs"));
  if (!fs::path(root).is_absolute()) config["root"]["path"] = (fs::path(w.bundle) / root).lexically_normal().string();
  if (!config.contains("linux") || !config["linux"].is_object()) config["linux"] = json::object();
  config["linux"]["seccomp"] = json(to_oci_seccomp(profile, w.ctx));
  write_file_atomic(copy.path + "/config.json", config.dump(2) + "\n");

  const RuncLine line = parse_runc_line(o.workload);
  std::vector<std::string> argv = o.workload;
  if (line.bundle_value) argv[*line.bundle_value] = copy.path;
  else if (line.bundle_inline) argv[*line.bundle_inline] = "--bundle=" + copy.path;
  else argv.insert(argv.begin() + static_cast<long>(line.run_index) + 1, {"--bundle", copy.path});

  install_interrupt_handlers();
  ChildProcess child = ChildProcess::spawn(argv, ChildOptions{});
  const auto start = Clock::now();
  const auto limit = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  AgentRunResult res;
  int acted = 0;
  int status = 0;
  for (;;) {
    pollfd p{child.pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      status = child.wait();
      break;
    }
    const int n = interrupt_count();
    if (n > acted) {
      pidfd_signal(child.pidfd(), n >= 2 ? SIGKILL : last_interrupt_signal());
      acted = n;
    }
    if (limit.count() > 0 && !res.timed_out && Clock::now() - start >= limit) {
      res.timed_out = true;
      pidfd_signal(child.pidfd(), SIGTERM);
    }
  }
  res.exit_code = shell_code(status);
  res.interrupted = interrupt_count() > 0;
  return res;
}

// What `sctrace run` does with an agent workload: record every notification.
int record_with_agent(const Options& o, const SeccompProfile& tmpl, const AgentWorkload& w,
                      std::function<std::string(const std::string&)> backend_line) {
  for (const auto& p : profile_paths(o.format, o.output)) check_writable(p);
  if (!o.recording.empty()) check_writable(o.recording);

  Recording rec;
  rec.backend = "notify";
  rec.commands = {without_secrets(o.workload)};
  RecordingSink sink(rec);
  RecordAll handler(sink);
  AgentRunSpec spec;
  spec.profile_name = "recording profile";
  spec.profile = [&](const std::string& listener) { return recording_profile(tmpl, listener); };
  spec.backend_line = std::move(backend_line);
  const AgentRunResult res = run_with_agent(o, w, spec, handler, &sink);
  add_write(sink);

  rec.complete = !res.interrupted && !res.timed_out && res.all_gone && res.agent_errors.empty() && res.probes_ok;
  MinimizeOptions mopts;
  mopts.no_new_privileges = w.no_new_privileges;
  mopts.ctx = w.ctx;
  const RunOutputs out = write_outputs(o, rec, tmpl, mopts);

  say(fmt::format("recorded {} notifications from {} container process{} ('write' added: runc cannot notify it)",
                  res.notifications, res.container_processes, res.container_processes == 1 ? "" : "es"));
  for (const auto& f : res.probe_failures) say(f);
  if (!res.all_gone)
    say("processes still held the recording filter after the container stopped; the recording may miss their end");
  if (res.timed_out) say(fmt::format("the container was stopped at the --timeout of {} s", o.timeout_sec));
  if (res.interrupted) say("interrupted: the container was stopped and removed; the profile is incomplete");
  say(fmt::format("wrote {}{}{}", out.output, out.recording.empty() ? "" : " and " + out.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  return exit_code_of({.workload_code = res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                       .interrupt_signal = last_interrupt_signal(), .probes_failed = !res.probes_ok});
}

// Every syscall name libseccomp knows on `arches`. libseccomp cannot list
// them, so numbers are tried: 0..kMaxNr covers every arch's table (mips
// numbers its ABIs from 4000, 5000 and 6000); x32's carry bit 30.
constexpr int kMaxNr = 8192;
std::set<std::string> known_names(const std::vector<arch::Token>& arches) {
  std::set<std::string> out;
  for (arch::Token t : arches) {
    std::vector<int> bases = {0};
    if (t == SCMP_ARCH_X32) bases.push_back(static_cast<int>(arch::kX32SyscallBit));
    for (int base : bases)
      for (int nr = 0; nr < kMaxNr; ++nr)
        if (auto n = arch::syscall_name(t, base + nr)) out.insert(*n);
  }
  return out;
}

}  // namespace

SeccompProfile check_runtime_profile(const SeccompProfile& p, const EvalContext& ctx, const std::string& listener_path,
                                     std::vector<std::string>* unwatchable) {
  auto runs = [](const std::string& action) { return action == kAllow || action == "SCMP_ACT_LOG"; };
  // name -> whether every rule that names it (for this container) allows it
  // whatever its arguments. A name with any other rule (conditions, errno,
  // kill, trace) is notified and the watch program decides, exactly as the
  // compiled P would.
  std::map<std::string, bool> plain;
  for (const SyscallRule& r : p.syscalls) {
    if (!rule_applies(r, ctx)) continue;
    const bool allow = runs(r.action) && r.args.empty();
    for (const auto& n : r.names) {
      auto [it, fresh] = plain.try_emplace(n, allow);
      if (!fresh) it->second = it->second && allow;
    }
  }
  auto unconditional = [&](const std::string& name) {
    auto it = plain.find(name);
    return it == plain.end() ? runs(p.default_action) : it->second;
  };

  const std::vector<arch::Token> arches = profile_arches(p, ctx);
  const std::vector<std::string> handover = {"write", "rt_sigreturn", "restart_syscall"};
  SyscallRule allow;
  allow.action = kAllow;
  allow.comment = "allowed by the checked profile whatever the arguments (and runc's listener hand-over)";
  SyscallRule notify;
  notify.action = kNotify;
  notify.comment = "judged by sctrace's seccomp agent with the checked profile's watch program";
  for (const std::string& name : known_names(arches)) {
    const bool kept = std::find(handover.begin(), handover.end(), name) != handover.end();
    if (kept) {
      allow.names.push_back(name);
      if (!unconditional(name) && unwatchable) unwatchable->push_back(name);
    } else if (unconditional(name)) {
      // With an allowing default the name is not listed at all: the default
      // lets it run (runc would skip a rule equal to the default anyway).
      if (plain.count(name)) allow.names.push_back(name);
    } else {
      notify.names.push_back(name);
    }
  }

  SeccompProfile out;
  out.default_action = p.default_action;
  out.default_errno_ret = p.default_errno_ret;
  for (arch::Token t : arches) out.architectures.push_back(arch::scmp_name(t));
  out.flags = p.flags;
  if (!allow.names.empty()) out.syscalls.push_back(std::move(allow));
  if (!notify.names.empty()) out.syscalls.push_back(std::move(notify));
  out.listener_path = listener_path;
  out.listener_metadata = "sctrace";
  return out;
}

AgentWorkload prepare_agent_workload(const Options& o) {
  AgentWorkload w;
  w.ctx = EvalContext::docker_default();
  if (is_runc_line(o.workload)) {
    w.runc = true;
    if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
      fail(ErrorKind::usage, "runc run: probes are not supported (batch containers only)");
    const RuncLine line = parse_runc_line(o.workload);
    if (line.detach) fail(ErrorKind::usage, "runc run: --detach is not supported (sctrace waits for the container)");
    w.bundle = fs::absolute(line.bundle).lexically_normal().string();
    const std::string config_path = (fs::path(w.bundle) / "config.json").string();
    w.config = json::parse(read_file(config_path), nullptr, false);
    if (!w.config.is_object()) fail(ErrorKind::input, "{}: not a JSON object", config_path);
    // What the container runs with, for the profile's includes/excludes.
    const ContainerConfig config = container_config_from_oci(w.config);
    w.ctx.caps = config.caps;
    w.no_new_privileges = config.no_new_privileges || o.no_new_privileges;
  } else {
    w.run = container::parse_docker_run(o.workload);
    if (w.run.privileged) fail(ErrorKind::usage, "backend notify: --privileged disables seccomp");
    for (const auto& s : w.run.security_opts) {
      if (s.rfind("seccomp", 0) == 0)
        fail(ErrorKind::usage, "backend notify: drop --security-opt {} (sctrace sets the profile)", s);
    }
    const ContainerConfig config = config_of(w.run);
    w.ctx.caps = config.caps;
    w.no_new_privileges = config.no_new_privileges || o.no_new_privileges;
    // Parse the probes before anything starts.
    for (const auto& p : o.probes) {
      if (p.kind == "http") parse_http_probe(p.text);
      else if (p.kind == "cmd") parse_probe_cmd(p.text);
      else parse_exec_probe(p.text);
    }
    for (const auto& wp : o.wait_ports) parse_wait_port(wp);
  }
  if (!probe_notify_caps().flag_continue)
    fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
  return w;
}

AgentRunResult run_with_agent(const Options& o, const AgentWorkload& w, const AgentRunSpec& spec,
                              NotifyHandler& handler, EventSink* process_events) {
  container::SeccompAgent agent;
  const std::string work_dir = parent_dir(agent.socket_path());
  const SeccompProfile profile = spec.profile(agent.socket_path());
  say(spec.backend_line(agent.socket_path()));
  agent.start(handler, process_events);

  AgentRunResult res;
  if (w.runc) {
    res = run_runc(o, w, profile, work_dir);
  } else {
    FileGuard profile_file{work_dir + "/profile.json"};
    FileGuard cid_file{work_dir + "/cid"};
    write_file_atomic(profile_file.path, to_docker_json(profile));
    NotifyContainerRun session(o, w.run, profile_file.path, work_dir, agent);
    try {
      res.exit_code = session.execute();
    } catch (...) {
      session.remove();
      throw;
    }
    session.remove();
    res.interrupted = session.interrupted();
    res.timed_out = session.timed_out();
    res.probes_ok = session.probes_ok();
    res.probe_failures = session.probe_failures();
  }
  res.all_gone = agent.stop(kAgentGrace);
  for (const auto& e : agent.errors()) say("seccomp agent: " + e);
  res.agent_errors = agent.errors();
  res.notifications = agent.notifications();
  res.container_processes = agent.processes();
  if (agent.connections().empty())
    fail(ErrorKind::runtime, "{} exited with {} without starting a container under the {} (the runtime never "
                             "connected to the seccomp agent)",
         w.runc ? o.workload.at(0) : w.run.cli, res.exit_code, spec.profile_name);
  return res;
}

int cmd_run_notify_container(const Options& o, const SeccompProfile& tmpl, const std::string& why) {
  if (!o.report_json.empty() || !o.sarif.empty() || !o.fail_on.empty() || o.verify_hardening)
    fail(ErrorKind::usage, "the hardening report (--report-json, --sarif, --fail-on, --verify-hardening) comes from "
                           "the sensor's session: docker lines only{}",
         is_podman_line(o.workload) ? "" : " (--backend ptrace)");
  const AgentWorkload w = prepare_agent_workload(o);
  return record_with_agent(o, tmpl, w, [&](const std::string& socket) {
    return fmt::format("backend notify ({}; seccomp agent at {}; runc's own syscalls after its filter are recorded)",
                       why, socket);
  });
}

int cmd_run_runc(const Options& o, const SeccompProfile& tmpl) {
  const AgentWorkload w = prepare_agent_workload(o);
  return record_with_agent(o, tmpl, w, [&](const std::string& socket) {
    return fmt::format("backend notify (runc run with a copy of {}/config.json whose linux.seccomp is the recording "
                       "profile; seccomp agent at {})",
                       w.bundle, socket);
  });
}

}  // namespace sctrace::cli
