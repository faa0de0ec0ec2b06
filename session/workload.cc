#include "session/workload.h"

#include <algorithm>
#include <filesystem>

#include "tracer/container/docker_args.h"
#include "tracer/container/session.h"

namespace sctrace {

bool is_container_line(const std::vector<std::string>& argv) { return container::is_container_run(argv); }

bool is_podman_line(const std::vector<std::string>& argv) {
  return !argv.empty() && container::cli_flavor(argv[0]) == container::CliFlavor::podman;
}

Workload parse_workload(std::vector<std::string> argv) {
  Workload w;
  if (is_container_line(argv)) w.kind = is_podman_line(argv) ? WorkloadKind::podman_line : WorkloadKind::docker_line;
  else if (is_runc_line(argv)) w.kind = WorkloadKind::runc_bundle;
  w.argv = std::move(argv);
  return w;
}

}  // namespace sctrace
