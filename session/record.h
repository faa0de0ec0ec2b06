#pragma once
// `sctrace run`: a workload recorded through the backend select_backend
// picks (session/backend.h), and its profile and recording written
// (session/outputs.h write_recorded). Three ways in, one way out:
// - a local command (local_ptrace, local_notify) through Backend: every
//   syscall reaches the sink, or with --baseline only what the baseline does
//   not cover, plus the calls that could aim at sctrace itself, so that the
//   tracer refuses those (tracer/self_defence.h). Under --backend auto a
//   workload that asks for its own seccomp listener is recorded again with
//   ptrace (notify cannot give it one).
// - podman, runc, Docker >= 23 (oci_agent, session/oci_agent.h): the runtime
//   loads the recording profile (profile/agent_profile.h), whose listenerPath
//   is sctrace's seccomp agent; every notification is recorded and let through.
// - docker on an engine that drops listenerPath (docker_sensor,
//   session/container_run.h): the in-container sensor, and the hardening report.
// cli/cmd_run.cc checks the options and builds the request.
#include <string>
#include <vector>

#include "profile/seccomp_profile.h"
#include "profile/static_completion.h"
#include "session/agent_container.h"
#include "session/backend.h"
#include "session/outputs.h"

namespace sctrace {

struct RecordRequest {
  std::vector<std::string> argv;  // the workload, after "--"
  RequestedBackend backend = RequestedBackend::automatic;
  PtraceStops ptrace_stops = PtraceStops::automatic;
  SeccompProfile tmpl;  // --template, or Docker's default
  OutputPlan outputs;   // --format, -o, --recording
  double timeout_sec = 0;
  int stack_depth = 16;
  bool no_new_privileges = false;
  std::string baseline;          // --baseline OLD.json: local workloads only ("" = none)
  std::string runtime_baseline;  // --runtime-baseline FILE ("" = the embedded one)
  ServiceOptions service;        // probes, wait ports, --ready-timeout, --duration: container lines only
  // The hardening report: the docker sensor path only.
  std::string report_json;
  std::string sarif;
  std::string fail_on;  // high|medium|low ("" = never)
  bool verify_hardening = false;
  StaticMode static_mode = StaticMode::benign;  // --static: local workloads only
};

// Everything that can be refused is refused before the workload starts
// (Error(usage) for options the workload's kind cannot take). Returns
// sctrace's exit code: the workload's, 124 after --timeout, 128+N when
// interrupted by signal N, 1 for a failed probe or --fail-on.
int record(const RecordRequest& req, const SayFn& say);

}  // namespace sctrace
