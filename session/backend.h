#pragma once
// Which backend records a workload, and the one interface they run behind.
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
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "session/workload.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"

namespace sctrace {

// --backend, parsed once (cli/options.cc).
enum class RequestedBackend { automatic, ptrace, notify };
// "auto", "ptrace", "notify"; throws Error(usage) for anything else.
RequestedBackend requested_backend_from_name(std::string_view name);
std::string_view requested_backend_name(RequestedBackend b);
// "auto", "one", "two" (the inverse of ptrace_stops_from_name, tracer/tracer.h).
std::string_view ptrace_stops_name(PtraceStops s);

enum class BackendKind {
  local_ptrace,   // tracer/ptrace_tracer.cc on a local command (runc included, with --backend ptrace)
  local_notify,   // tracer/notify_tracer.cc on a local command
  docker_sensor,  // the in-container ptrace sensor, through the Docker Engine API
  oci_agent,      // the runtime's listenerPath to sctrace's seccomp agent (podman, runc, Docker 23+)
};
// "ptrace", "notify", "ptrace-sensor", "notify-agent": the names the backend
// line, recordings and check reports use.
std::string_view backend_kind_name(BackendKind k);

struct BackendChoice {
  BackendKind kind = BackendKind::local_ptrace;
  std::string why;  // for "sctrace: backend NAME (WHY)"
};

// What select_backend may ask of the machine. Each is called only when the
// decision needs it (asking Docker loads libcurl and may fail).
struct Probes {
  std::function<NotifyCaps()> notify_caps;
  std::function<bool()> root;
  // The Docker Engine API's GET /version answer; throws Error when the
  // engine cannot be asked.
  std::function<nlohmann::json()> docker_version;
};
// This kernel, this process's euid, the engine at DOCKER_HOST.
Probes machine_probes();

// The one decision: which backend records `w`, given what was asked.
// Throws Error(usage) for a combination that cannot mean anything
// (--ptrace-stops with --backend notify, --backend ptrace on a podman line)
// and Error(runtime) when what was asked cannot work here (notify on a kernel
// without FLAG_CONTINUE, notify on an engine that drops listenerPath).
// ptrace_stops only matters for local workloads.
BackendChoice select_backend(const Workload& w, RequestedBackend requested, PtraceStops ptrace_stops,
                             const Probes& probes);

// engine_version: the Docker Engine API's GET /version answer. Returns whether
// that engine hands listenerPath on to runc, with why set either way.
bool engine_passes_listener_path(const nlohmann::json& engine_version, std::string& why);

// What a run asks of a backend beyond the workload (tracer/tracer.h
// LaunchSpec has the details).
struct RunRequest {
  std::chrono::milliseconds timeout{0};  // 0 = no limit
  // Unset: every syscall reaches the sink (recording). Set: the watch program
  // for the backend's kernel action; only what it reports reaches the sink.
  std::function<std::vector<sock_filter>(uint32_t watch_action)> watch_filter;
  std::function<bool(const SyscallEvent&)> watch_lets_run;  // LaunchSpec::watch_lets_run
  std::optional<int> deny_errno;  // check --enforce
};

// What one run through a Backend says about itself.
struct BackendOutcome {
  ExitStatus status;  // the workload's first process; status.timed_out at the deadline
  // The one signal sctrace forwarded ended the workload, which handled it and
  // exited on its own: its whole life was observed.
  bool ended_gracefully = false;
  // sctrace was interrupted and the run cut short (not ended gracefully).
  bool interrupted = false;
  int interrupt_signal = 0;  // the last signal sctrace received (0: none)

  // For exit_code_of (core/exit_status.h).
  RunOutcome exit_outcome() const;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;
  // What the sink gets (results, stacks): known before anything launches.
  virtual TracerCaps caps() const = 0;
  // Runs w to its end (or the deadline, or an interrupt), delivering events
  // to sink. Throws Error for failures to launch (ErrorKind::not_found /
  // not_exec for a bad COMMAND).
  virtual BackendOutcome run(const Workload& w, const RunRequest& request, EventSink& sink) = 0;
};

// The local backends (local_ptrace with `stops`, local_notify). The container
// kinds are run by session/container_run.h and session/oci_agent.h until they move
// behind this interface: asking for them here is Error(runtime).
std::unique_ptr<Backend> make_backend(BackendKind kind, PtraceStops stops = PtraceStops::automatic);

// A local workload stopped by the one signal sctrace forwarded, which it
// handled and then exited normally (a server's SIGTERM shutdown): its whole
// life is recorded/checked, so that run is complete and its status is the
// workload's own. Killed by the signal, or by a second one, it was cut short.
bool ended_gracefully(const ExitStatus& st);

}  // namespace sctrace
