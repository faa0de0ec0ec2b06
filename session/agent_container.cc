#include "session/agent_container.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "tracer/child_process.h"
#include "tracer/container/engine.h"
#include "tracer/container/listener.h"
#include "tracer/container/session.h"
#include "tracer/interrupt.h"

namespace sctrace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Once the runtime has created the container (the cidfile is written), it
// connects to the agent within milliseconds; an engine that dropped
// listenerPath never does, and the container hangs instead.
constexpr std::chrono::seconds kConnectTimeout{30};
// podman in this kind of VM fails to start containers with the host's
// (unlimited) limits; these are what it needs.
const std::vector<std::string> kDefaultUlimits = {"--ulimit", "nofile=10000:10000", "--ulimit", "nproc=1000:1000"};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

json inspect(const std::string& cli, const std::string& id) {
  container::Captured r = container::run_capture({cli, "inspect", "--type", "container", id});
  json j = json::parse(r.out, nullptr, false);
  if (j.is_array() && !j.empty()) return j[0];
  return json::object();
}

}  // namespace

ServicePlan parse_service_plan(const ServiceOptions& o) {
  ServicePlan plan;
  for (const auto& p : o.probes) {
    if (p.kind == "http") plan.probes.push_back(parse_http_probe(p.text));
    else if (p.kind == "cmd") plan.probes.push_back(parse_probe_cmd(p.text));
    else plan.probes.push_back(parse_exec_probe(p.text));
  }
  for (const auto& wp : o.wait_ports) plan.wait_ports.push_back(parse_wait_port(wp).port);
  plan.ready_timeout_sec = o.ready_timeout_sec;
  plan.duration_sec = o.duration_sec;
  return plan;
}

std::vector<std::string> agent_container_argv(const container::DockerRun& run, const std::string& profile_path,
                                              const std::string& cidfile, const std::string& owner) {
  std::vector<std::string> argv = {run.cli};
  argv.insert(argv.end(), run.command.begin(), run.command.end());
  if (!run.cidfile) {
    argv.push_back("--cidfile");
    argv.push_back(cidfile);
  }
  argv.push_back("--security-opt");
  argv.push_back("seccomp=" + profile_path);
  if (!owner.empty()) {
    argv.push_back("--label");
    argv.push_back(fmt::format("{}={}", container::kOwnerLabel, owner));
  }
  if (run.flavor == container::CliFlavor::podman && !run.has("ulimit"))
    argv.insert(argv.end(), kDefaultUlimits.begin(), kDefaultUlimits.end());
  // -d --rm: the engine would remove the container the moment it exits,
  // exit code and all (a failing container then passed verify); sctrace
  // removes it itself (remove()) once it has read that code.
  for (const auto& t : run.options)
    if (!(run.detach && (t == "--rm" || t.rfind("--rm=", 0) == 0))) argv.push_back(t);
  argv.push_back(run.image);
  argv.insert(argv.end(), run.args.begin(), run.args.end());
  return argv;
}

AgentContainer::AgentContainer(const container::DockerRun& run, const std::string& profile_path,
                               const std::string& work_dir, container::SeccompAgent& agent, ServicePlan plan,
                               double timeout_sec, SayFn say)
    : run_(run), agent_(agent), plan_(std::move(plan)), timeout_sec_(timeout_sec), say_(std::move(say)) {
  cidfile_ = run.cidfile ? *run.cidfile : work_dir + "/cid";
  argv_ = agent_container_argv(run, profile_path, cidfile_, container::owner_label_value());
}

std::vector<std::string> remove_orphaned_agent_containers(const std::string& cli, container::CliFlavor flavor) {
  std::vector<std::string> removed;
  // docker's .Labels is a "k=v,k=v" string, podman's a map.
  const std::string key = "\"" + std::string(container::kOwnerLabel) + "\"";
  const std::string label = flavor == container::CliFlavor::podman ? "{{index .Labels " + key + "}}"
                                                                   : "{{.Label " + key + "}}";
  auto ps = container::run_capture({cli, "ps", "-a", "--no-trunc", "--filter",
                                    fmt::format("label={}", container::kOwnerLabel), "--format",
                                    "{{.ID}} " + label},
                                   std::chrono::seconds(30));
  if (!ps.ok()) return removed;
  size_t from = 0;
  while (from < ps.out.size()) {
    size_t nl = ps.out.find('\n', from);
    if (nl == std::string::npos) nl = ps.out.size();
    std::string line = ps.out.substr(from, nl - from);
    from = nl + 1;
    size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string id = line.substr(0, sp), owner = line.substr(sp + 1);
    if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    if (!container::owner_gone(owner)) continue;
    if (container::run_capture({cli, "rm", "-f", "-v", id}, std::chrono::seconds(30)).ok()) removed.push_back(id);
  }
  return removed;
}

