#include "session/backend.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tracer/container/engine.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tracer/notify_tracer.h"

namespace sctrace {

namespace {

// Docker 23.0 (API 1.42) is the first engine whose seccomp profile type
// carries listenerPath/listenerMetadata into the OCI spec it gives runc.
constexpr int kListenerDockerMajor = 23;
constexpr const char* kListenerApiVersion = "1.42";

std::string notify_why(const NotifyCaps& caps, bool root) {
  std::string why = "seccomp user notification; no syscall results";
  why += caps.sync_wakeup && notify_sync_wakeup_wanted() ? "; synchronous wake-up"
                                                          : "; no synchronous wake-up (Linux < 6.6): slower";
  const int threads = notify_supervisor_threads();
  if (threads > 1) why += fmt::format("; {} supervisor threads", threads);
  if (!root) why += "; not root: filter installed with no_new_privs";
  return why;
}

BackendChoice for_local(RequestedBackend requested, PtraceStops ptrace_stops, const Probes& probes) {
  if (requested == RequestedBackend::ptrace) return {BackendKind::local_ptrace, "sees results"};
  const NotifyCaps caps = probes.notify_caps();
  if (requested == RequestedBackend::notify) {
    if (ptrace_stops != PtraceStops::automatic)
      fail(ErrorKind::usage, "--ptrace-stops {} is for the ptrace backend, not --backend notify",
           ptrace_stops_name(ptrace_stops));
    if (!caps.user_notif)
      fail(ErrorKind::runtime, "backend notify: seccomp user notification is not available here (needs Linux 5.0+)");
    if (!caps.flag_continue)
      fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
    return {BackendKind::local_notify, notify_why(caps, probes.root())};
  }
  if (ptrace_stops != PtraceStops::automatic)
    return {BackendKind::local_ptrace,
            fmt::format("auto: --ptrace-stops {} asks for ptrace", ptrace_stops_name(ptrace_stops))};
  if (!caps.user_notif) return {BackendKind::local_ptrace, "auto: this kernel has no seccomp user notification"};
  if (!caps.flag_continue)
    return {BackendKind::local_ptrace, "auto: this kernel cannot let notified syscalls continue (Linux < 5.5)"};
  return {BackendKind::local_notify, "auto: " + notify_why(caps, probes.root())};
}

// `runc run` on a bundle goes through listenerPath unless ptrace is asked
// for (then runc is traced like any local command). --ptrace-stops does not
// steer it, and an explicit notify is checked against the kernel when the
// line is prepared (session/record.cc, cli/cmd_podman.cc prepare_agent_workload), after the
// line's own refusals.
BackendChoice for_runc(RequestedBackend requested, PtraceStops ptrace_stops, const Probes& probes) {
  const BackendChoice through_agent{BackendKind::oci_agent, "runc run on a copy of the bundle's config.json"};
  if (requested == RequestedBackend::notify) return through_agent;
  if (requested == RequestedBackend::automatic) {
    const NotifyCaps caps = probes.notify_caps();
    if (caps.user_notif && caps.flag_continue) return through_agent;
  }
  return for_local(requested, ptrace_stops, probes);
}

BackendChoice for_container_line(const Workload& w, RequestedBackend requested, const Probes& probes) {
  // The sensor's session drives the Docker Engine API; a podman container is
  // not there (it used to be created, looked for in docker, and left behind).
  const bool podman = w.kind == WorkloadKind::podman_line;
  if (requested == RequestedBackend::ptrace) {
    if (podman)
      fail(ErrorKind::usage, "--backend ptrace: the in-container sensor works through the Docker Engine API; podman "
                             "lines go through listenerPath (--backend auto or notify)");
    return {BackendKind::docker_sensor, "the in-container ptrace sensor"};
  }
  const bool notify = requested == RequestedBackend::notify;
  if (!probes.notify_caps().flag_continue) {
    if (notify || podman)
      fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
    return {BackendKind::docker_sensor,
            "auto: this kernel cannot let notified syscalls continue; the in-container ptrace sensor"};
  }
  const std::string prefix = notify ? "" : "auto: ";
  if (podman)
    return {BackendKind::oci_agent,
            prefix + "podman passes listenerPath to runc: recorded from the host through the seccomp agent"};
  // docker: ask the engine.
  std::string why;
  bool passes = false;
  try {
    passes = engine_passes_listener_path(probes.docker_version(), why);
  } catch (const Error& e) {
    if (notify) throw;
    why = fmt::format("could not ask the engine ({})", e.what());
  }
  if (passes) return {BackendKind::oci_agent, prefix + why + ": recorded from the host through the seccomp agent"};
  if (notify) fail(ErrorKind::runtime, "backend notify: {}; use --backend ptrace", why);
  return {BackendKind::docker_sensor, "auto: " + why + "; the in-container ptrace sensor instead"};
}

}  // namespace

RequestedBackend requested_backend_from_name(std::string_view name) {
  if (name == "auto") return RequestedBackend::automatic;
  if (name == "ptrace") return RequestedBackend::ptrace;
  if (name == "notify") return RequestedBackend::notify;
  fail(ErrorKind::usage, "unknown backend '{}' (auto, ptrace or notify)", name);
}

std::string_view requested_backend_name(RequestedBackend b) {
  switch (b) {
    case RequestedBackend::automatic: return "auto";
    case RequestedBackend::ptrace: return "ptrace";
    case RequestedBackend::notify: return "notify";
  }
  return "?";
}

std::string_view ptrace_stops_name(PtraceStops s) {
  switch (s) {
    case PtraceStops::automatic: return "auto";
    case PtraceStops::one: return "one";
    case PtraceStops::two: return "two";
  }
  return "?";
}

std::string_view backend_kind_name(BackendKind k) {
  switch (k) {
    case BackendKind::local_ptrace: return "ptrace";
    case BackendKind::local_notify: return "notify";
    case BackendKind::docker_sensor: return "ptrace-sensor";
    case BackendKind::oci_agent: return "notify-agent";
  }
  return "?";
}

Probes machine_probes() {
  Probes p;
  p.notify_caps = [] { return probe_notify_caps(); };
  p.root = [] { return ::geteuid() == 0; };
  p.docker_version = [] {
    container::Engine engine;
    return engine.version_info();
  };
  return p;
}

BackendChoice select_backend(const Workload& w, RequestedBackend requested, PtraceStops ptrace_stops,
                             const Probes& probes) {
  switch (w.kind) {
    case WorkloadKind::docker_line:
    case WorkloadKind::podman_line: return for_container_line(w, requested, probes);
    case WorkloadKind::runc_bundle: return for_runc(requested, ptrace_stops, probes);
    case WorkloadKind::local: break;
  }
  return for_local(requested, ptrace_stops, probes);
}

bool engine_passes_listener_path(const nlohmann::json& v, std::string& why) {
  std::string version = v.is_object() ? v.value("Version", std::string()) : std::string();
  std::string api = v.is_object() ? v.value("ApiVersion", std::string()) : std::string();
  int major = 0;
  bool have_major = std::sscanf(version.c_str(), "%d", &major) == 1;
  bool passes = false;
  if (!api.empty()) passes = container::compare_api_versions(api, kListenerApiVersion) >= 0;
  else if (have_major) passes = major >= kListenerDockerMajor;
  std::string engine = fmt::format("Docker engine {} (API {})", version.empty() ? "?" : version,
                                   api.empty() ? "?" : api);
  why = passes ? fmt::format("{} passes listenerPath to runc", engine)
               : fmt::format("{} drops listenerPath (Docker 23+ / API 1.42+ passes it); a notify profile would hang "
                             "the container",
                             engine);
  return passes;
}

RunOutcome BackendOutcome::exit_outcome() const {
  return {.workload_code = status.shell_code(), .timed_out = status.timed_out, .interrupted = interrupted,
          .interrupt_signal = interrupt_signal};
}

bool ended_gracefully(const ExitStatus& st) { return interrupt_count() == 1 && !st.signaled && !st.timed_out; }

namespace {

// The local backends: a Tracer from tracer/ on the workload's argv, with
// sctrace's interrupt handling (tracer/interrupt.h) around it.
class LocalBackend : public Backend {
 public:
  LocalBackend(BackendKind kind, std::unique_ptr<Tracer> tracer) : kind_(kind), tracer_(std::move(tracer)) {}

