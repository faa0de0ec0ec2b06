#pragma once
// Running a container line under a seccomp profile whose listenerPath is
// sctrace's seccomp agent (tracer/container/listener.h): `podman run ...`, a
// `docker run ...` whose engine passes listenerPath (Docker >= 23), or
// `runc|crun run` on a bundle. `run` records every notification and lets it
// through; `check` judges each one with the checked profile's watch program;
// the two differ only in the profile the runtime loads
// (profile/agent_profile.h) and the handler that answers its notifications.
//
// runc hands the listener over and every notified syscall reaches the
// handler, so the recording starts where the filter does, inside runc: runc's
// own syscalls after the filter (capset, setgroups, prctl, ...) are measured
// rather than taken from templates/runtime-baseline.json. `write` is never
// notified (profile/agent_profile.h) and so never seen.
//
// Services: with probes or --duration the container ID comes from a
// --cidfile sctrace adds, the probe target from `<cli> inspect`, and the
// container is stopped with `<cli> stop` (SIGTERM, then SIGKILL after 10 s)
// once the probes are done, so the shutdown path is recorded too
// (session/agent_container.h). The container is removed at the end whatever
// --rm said: its configuration names the agent's socket, which is gone.
//
// runc bundles: the bundle is not changed. sctrace writes a copy of its
// config.json into a private directory (root.path made absolute so the
// rootfs is used in place, linux.seccomp replaced by the profile in OCI
// form) and points `runc run --bundle` there.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/seccomp_profile.h"
#include "session/agent_container.h"
#include "tracer/container/docker_args.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"

namespace sctrace {

// The line, parsed and checked before anything starts.
struct AgentWorkload {
  std::vector<std::string> argv;  // as given
  bool runc = false;              // `runc|crun run`; else `<cli> run`
  container::DockerRun run;       // <cli> run: the parsed line
  std::string bundle;             // runc: the bundle directory (absolute)
  nlohmann::json config;          // runc: its config.json
  EvalContext ctx;                // the container's caps, for the profile's includes/excludes
  bool no_new_privileges = false;  // the line's / config.json's, or the caller's
};

// service: the caller has probes, wait ports or a duration for the
// container. Throws Error(usage) for what the agent cannot do (--privileged,
// a seccomp option of the user's, runc --detach, a service on a runc line)
// and Error(input) for a bundle whose config.json is not a JSON object.
AgentWorkload parse_agent_workload(const std::vector<std::string>& argv, bool service, bool no_new_privileges);

// Throws Error(runtime) when the kernel cannot let notified syscalls continue
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5+).
void require_notify_continue();

struct AgentRunRequest {
  ServicePlan service;    // <cli> run lines: probes, wait ports, --duration
  double timeout_sec = 0;  // stop the container after this long; 0 = never
  std::string profile_name;  // "recording profile", "check profile": for messages
  // The profile the runtime loads, given the agent's socket (its listenerPath).
  std::function<SeccompProfile(const std::string& listener_path)> profile;
  // The "backend notify (...)" line, given the agent's socket path.
  std::function<std::string(const std::string& socket_path)> backend_line;
  SayFn say;  // progress lines: the backend line, probes, agent errors
};

struct AgentRunResult {
  int exit_code = 0;  // the workload's, as a shell reports it (before timeout/interrupt mapping)
  bool interrupted = false;
  bool timed_out = false;
  // sctrace stopped the running service after its probes and --duration:
  // exit_code is the container's answer to that stop, not sctrace's status.
  bool planned_stop = false;
  // The runtime connected to the agent (a container ran under the profile).
  bool connected = false;
  bool all_gone = true;  // every process holding the filter went away within the grace
  bool probes_ok = true;
  std::vector<std::string> probe_failures;
  std::vector<std::string> agent_errors;  // already said
  uint64_t notifications = 0;
  size_t container_processes = 0;  // processes that made notified syscalls (tracer/notify.h: ProcessWatch)
};

// Starts the agent with `handler`, runs the line with req.profile (the
// <cli>'s --security-opt seccomp=, or a private copy of the bundle's
// config.json), runs the service plan, stops and removes the container,
// stops the agent. Interrupts (tracer/interrupt.h) and req.timeout_sec stop
// the container. Throws Error(runtime) when the runtime never connected to
// the agent. process_events (when given) gets the container processes'
// execs and ends (SeccompAgent::start), on the agent's thread.
AgentRunResult run_with_agent(const AgentWorkload& w, const AgentRunRequest& req, NotifyHandler& handler,
                              EventSink* process_events = nullptr);

// Feeds `sink` one native `write`: runc hands the listener over with it, so
// it is never notified; every program (runc first) uses it.
void add_unnotifiable_write(EventSink& sink);

}  // namespace sctrace
