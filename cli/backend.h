#pragma once
// Which recording backend `sctrace run` uses for a local workload.
#include <memory>
#include <string>

#include "cli/options.h"
#include "profile/seccomp_profile.h"
#include "tracer/tracer.h"

namespace sctrace::cli {

// name: "auto", "ptrace" or "notify". Returns the tracer and sets why to a
// short explanation for the "sctrace: backend NAME (why)" line. Throws
// Error(runtime) when the kernel cannot do what was asked.
// auto = ptrace: it is the only backend that sees results, and stays the
// default until measurements say notify is better on the common workloads.
std::unique_ptr<Tracer> choose_backend(const std::string& name, std::string& why);

// "ptrace" or "notify": what `name` resolves to (for the recording's backend).
std::string backend_name(const std::string& name);

// `sctrace run --backend notify -- podman run ...` (cli/cmd_podman.cc):
// recorded through runc's seccomp agent socket (listenerPath), no sensor.
bool is_podman_line(const std::vector<std::string>& argv);
int cmd_run_podman(const Options& o, const SeccompProfile& tmpl);

}  // namespace sctrace::cli
