#include "session/oci_agent.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include "advice/container_config.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "core/owned_path.h"
#include "profile/emit/formats.h"
#include "session/runc_line.h"
#include "tracer/child_process.h"
#include "tracer/container/listener.h"
#include "tracer/interrupt.h"

namespace sctrace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// After the container is gone, how long the processes still holding its
// filter (there should be none) are served.
constexpr std::chrono::milliseconds kAgentGrace{3000};

std::string parent_dir(const std::string& path) { return path.substr(0, path.rfind('/')); }

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

// `runc run` on a private copy of the bundle's config.json whose
// linux.seccomp is `profile`; waits for it, forwarding interrupts (runc run
// passes signals on to the container's init) and stopping it at the timeout.
AgentRunResult run_runc(const AgentWorkload& w, double timeout_sec, const SeccompProfile& profile,
                        const std::string& work_dir) {
  OwnedPath copy{work_dir + "/bundle"};
  if (::mkdir(copy.path().c_str(), 0700) != 0) fail_errno(ErrorKind::io, errno, "mkdir " + copy.path());
  json config = w.config;
  std::string root = config.value("root", json::object()).value("path", std::string("rootfs"));
  if (!fs::path(root).is_absolute()) config["root"]["path"] = (fs::path(w.bundle) / root).lexically_normal().string();
  if (!config.contains("linux") || !config["linux"].is_object()) config["linux"] = json::object();
  config["linux"]["seccomp"] = json(to_oci_seccomp(profile, w.ctx));
  write_file_atomic(copy.path() + "/config.json", config.dump(2) + "\n");

  const std::vector<std::string> argv = with_bundle(w.argv, parse_runc_line(w.argv), copy.path());

  install_interrupt_handlers();
  ChildProcess child = ChildProcess::spawn(argv, ChildOptions{});
  const auto start = Clock::now();
  const auto limit = std::chrono::milliseconds(static_cast<int64_t>(timeout_sec * 1000));
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
      child.signal(n >= 2 ? SIGKILL : last_interrupt_signal());
      acted = n;
    }
    if (limit.count() > 0 && !res.timed_out && Clock::now() - start >= limit) {
      res.timed_out = true;
      child.signal(SIGTERM);
    }
  }
  res.exit_code = shell_code(status);
  res.interrupted = interrupt_count() > 0;
  return res;
}

// A `<cli> run` line under the profile, in the agent's directory.
AgentRunResult run_cli_line(const AgentWorkload& w, const AgentRunRequest& req, const SeccompProfile& profile,
                            const std::string& work_dir, container::SeccompAgent& agent) {
  OwnedPath profile_file{work_dir + "/profile.json"};
  OwnedPath cid_file{work_dir + "/cid"};
  write_file_atomic(profile_file.path(), to_docker_json(profile));
  // Removed on every way out (its destructor), after the run on this one.
  AgentContainer container(w.run, profile_file.path(), work_dir, agent, req.service, req.timeout_sec, req.say);
  AgentRunResult res;
  res.exit_code = container.execute();
  container.remove();
  res.interrupted = container.interrupted();
  res.timed_out = container.timed_out();
  res.probes_ok = container.probes_ok();
  res.probe_failures = container.probe_failures();
  res.planned_stop = container.planned_stop();
  return res;
}

}  // namespace

AgentWorkload parse_agent_workload(const std::vector<std::string>& argv, bool service, bool no_new_privileges) {
  AgentWorkload w;
  w.argv = argv;
  w.ctx = EvalContext::docker_default();
  if (is_runc_line(argv)) {
    w.runc = true;
    if (service) fail(ErrorKind::usage, "runc run: probes are not supported (batch containers only)");
    const RuncLine line = parse_runc_line(argv);
    if (line.detach) fail(ErrorKind::usage, "runc run: --detach is not supported (sctrace waits for the container)");
    w.bundle = fs::absolute(line.bundle).lexically_normal().string();
    const std::string config_path = (fs::path(w.bundle) / "config.json").string();
    w.config = json::parse(read_file(config_path), nullptr, false);
    if (!w.config.is_object()) fail(ErrorKind::input, "{}: not a JSON object", config_path);
    // What the container runs with, for the profile's includes/excludes.
    const ContainerConfig config = container_config_from_oci(w.config);
    w.ctx.caps = config.caps;
    w.no_new_privileges = config.no_new_privileges || no_new_privileges;
  } else {
    w.run = container::parse_docker_run(argv);
    if (w.run.privileged) fail(ErrorKind::usage, "backend notify: --privileged disables seccomp");
    for (const auto& s : w.run.security_opts) {
      if (s.rfind("seccomp", 0) == 0)
        fail(ErrorKind::usage, "backend notify: drop --security-opt {} (sctrace sets the profile)", s);
    }
    const ContainerConfig config = config_of(w.run);
    w.ctx.caps = config.caps;
    w.no_new_privileges = config.no_new_privileges || no_new_privileges;
  }
  return w;
}

void require_notify_continue() {
  if (!probe_notify_caps().flag_continue)
    fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
}

AgentRunResult run_with_agent(const AgentWorkload& w, const AgentRunRequest& req, NotifyHandler& handler,
                              EventSink* process_events) {
  auto say = [&](const std::string& line) {
    if (req.say) req.say(line);
  };
  container::SeccompAgent agent;
  const std::string work_dir = parent_dir(agent.socket_path());
  const SeccompProfile profile = req.profile(agent.socket_path());
  say(req.backend_line(agent.socket_path()));
  agent.start(handler, process_events);

  AgentRunResult res =
      w.runc ? run_runc(w, req.timeout_sec, profile, work_dir) : run_cli_line(w, req, profile, work_dir, agent);
  res.all_gone = agent.stop(kAgentGrace);
  for (const auto& e : agent.errors()) say("seccomp agent: " + e);
  res.agent_errors = agent.errors();
  res.notifications = agent.notifications();
  res.container_processes = agent.processes();
  res.connected = !agent.connections().empty();
  res.interrupted = res.interrupted || interrupt_count() > 0;
  // Interrupted before the runtime got that far (the CLI died of the
  // forwarded signal): an interrupted run, not a runtime failure.
  if (!res.connected && !res.interrupted)
    fail(ErrorKind::runtime, "{} exited with {} without starting a container under the {} (the runtime never "
                             "connected to the seccomp agent)",
         w.runc ? w.argv.at(0) : w.run.cli, res.exit_code, req.profile_name);
  return res;
}

void add_unnotifiable_write(EventSink& sink) {
  SyscallEvent w;
  w.audit_arch = arch::native();
  w.nr = static_cast<int32_t>(*arch::syscall_nr(arch::native(), "write"));
  sink.on_syscall(w);
}

}  // namespace sctrace
