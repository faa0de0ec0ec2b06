#include "cli/backend.h"

#include <unistd.h>

#include "core/error.h"
#include "tracer/container/docker_args.h"
#include "tracer/notify.h"
#include "tracer/notify_tracer.h"

namespace sctrace::cli {

std::string backend_name(const std::string& name) {
  if (name == "auto" || name == "ptrace") return "ptrace";
  if (name == "notify") return "notify";
  fail(ErrorKind::usage, "unknown backend '{}' (auto, ptrace or notify)", name);
}

bool is_podman_line(const std::vector<std::string>& argv) {
  return !argv.empty() && container::cli_flavor(argv[0]) == container::CliFlavor::podman;
}

std::unique_ptr<Tracer> choose_backend(const std::string& name, std::string& why) {
  const std::string resolved = backend_name(name);
  if (resolved == "ptrace") {
    why = name == "auto" ? "default; sees results" : "sees results";
    return make_ptrace_tracer();
  }
  const NotifyCaps caps = probe_notify_caps();
  if (!caps.user_notif)
    fail(ErrorKind::runtime, "backend notify: seccomp user notification is not available here (needs Linux 5.0+)");
  if (!caps.flag_continue)
    fail(ErrorKind::runtime, "backend notify: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
  why = "seccomp user notification; no syscall results";
  why += caps.sync_wakeup ? "; synchronous wake-up" : "; no synchronous wake-up (Linux < 6.6): slower";
  if (::geteuid() != 0) why += "; not root: filter installed with no_new_privs";
  return make_notify_tracer();
}

}  // namespace sctrace::cli
