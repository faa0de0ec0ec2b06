#pragma once
// `sctrace run [probes] -- docker run ...` through the in-container sensor:
// the session, the sensors' recordings merged, the profile minimized against
// the container's own configuration and written, the hardening report (and
// --verify-hardening), the exit code. session/record.h calls run_docker_sensor
// for a docker line the sensor records.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/minimizer.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "session/agent_container.h"
#include "session/outputs.h"
#include "tracer/container/session.h"

namespace sctrace {

struct ContainerRunRequest {
  container::SessionOptions session;  // the line, its probes, --duration, --timeout
  const SeccompProfile* tmpl = nullptr;
  OutputPlan outputs;
  std::string runtime_baseline;  // --runtime-baseline FILE ("" = the embedded one)
  std::string report_json;       // --report-json FILE
  std::string sarif;             // --sarif FILE
  std::string fail_on;           // --fail-on high|medium|low ("" = never)
  bool verify_hardening = false;
};

// The session of a line with its service plan, --timeout and --stack-depth;
// callers add what they need (sensor, profile, watch filter).
container::SessionOptions sensor_session(const std::vector<std::string>& argv, ServicePlan plan, double timeout_sec,
                                         int stack_depth);

// Returns sctrace's exit code; throws sctrace::Error.
int run_docker_sensor(const ContainerRunRequest& req, const SayFn& say);

// The sensors' recordings (JSON texts) as one recording.
Recording merged_recordings(const std::vector<std::string>& jsons);

// The capability set and no-new-privileges of the container as configured
// (its inspect), which is what Docker evaluates the template's
// includes/excludes against.
MinimizeOptions minimize_options_for(const nlohmann::json& inspect);

// The line for a container's own status after sctrace's planned stop (the
// service stopped once its probes passed): reported, not returned.
std::string planned_stop_line(int container_code);

}  // namespace sctrace
