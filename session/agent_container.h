#pragma once
// One container started through its engine's CLI (`podman run ...`, a
// `docker run ...` whose engine passes listenerPath) under a profile whose
// listenerPath is sctrace's seccomp agent, owned from `run` to removal:
// spawn, find it (--cidfile), probe it as a service, stop it, wait, read its
// exit code, remove it. The Engine-API lifecycle of the sensor path is
// tracer/container/session.h.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tracer/container/docker_args.h"
#include "tracer/probes.h"

namespace sctrace {

namespace container {
class SeccompAgent;
}

// What is done to a running service: --wait-port and the probes' ports
// first (readiness), then the probes in the order given, then --duration.
// Empty: a batch container, waited for.
struct ServicePlan {
  std::vector<ProbeSpec> probes;  // --http-probe, --probe-cmd, --exec-probe, parsed
  std::vector<int> wait_ports;    // --wait-port: container ports
  double ready_timeout_sec = 30;
  double duration_sec = 0;
  bool empty() const { return probes.empty() && wait_ports.empty() && duration_sec <= 0; }
};

// The same as given on the command line, not yet parsed: a probe's kind
// ("http", "cmd", "exec") and its text.
struct ProbeOption {
  std::string kind;
  std::string text;
  bool operator==(const ProbeOption&) const = default;
};
struct ServiceOptions {
  std::vector<ProbeOption> probes;  // in the order given
  std::vector<std::string> wait_ports;
  double ready_timeout_sec = 30;
  double duration_sec = 0;
  // Probes, wait ports or a duration given: the container is a service.
  bool wanted() const { return !probes.empty() || !wait_ports.empty() || duration_sec > 0; }
};
// Throws Error(usage) for a malformed probe or port.
ServicePlan parse_service_plan(const ServiceOptions& o);

// A progress line for the user ("probe ...: ok").
using SayFn = std::function<void(const std::string&)>;

// The `<cli> run ...` line AgentContainer spawns: the user's line with
// --cidfile (unless it has one), --security-opt seccomp=PROFILE, podman's
// default ulimits (unless it sets one), and without --rm on a detached line
// (the exit code is read before sctrace removes the container). owner, when
// given: the container carries it as the container::kOwnerLabel label, so that
// the next run removes it should sctrace be killed before it does.
std::vector<std::string> agent_container_argv(const container::DockerRun& run, const std::string& profile_path,
                                              const std::string& cidfile, const std::string& owner = {});

// Removes (best effort, through `<cli> ps`/`rm`) the containers of this CLI
// whose kOwnerLabel names an sctrace that is gone; returns their IDs.
std::vector<std::string> remove_orphaned_agent_containers(const std::string& cli, container::CliFlavor flavor);

class AgentContainer {
 public:
  // `run` must outlive this object. profile_path: the file the runtime
  // loads (--security-opt seccomp=); work_dir: where the cidfile goes when
  // the line names none.
  AgentContainer(const container::DockerRun& run, const std::string& profile_path, const std::string& work_dir,
                 container::SeccompAgent& agent, ServicePlan plan, double timeout_sec, SayFn say);
  // Removes the container whatever --rm said: its configuration names the
  // agent's socket, which is gone after the run.
  ~AgentContainer() { remove(); }
  AgentContainer(const AgentContainer&) = delete;
  AgentContainer& operator=(const AgentContainer&) = delete;

  // The `<cli> run ...` line that execute() spawns.
  const std::vector<std::string>& argv() const { return argv_; }

  // Runs the line to the end; returns the container's shell-like exit code.
  // Interrupts (tracer/interrupt.h): the first stops the container, a second
  // kills it. Throws Error(runtime) when the runtime never connects to the
  // agent after creating the container.
  int execute();
  void remove();

  bool interrupted() const { return interrupted_; }
  bool timed_out() const { return timed_out_; }
  bool probes_ok() const { return probes_ok_; }
  // sctrace stopped the running service after its probes and --duration.
  bool planned_stop() const { return planned_stop_; }
  const std::vector<std::string>& probe_failures() const { return probe_failures_; }

 private:
  void read_cid();
  bool running();
  void stop_container();
  void fail_probe(std::string what);
  bool cancelled();
  bool timed_out_now();
  void run_probes();

  const container::DockerRun& run_;
  container::SeccompAgent& agent_;
  ServicePlan plan_;
  double timeout_sec_ = 0;
  SayFn say_;
  std::vector<std::string> argv_;
  std::string cidfile_;
  std::string id_;
  bool interrupted_ = false;
  bool timed_out_ = false;
  bool probes_ok_ = true;
  bool planned_stop_ = false;
  std::vector<std::string> probe_failures_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace sctrace
