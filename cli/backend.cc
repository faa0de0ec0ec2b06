#include "cli/backend.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/engine.h"
#include "tracer/notify.h"
#include "tracer/notify_tracer.h"

namespace sctrace::cli {

namespace {

// Docker 23.0 (API 1.42) is the first engine whose seccomp profile type
// carries listenerPath/listenerMetadata into the OCI spec it gives runc.
constexpr int kListenerDockerMajor = 23;
constexpr const char* kListenerApiVersion = "1.42";

void check_requested(const std::string& name) {
  if (name != "auto" && name != "ptrace" && name != "notify")
    fail(ErrorKind::usage, "unknown backend '{}' (auto, ptrace or notify)", name);
}

std::string notify_why(const NotifyCaps& caps, bool root) {
  std::string why = "seccomp user notification; no syscall results";
  why += caps.sync_wakeup && notify_sync_wakeup_wanted() ? "; synchronous wake-up"
                                                          : "; no synchronous wake-up (Linux < 6.6): slower";
  const int threads = notify_supervisor_threads();
  if (threads > 1) why += fmt::format("; {} supervisor threads", threads);
  if (!root) why += "; not root: filter installed with no_new_privs";
  return why;
}

}  // namespace

BackendChoice decide_local_backend(const std::string& requested, const NotifyCaps& caps, bool root,
                                   const std::string& ptrace_stops) {
  check_requested(requested);
  if (requested == "ptrace") return {"ptrace", "sees results"};
  if (requested == "notify") {
    if (ptrace_stops != "auto")
      fail(ErrorKind::usage, "--ptrace-stops {} is for the ptrace backend, not --backend notify", ptrace_stops);
    if (!caps.user_notif)
      fail(ErrorKind::runtime, "backend notify: seccomp user notification is not available here (needs Linux 5.0+)");
    if (!caps.flag_continue)
      fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
    return {"notify", notify_why(caps, root)};
  }
  if (ptrace_stops != "auto")
    return {"ptrace", fmt::format("auto: --ptrace-stops {} asks for ptrace", ptrace_stops)};
  if (!caps.user_notif) return {"ptrace", "auto: this kernel has no seccomp user notification"};
  if (!caps.flag_continue)
    return {"ptrace", "auto: this kernel cannot let notified syscalls continue (Linux < 5.5)"};
  return {"notify", "auto: " + notify_why(caps, root)};
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

BackendChoice choose_local_backend(const Options& o) {
  return decide_local_backend(o.backend, probe_notify_caps(), ::geteuid() == 0, o.ptrace_stops);
}

std::string backend_name(const std::string& name) {
  check_requested(name);
  if (name != "auto") return name;
  return decide_local_backend(name, probe_notify_caps(), ::geteuid() == 0).name;
}

bool is_podman_line(const std::vector<std::string>& argv) {
  return !argv.empty() && container::cli_flavor(argv[0]) == container::CliFlavor::podman;
}

std::unique_ptr<Tracer> choose_backend(const std::string& name, std::string& why, PtraceStops stops) {
  BackendChoice c = decide_local_backend(name, probe_notify_caps(), ::geteuid() == 0);
  why = c.why;
  return c.name == "notify" ? make_notify_tracer() : make_ptrace_tracer(stops);
}

ContainerChoice choose_container_backend(const Options& o) {
  check_requested(o.backend);
  ContainerChoice c;
  // The sensor's session drives the Docker Engine API; a podman container is
  // not there (it used to be created, looked for in docker, and left behind).
  const bool podman = is_podman_line(o.workload);
  if (o.backend == "ptrace") {
    if (podman)
      fail(ErrorKind::usage, "--backend ptrace: the in-container sensor works through the Docker Engine API; podman "
                             "lines go through listenerPath (--backend auto or notify)");
    c.why = "the in-container ptrace sensor";
    return c;
  }
  const NotifyCaps caps = probe_notify_caps();
  if (!caps.flag_continue) {
    if (o.backend == "notify" || podman)
      fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
    c.why = "auto: this kernel cannot let notified syscalls continue; the in-container ptrace sensor";
    return c;
  }
  const std::string prefix = o.backend == "auto" ? "auto: " : "";
  if (podman) {
    c.backend = ContainerBackend::notify_agent;
    c.why = prefix + "podman passes listenerPath to runc: recorded from the host through the seccomp agent";
    return c;
  }
  // docker: ask the engine.
  std::string why;
  bool passes = false;
  try {
    container::Engine engine;
    passes = engine_passes_listener_path(engine.version_info(), why);
  } catch (const Error& e) {
    if (o.backend == "notify") throw;
    why = fmt::format("could not ask the engine ({})", e.what());
  }
  if (passes) {
    c.backend = ContainerBackend::notify_agent;
    c.why = prefix + why + ": recorded from the host through the seccomp agent";
    return c;
  }
  if (o.backend == "notify") fail(ErrorKind::runtime, "backend notify: {}; use --backend ptrace", why);
  c.why = "auto: " + why + "; the in-container ptrace sensor instead";
  return c;
}

}  // namespace sctrace::cli
