#pragma once
// Which recording backend `sctrace run` uses, and why.
//
// auto picks seccomp user notification wherever it works and ptrace
// otherwise:
// - local workloads: notify when the kernel can let notified syscalls
//   continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE, 5.5+). bench/README.md: with
//   synchronous wake-up (6.6+) notify costs 5% of strace's overhead on the
//   syscall loop and half on spawning; without it, it still stops each
//   syscall once where ptrace stops twice (the prototypes, idle VM:
//   I/O loop 19x vs strace's 44x, spawns 3.4x vs 4.3x; here under load with
//   SCTRACE_NOTIFY_SYNC_WAKEUP=0, loop 100000: notify 2.6 s, ptrace 4.3 s),
//   so it wins either way. It gets no syscall results and no call stacks
//   (only the instruction pointer): the minimizer does not need results
//   (clone3 -> clone fallbacks come from the template's ENOSYS answers; a
//   name that only ever failed with ENOSYS is allowed instead of answered
//   ENOSYS, which is a superset). Explicit --ptrace-stops one|two means
//   ptrace.
// - podman and runc: notify through the OCI seccomp agent (listenerPath).
// - docker: notify only when the engine passes listenerPath to runc (Docker
//   23+, API 1.42+: its seccomp profile type carries the field); Docker 20.10
//   drops it, and the container would hang on its first notified syscall, so
//   auto falls back to the in-container ptrace sensor.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cli/options.h"
#include "profile/seccomp_profile.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"

namespace sctrace::cli {

struct BackendChoice {
  std::string name;  // "ptrace" or "notify"
  std::string why;   // for "sctrace: backend NAME (WHY)"
};

// Pure decisions (unit-tested). requested: "auto", "ptrace" or "notify";
// throws Error(usage) for anything else and Error(runtime) when notify was
// asked for and cannot work.
BackendChoice decide_local_backend(const std::string& requested, const NotifyCaps& caps, bool root,
                                   const std::string& ptrace_stops = "auto");
// engine_version: the Docker Engine API's GET /version answer. Returns whether
// that engine hands listenerPath on to runc, with why set either way.
bool engine_passes_listener_path(const nlohmann::json& engine_version, std::string& why);

// For a local workload, from o.backend and o.ptrace_stops and this kernel.
BackendChoice choose_local_backend(const Options& o);

// name: "auto", "ptrace" or "notify". Returns the tracer and sets why to a
// short explanation for the "sctrace: backend NAME (why)" line. Throws
// Error(runtime) when the kernel cannot do what was asked.
std::unique_ptr<Tracer> choose_backend(const std::string& name, std::string& why,
                                       PtraceStops stops = PtraceStops::automatic);

// "ptrace" or "notify": what `name` resolves to on this kernel for a local
// workload.
std::string backend_name(const std::string& name);

enum class ContainerBackend { notify_agent, ptrace_sensor };
struct ContainerChoice {
  ContainerBackend backend = ContainerBackend::ptrace_sensor;
  std::string why;
};
// For a `docker run` / `podman run` line: asks the kernel and, for docker,
// the engine (GET /version).
ContainerChoice choose_container_backend(const Options& o);

bool is_podman_line(const std::vector<std::string>& argv);

// Shared by cmd_podman.cc and cmd_calibrate.cc.
// The template with every allow turned into SCMP_ACT_NOTIFY (except write,
// which runc refuses to notify, and the signal-return paths) and
// listenerPath set.
SeccompProfile recording_profile(const SeccompProfile& tmpl, const std::string& listener_path);
// (The OCI config's linux.seccomp for a profile: to_oci_seccomp in
// profile/emit/formats.h.)

// `sctrace run --backend notify -- podman|docker run ...` (cli/cmd_podman.cc):
// recorded through the runtime's seccomp agent socket (listenerPath), no
// sensor; batch containers and services (probes) alike.
int cmd_run_notify_container(const Options& o, const SeccompProfile& tmpl, const std::string& why);

// `sctrace run --backend notify -- runc run [-b BUNDLE] ID` (cli/cmd_podman.cc).
bool is_runc_line(const std::vector<std::string>& argv);
int cmd_run_runc(const Options& o, const SeccompProfile& tmpl);

}  // namespace sctrace::cli
