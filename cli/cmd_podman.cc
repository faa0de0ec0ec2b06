// The OCI agent path (podman, runc, Docker >= 23 through listenerPath) and
// the sensor's session, from the command line: Options turned into the
// requests of session/oci_agent.h and tracer/container/session.h. `run`
// records through session/record.h; `check` (cli/cmd_check.cc) and `verify`
// (cli/cmd_verify.cc) build their runs from these.
#include <string>

#include "cli/commands.h"
#include "cli/podman.h"
#include "session/container_run.h"
#include "tracer/container/session.h"

namespace sctrace::cli {

container::SessionOptions session_options(const Options& o) {
  // The probes parsed as the agent path parses them.
  return sensor_session(o.workload, service_plan(o), o.timeout_sec, o.stack_depth);
}

ServiceOptions service_options(const Options& o) {
  return {o.probes, o.wait_ports, o.ready_timeout_sec, o.duration_sec};
}

bool wants_service(const Options& o) { return service_options(o).wanted(); }

ServicePlan service_plan(const Options& o) { return parse_service_plan(service_options(o)); }

AgentWorkload prepare_agent_workload(const Options& o) {
  AgentWorkload w = parse_agent_workload(o.workload, wants_service(o), o.no_new_privileges);
  if (!w.runc) service_plan(o);  // the probes are parsed before anything starts
  require_notify_continue();
  return w;
}

AgentRunRequest agent_run_request(const Options& o, const AgentRunSpec& spec) {
  AgentRunRequest req;
  req.service = service_plan(o);
  req.timeout_sec = o.timeout_sec;
  req.profile_name = spec.profile_name;
  req.profile = spec.profile;
  req.backend_line = spec.backend_line;
  req.say = [](const std::string& line) { say(line); };
  return req;
}

AgentRunResult run_with_agent(const Options& o, const AgentWorkload& w, const AgentRunSpec& spec,
                              NotifyHandler& handler, EventSink* process_events) {
  return sctrace::run_with_agent(w, agent_run_request(o, spec), handler, process_events);
}

}  // namespace sctrace::cli
