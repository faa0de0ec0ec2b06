// `sctrace run --backend notify -- podman run ...`: the container runs under
// a recording profile whose allowed syscalls are all SCMP_ACT_NOTIFY, with
// listenerPath pointing at sctrace's seccomp agent (tracer/container/
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
// - The template's defaultAction and its non-allow rules are kept: what the
//   template denies stays denied while recording.
// - Docker cannot do this: Docker 20.10 drops listenerPath and the container
//   hangs on its first notified syscall (shared/reference/README.md).
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdio>

#include "cli/backend.h"
#include "cli/commands.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/summary.h"
#include "profile/minimizer.h"
#include "profile/recorder.h"
#include "profile/templates.h"
#include "tracer/child_process.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/listener.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tracer/recording_sink.h"

namespace sctrace::cli {

namespace {

constexpr const char* kAllow = "SCMP_ACT_ALLOW";
constexpr const char* kNotify = "SCMP_ACT_NOTIFY";
// After podman exits, how long the processes still holding the container's
// filter (there should be none for a batch container) are served.
constexpr std::chrono::milliseconds kAgentGrace{3000};
// podman in this kind of VM fails to start containers with the host's
// (unlimited) limits; these are what it needs.
const std::vector<std::string> kDefaultUlimits = {"--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"};

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
    bool has_write = false;
    for (const auto& n : r.names) {
      if (n == "write") has_write = true;
      else notify.names.push_back(n);
    }
    if (has_write) {
      SyscallRule w = r;
      w.names = {"write"};
      out.push_back(std::move(w));
    }
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

class RecordAll : public NotifyHandler {
 public:
  explicit RecordAll(RecordingSink& sink) : sink_(sink) {}
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    sink_.on_syscall(ev);
    return {true, 0};
  }

 private:
  RecordingSink& sink_;
};

std::string parent_dir(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Removes a file when leaving scope (the profile sits in the agent's private
// directory, which is removed after it).
struct FileGuard {
  std::string path;
  ~FileGuard() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

}  // namespace

int cmd_run_podman(const Options& o, const SeccompProfile& tmpl) {
  if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
    fail(ErrorKind::usage, "backend notify with podman records batch containers only (no probes yet); "
                           "use the default backend for services");
  check_writable(o.output);
  if (!o.recording.empty()) check_writable(o.recording);
  container::DockerRun run = container::parse_docker_run(o.workload);
  if (run.detach) fail(ErrorKind::usage, "backend notify with podman: -d/--detach is not supported (batch containers)");
  if (run.privileged) fail(ErrorKind::usage, "backend notify with podman: --privileged disables seccomp");
  for (const auto& s : run.security_opts)
    if (s.rfind("seccomp", 0) == 0)
      fail(ErrorKind::usage, "backend notify with podman: drop --security-opt {} (sctrace sets the profile)", s);
  if (!probe_notify_caps().flag_continue)
    fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");

  container::SeccompAgent agent;
  FileGuard profile_file{parent_dir(agent.socket_path()) + "/recording-profile.json"};
  write_file_atomic(profile_file.path, to_docker_json(recording_profile(tmpl, agent.socket_path())));

  std::vector<std::string> argv = {run.cli};
  argv.insert(argv.end(), run.command.begin(), run.command.end());
  argv.push_back("--security-opt");
  argv.push_back("seccomp=" + profile_file.path);
  if (!run.has("ulimit")) argv.insert(argv.end(), kDefaultUlimits.begin(), kDefaultUlimits.end());
  argv.insert(argv.end(), run.options.begin(), run.options.end());
  argv.push_back(run.image);
  argv.insert(argv.end(), run.args.begin(), run.args.end());

  Recording rec;
  rec.backend = "notify";
  rec.commands = {o.workload};
  RecordingSink sink(rec);
  RecordAll handler(sink);
  say(fmt::format("backend notify (seccomp agent at {}; runc's own syscalls after its filter are recorded)",
                  agent.socket_path()));
  agent.start(handler);

  install_interrupt_handlers();
  ChildProcess child = ChildProcess::spawn(argv, ChildOptions{});
  // podman run proxies signals to the container (--sig-proxy): the first
  // interrupt is passed on, the second kills podman (the container's processes
  // then go with conmon's cleanup).
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto limit = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  bool timed_out = false;
  int acted = 0;
  int status = 0;
  for (;;) {
    pollfd p{child.pidfd(), POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) {
      status = child.wait();
      break;
    }
    const int n = interrupt_count();
    if (n > acted) {
      ::syscall(SYS_pidfd_send_signal, child.pidfd(), n >= 2 ? SIGKILL : last_interrupt_signal(), nullptr, 0);
      acted = n;
    }
    if (limit.count() > 0 && !timed_out && Clock::now() - start >= limit) {
      timed_out = true;
      ::syscall(SYS_pidfd_send_signal, child.pidfd(), SIGTERM, nullptr, 0);
    }
  }
  const bool all_gone = agent.stop(kAgentGrace);
  for (const auto& e : agent.errors()) say("seccomp agent: " + e);

  const int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  if (agent.connections().empty())
    fail(ErrorKind::runtime, "{} exited with {} without starting a container under the recording profile "
                             "(the runtime never connected to the seccomp agent)", run.cli, code);

  // Never observable (see the top of this file); runc and every program use it.
  SyscallEvent w;
  w.audit_arch = arch::native();
  w.nr = static_cast<int32_t>(*arch::syscall_nr(arch::native(), "write"));
  sink.on_syscall(w);

  rec.complete = interrupt_count() == 0 && !timed_out && all_gone && agent.errors().empty();
  if (!o.recording.empty()) write_file_atomic(o.recording, recording_to_json(rec));
  MinimizeOptions mopts;
  mopts.no_new_privileges = o.no_new_privileges;
  for (const auto& s : run.security_opts)
    if (s == "no-new-privileges" || s == "no-new-privileges:true" || s == "no-new-privileges=true")
      mopts.no_new_privileges = true;
  // runc's part was recorded: no baseline to add.
  mopts.add_runtime_baseline = false;
  std::set<std::string> caps = docker_default_caps();
  auto norm = [](std::string c) {
    for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
  };
  for (const auto& c : run.cap_drop) {
    if (norm(c) == "CAP_ALL") caps.clear();
    else caps.erase(norm(c));
  }
  for (const auto& c : run.cap_add) caps.insert(norm(c));
  mopts.ctx.caps = caps;
  MinimizeResult m = minimize(rec, tmpl, mopts);
  write_file_atomic(o.output, to_docker_json(m.profile));

  say(fmt::format("recorded {} notifications from {} container start{} ('write' added: runc cannot notify it)",
                  agent.notifications(), agent.connections().size(), agent.connections().size() == 1 ? "" : "s"));
  std::fputs(summary_text(m).c_str(), stderr);
  if (!all_gone) say("processes still held the recording filter after podman exited; the recording may miss their end");
  if (timed_out) say(fmt::format("podman was stopped at the --timeout of {} s", o.timeout_sec));
  say(fmt::format("wrote {}{}{}", o.output, o.recording.empty() ? "" : " and " + o.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  if (timed_out) return 124;
  return code;
}

}  // namespace sctrace::cli
