#pragma once
// `sctrace harvest`: the kernel's seccomp log records of one container or one
// executable, read from whatever log this machine keeps, written as a
// recording that `sctrace merge` takes (profile/seccomp_log.h decides what a
// line means and which ones count; this file finds the lines and the
// container's processes).
#include <optional>
#include <string>

#include "session/agent_container.h"

namespace sctrace {

struct HarvestRequest {
  std::string since;      // --since DURATION ("" = everything the log still holds)
  std::string container;  // --container NAME|ID (Docker Engine API), "" = any process
  std::string exe;        // --exe PATH, as the process saw it, "" = any executable
  std::string output;     // -o REC.json
};

// Returns the exit code; throws sctrace::Error.
int run_harvest(const HarvestRequest& req, const SayFn& say);

}  // namespace sctrace