int AgentContainer::execute() {
  install_interrupt_handlers();
  for (const auto& left : remove_orphaned_agent_containers(run_.cli, run_.flavor))
    std::fprintf(stderr, "sctrace: removed container %s, left behind by an earlier run that was killed\n",
                 left.substr(0, 12).c_str());
  const bool service = !plan_.empty();
  const auto start = Clock::now();
  const auto limit = millis(timeout_sec_);
  ChildProcess child = ChildProcess::spawn(argv_, ChildOptions{});
  std::optional<int> run_status;  // of `<cli> run`
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
        if (!run_status) child.signal(SIGKILL);
        if (!id_.empty()) container::run_capture({run_.cli, "kill", id_});
      } else if (!id_.empty()) {
        stop_container();
        stop_sent = true;
      } else if (!run_status) {
        child.signal(last_interrupt_signal());
      }
    }
    if (limit.count() > 0 && !timed_out_ && Clock::now() - start >= limit) {
      timed_out_ = true;
      if (!id_.empty()) stop_container();
      else if (!run_status) child.signal(SIGTERM);
      stop_sent = true;
    }
    if (created_at && agent_.connected() == 0 && Clock::now() - *created_at > kConnectTimeout) {
      if (!run_status) child.signal(SIGKILL);
      container::run_capture({run_.cli, "rm", "-f", id_});
      fail(ErrorKind::runtime,
           "the runtime never connected to the seccomp agent within {} s of creating the container: the engine "
           "dropped listenerPath, or runc blocked on a notification before handing the listener over "
           "(use --backend ptrace)",
           kConnectTimeout.count());
    }

    // -d: `run` returns once the container started; it is watched by ID.
    if (run_status && (!run_.detach || shell_code(*run_status) != 0 || id_.empty())) break;
    if (service && !probed && !id_.empty() && agent_.connected() > 0 && !interrupted_ && !timed_out_) {
      probed = true;
      run_probes();
      if (!stop_sent) {
        planned_stop_ = probes_ok_ && !cancelled() && running();
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

void AgentContainer::remove() {
  if (!id_.empty()) container::run_capture({run_.cli, "rm", "-f", id_});
  id_.clear();
}

void AgentContainer::read_cid() {
  std::error_code ec;
  if (!fs::exists(cidfile_, ec)) return;
  try {
    id_ = trimmed(read_file(cidfile_));
  } catch (const Error&) {
  }
}

bool AgentContainer::running() {
  container::Captured r = container::run_capture({run_.cli, "inspect", "--format", "{{.State.Running}}", id_});
  return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && trimmed(r.out) == "true";
}

void AgentContainer::stop_container() { container::run_capture({run_.cli, "stop", "-t", "10", id_}); }

void AgentContainer::fail_probe(std::string what) {
  probes_ok_ = false;
  probe_failures_.push_back(std::move(what));
}

bool AgentContainer::cancelled() { return interrupt_count() > 0 || timed_out_now(); }

bool AgentContainer::timed_out_now() {
  if (timeout_sec_ <= 0) return false;
  return Clock::now() - start_ > millis(timeout_sec_);
}

// The same order as Docker mode (tracer/container/session.cc).
void AgentContainer::run_probes() {
  std::vector<int> ports = plan_.wait_ports;
  for (const auto& p : plan_.probes)
    if (p.kind == ProbeKind::http) ports.push_back(p.port);

  ProbeTarget target = probe_target_from_inspect(inspect(run_.cli, id_));
  target.container_id = id_;
  auto deadline = Clock::now() + millis(plan_.ready_timeout_sec);
  for (int port : ports) {
    if (!wait_port(target, port, deadline, [&] { return cancelled(); })) {
      if (cancelled()) return;
      fail_probe(running() ? fmt::format("port {} not ready after {} s", port, plan_.ready_timeout_sec)
                           : fmt::format("the container exited before port {} was ready", port));
      return;
    }
  }
  for (const auto& p : plan_.probes) {
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
    say_(fmt::format("probe {}: {}{}{}", p.text, r.ok ? "ok" : "FAILED", r.detail.empty() ? "" : " - ", r.detail));
    if (!r.ok) {
      fail_probe(fmt::format("probe {} failed: {}", p.text, r.detail));
      return;
    }
  }
  auto until = Clock::now() + millis(plan_.duration_sec);
  while (Clock::now() < until && !cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace sctrace
