// `sctrace calibrate [--runtime runc|crun|podman|docker] [--starts N] [-o FILE]`:
// which syscalls the OCI runtime itself makes after it installed the
// container's seccomp filter and before the entrypoint runs, measured on this
// host. The container is a do-nothing static program (an ELF of three
// instructions, generated here: exit_group(0)) in an otherwise empty root
// filesystem, started N times with noNewPrivileges false and N times with it
// true, under the recording profile of the notify backend (every allow turned
// into SCMP_ACT_NOTIFY, listenerPath = sctrace's seccomp agent). Everything
// recorded except the entrypoint's own exit_group is the runtime's; `write`
// cannot be notified (runc refuses) and is added, as in the bundled baseline.
//
// The result is written in the format of templates/runtime-baseline.json, for
// `sctrace run --runtime-baseline FILE`. An existing FILE is updated: the
// measured lists and "runtime" are replaced, "go_runtime" and anything else
// kept. "calibration" says in how many of the N starts each name was seen.
//
// Docker 20.10 drops listenerPath (the container would hang), so
// `--runtime docker` fails there with a message; Docker runs containers with
// runc, so `--runtime runc` measures the same runtime.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "session/backend.h"
#include "session/calibrate.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "profile/agent_profile.h"
#include "profile/recording.h"
#include "profile/templates.h"
#include "session/recording_sink.h"
#include "tracer/child_process.h"
#include "tracer/container/engine.h"
#include "tracer/container/listener.h"
#include "tracer/container/session.h"
#include "tracer/notify.h"

namespace sctrace::cli {

namespace {

constexpr std::chrono::milliseconds kAgentGrace{3000};

}  // namespace

int cmd_calibrate(const Options& o) {
  const std::string& rt = o.runtime;
  if (rt != "runc" && rt != "crun" && rt != "podman" && rt != "docker")
    fail(ErrorKind::usage, "calibrate: unknown runtime '{}' (runc, crun, podman or docker)", rt);
  if (o.starts < 1) fail(ErrorKind::usage, "calibrate: --starts must be at least 1");
  check_writable(o.calibrate_output);
  if (!probe_notify_caps().flag_continue)
    fail(ErrorKind::runtime, "calibrate: the kernel cannot let notified syscalls continue (needs Linux 5.5+)");
  if (rt == "docker") {
    std::string why;
    container::Engine engine;
    if (!engine_passes_listener_path(engine.version_info(), why))
      fail(ErrorKind::runtime,
           "calibrate --runtime docker: {}, so the runtime's syscalls cannot be recorded through it; Docker starts "
           "containers with runc: `sctrace calibrate --runtime runc` measures the same runtime",
           why);
  }

  const OwnedPath dir = calibrate_temp_dir();
  const std::unique_ptr<CalibrationStarter> starter = make_calibration_starter(rt, dir.path());
  const std::string version = starter->runtime_version();
  const SeccompProfile& tmpl = docker_default_template();
  const std::string write_name = "write";

  CalibrationSeen seen;
  int n = 0;
  for (bool nnp : {false, true}) {
    for (int i = 0; i < o.starts; ++i) {
      container::SeccompAgent agent;
      Recording rec;
      RecordingSink sink(rec);
      RecordAll handler(sink);
      agent.start(handler);
      int status = starter->start(recording_profile(tmpl, agent.socket_path()), nnp, dir.path(), n++);
      agent.stop(kAgentGrace);
      for (const auto& e : agent.errors()) say("seccomp agent: " + e);
      if (agent.connections().empty())
        fail(ErrorKind::runtime, "calibrate: {} never connected to the seccomp agent (exit status {})", rt,
             shell_code(status));
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(ErrorKind::runtime, "calibrate: the do-nothing container failed under the recording profile ({})",
             WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status)) : "killed");
      std::set<std::string> names;
      for (const auto& [a, calls] : rec.syscalls)
        for (const auto& [name, r] : calls) names.insert(name);
      names.erase("exit_group");  // the entrypoint's only syscall
      names.insert(write_name);   // runc cannot notify it
      for (const auto& s : names) ++seen[nnp][s];
    }
    say(fmt::format("{} start{} with noNewPrivileges {}: {} syscalls after the filter", o.starts,
                    o.starts == 1 ? "" : "s", nnp ? "true" : "false", seen[nnp].size()));
  }

  const std::string text = calibrated_baseline(o.calibrate_output, rt, version, o.starts, seen);
  write_file_atomic(o.calibrate_output, text);
  say(fmt::format("wrote {} ({})", o.calibrate_output, version));
  return 0;
}

}  // namespace sctrace::cli
