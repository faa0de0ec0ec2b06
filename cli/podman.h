#pragma once
// The OCI agent path from the command line (cli/cmd_podman.cc): Options
// turned into an AgentWorkload and an AgentRunRequest (session/oci_agent.h)
// for `check` (notifications judged by the watch program of the checked
// profile, profile/agent_profile.h: check_runtime_profile), and into the
// service options `run` hands to session/record.h.
#include <functional>
#include <string>

#include "cli/options.h"
#include "profile/agent_profile.h"
#include "profile/seccomp_profile.h"
#include "session/oci_agent.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"

namespace sctrace::cli {

// --http-probe, --probe-cmd, --exec-probe, --wait-port, --ready-timeout,
// --duration as given.
ServiceOptions service_options(const Options& o);
// Probes, wait ports or a duration given: the container is a service.
bool wants_service(const Options& o);
// --http-probe, --probe-cmd, --exec-probe, --wait-port, --ready-timeout,
// --duration. Throws Error(usage) for a malformed probe.
ServicePlan service_plan(const Options& o);

// The line, parsed and checked before anything starts: throws Error(usage)
// for what the agent cannot do (--privileged, a seccomp option of the user's,
// runc --detach, probes on a runc line, bad probes) and Error(runtime) when
// the kernel cannot let notified syscalls continue.
AgentWorkload prepare_agent_workload(const Options& o);

// What `run` and `check` differ in.
struct AgentRunSpec {
  std::string profile_name;  // "recording profile", "check profile": for messages
  std::function<SeccompProfile(const std::string& listener_path)> profile;
  std::function<std::string(const std::string& socket_path)> backend_line;
};

// spec plus the service plan and --timeout of `o`; progress lines go to say().
AgentRunRequest agent_run_request(const Options& o, const AgentRunSpec& spec);

// session/oci_agent.h run_with_agent with agent_run_request(o, spec).
AgentRunResult run_with_agent(const Options& o, const AgentWorkload& w, const AgentRunSpec& spec,
                              NotifyHandler& handler, EventSink* process_events = nullptr);

}  // namespace sctrace::cli
