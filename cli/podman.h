#pragma once
// Running a container line under a seccomp profile whose listenerPath is
// sctrace's seccomp agent (cli/cmd_podman.cc): `podman run ...`, a
// `docker run ...` whose engine passes listenerPath, or `runc run` on a
// bundle. Shared by `run` (every notification recorded and let through) and
// `check` (notifications judged by the watch program of the checked profile);
// the two differ only in the profile the runtime loads and the handler that
// answers its notifications.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "profile/seccomp_profile.h"
#include "tracer/container/docker_args.h"
#include "tracer/notify.h"

namespace sctrace::cli {

// The line, parsed and checked before anything starts (prepare_agent_workload).
struct AgentWorkload {
  bool runc = false;             // `runc|crun run`; else `<cli> run`
  container::DockerRun run;      // <cli> run: the parsed line
  std::string bundle;            // runc: the bundle directory (absolute)
  nlohmann::json config;         // runc: its config.json
  EvalContext ctx;               // the container's caps, for the profile's includes/excludes
  bool no_new_privileges = false;  // the line's / config.json's (or --no-new-privileges)
};

// Throws Error(usage) for what the agent cannot do (--privileged, a seccomp
// option of the user's, runc --detach, probes on a runc line, bad probes) and
// Error(runtime) when the kernel cannot let notified syscalls continue.
AgentWorkload prepare_agent_workload(const Options& o);

struct AgentRunSpec {
  std::string profile_name;  // "recording profile", "check profile": for messages
  // The profile the runtime loads, given the agent's socket (its listenerPath).
  std::function<SeccompProfile(const std::string& listener_path)> profile;
  // The "backend notify (...)" line, given the agent's socket path.
  std::function<std::string(const std::string& socket_path)> backend_line;
};

struct AgentRunResult {
  int exit_code = 0;  // the workload's, as a shell reports it (before timeout/interrupt mapping)
  bool interrupted = false;
  bool timed_out = false;
  bool all_gone = true;  // every process holding the filter went away within the grace
  bool probes_ok = true;
  std::vector<std::string> probe_failures;
  std::vector<std::string> agent_errors;  // already said
  uint64_t notifications = 0;
  size_t container_processes = 0;  // processes that made notified syscalls (tracer/notify.h: ProcessWatch)
};

// Starts the agent with `handler`, runs the line with spec.profile (the
// <cli>'s --security-opt seccomp=, or a private copy of the bundle's
// config.json), runs the probes (-d, --http-probe, --wait-port, ...) as `run`
// does, stops and removes the container, stops the agent. Throws
// Error(runtime) when the runtime never connected to the agent.
// process_events (when given) gets the container processes' execs and ends
// (SeccompAgent::start), on the agent's thread.
AgentRunResult run_with_agent(const Options& o, const AgentWorkload& w, const AgentRunSpec& spec,
                              NotifyHandler& handler, EventSink* process_events = nullptr);

// `check` through the agent: the profile the runtime loads for checking P.
// Syscalls P allows whatever their arguments stay SCMP_ACT_ALLOW in the
// kernel (and `write`, `rt_sigreturn`, `restart_syscall`: runc hands the
// listener over with them, see cli/cmd_podman.cc); every other syscall
// libseccomp knows on P's arches is named with SCMP_ACT_NOTIFY (runc refuses
// NOTIFY as the default action); defaultAction and arches are P's.
// `unwatchable` gets the three handover syscalls P does not allow whatever
// their arguments (they run unwatched).
SeccompProfile check_runtime_profile(const SeccompProfile& p, const EvalContext& ctx, const std::string& listener_path,
                                     std::vector<std::string>* unwatchable = nullptr);

}  // namespace sctrace::cli
