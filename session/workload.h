#pragma once
// What sctrace was asked to run (the argv after "--"), told apart once: a
// local command, a `docker run` / `podman run` line, or `runc|crun run` on an
// OCI bundle. Which backend may record each kind is select_backend's
// business (session/backend.h).
#include <string>
#include <vector>

#include "session/runc_line.h"  // is_runc_line

namespace sctrace {

enum class WorkloadKind {
  local,        // any other command, traced with its whole process tree
  docker_line,  // `docker run ...` / `docker container run ...`
  podman_line,  // `podman run ...` / `podman container run ...`
  runc_bundle,  // `runc|crun [global options] run [-b BUNDLE] ID`
};

struct Workload {
  WorkloadKind kind = WorkloadKind::local;
  std::vector<std::string> argv;  // as given, argv[0] not resolved

  // A docker or podman line: the engines' containers, probes and services.
  bool container_line() const { return kind == WorkloadKind::docker_line || kind == WorkloadKind::podman_line; }
};

Workload parse_workload(std::vector<std::string> argv);

// The same questions on a bare argv, for the callers that hold one.
bool is_container_line(const std::vector<std::string>& argv);  // docker or podman `run`
bool is_podman_line(const std::vector<std::string>& argv);     // argv[0] is podman (any subcommand)
// is_runc_line: session/runc_line.h

}  // namespace sctrace