  BackendKind kind() const override { return kind_; }
  TracerCaps caps() const override { return tracer_->caps(); }

  BackendOutcome run(const Workload& w, const RunRequest& request, EventSink& sink) override {
    LaunchSpec spec;
    spec.argv = w.argv;
    spec.timeout = request.timeout;
    spec.watch_filter = request.watch_filter;
    spec.watch_lets_run = request.watch_lets_run;
    spec.deny_errno = request.deny_errno;
    install_interrupt_handlers();
    BackendOutcome out;
    out.status = tracer_->run(spec, sink);
    out.ended_gracefully = ended_gracefully(out.status);
    out.interrupted = interrupt_count() > 0 && !out.ended_gracefully;
    out.interrupt_signal = last_interrupt_signal();
    return out;
  }

 private:
  BackendKind kind_;
  std::unique_ptr<Tracer> tracer_;
};

}  // namespace

std::unique_ptr<Backend> make_backend(BackendKind kind, PtraceStops stops) {
  switch (kind) {
    case BackendKind::local_ptrace: return std::make_unique<LocalBackend>(kind, make_ptrace_tracer(stops));
    case BackendKind::local_notify: return std::make_unique<LocalBackend>(kind, make_notify_tracer());
    case BackendKind::docker_sensor:
    case BackendKind::oci_agent: break;
  }
  fail(ErrorKind::runtime, "backend {}: not run through session/backend.h yet", backend_kind_name(kind));
}

}  // namespace sctrace
