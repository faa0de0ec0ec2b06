#pragma once
// Least privilege beyond seccomp: from a container-mode recording and the
// container's `docker inspect`, which capabilities the workload showed it
// needs, what in its `docker run` line weakens isolation, and the hardened
// line (plus compose and Kubernetes equivalents).
//
// Pure analysis: the inspect answer is plain JSON, nothing here talks to a
// daemon. What a recording cannot show (pointer arguments such as paths and
// socket addresses, file ownership) is inferred from the configuration or left
// to the verification run, and every such rule says so in its evidence.
//
// The parts: advice/container_config.h (the configured privileges),
// advice/capabilities.h (capabilities from evidence), advice/findings.h (the
// rules), advice/rewrite.h (the hardened argv, Compose, Kubernetes),
// advice/verify.h (the verification loop).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "advice/model.h"
#include "advice/rewrite.h"
#include "core/redact.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"

namespace sctrace {

struct HardeningInput {
  const Recording* recording = nullptr;
  const nlohmann::json* inspect = nullptr;  // GET /containers/ID/json as the user's line made it
  const SeccompProfile* tmpl = nullptr;     // the template the profile was cut from
  std::optional<RunLine> line;              // the user's line; without it the command is built from inspect
  std::string seccomp_profile_path;         // the generated profile, for the hardened command
  // GET /containers/ID/changes of the traced run ([{Path, Kind}]); null = unknown.
  nlohmann::json changes;
  // The daemon sets net.ipv4.ip_unprivileged_port_start=0 in the container's
  // own network namespace (Docker >= 20.10), so binding a port < 1024 needs
  // no capability unless the container shares the host's network.
  bool unprivileged_low_ports = false;
  // setuid/setgid files found in the container's filesystem; unset = not scanned.
  std::optional<std::vector<std::string>> setid_files;
};

HardeningReport analyze_hardening(const HardeningInput& in);

// The container's capability set as configured (advice/container_config.h),
// without CAP_, sorted.
std::vector<std::string> configured_caps(const nlohmann::json& inspect);

// The report's findings at or above `threshold`.
size_t count_at_or_above(const HardeningReport& r, Severity threshold);

}  // namespace sctrace
