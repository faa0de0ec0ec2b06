// `sctrace check --profile P [--enforce] [--sarif F] [--junit F] [--report-json F] -- COMMAND`
//
// The drift guard for CI: COMMAND runs under a watch filter compiled from P
// (profile/filter.h compile_watch_filter): what P allows passes in the kernel
// without waking sctrace, everything else stops once and is recorded as a
// violation (arch, name, arguments, pid, executable, call site), then runs
// unchanged, or fails with P's errno (defaultErrnoRet, else EPERM) under
// --enforce. What the profile answers ENOSYS (Docker's clone3 rule, the
// errno policy, runc's stub) is answered ENOSYS here too, in the kernel, and
// not reported: libc falls back as in production, and the fallback is checked.
//
// Exit status (documented in README):
//   1          at least one violation (whatever the workload did);
//   otherwise  the workload's own status, as a shell reports it (so a failing
//              test suite still fails the job): 0, its exit code, 128+signal,
//              124 after --timeout, 128+signal after Ctrl-C/SIGTERM.
// The reports (stderr, --report-json, --sarif, --junit) say which case it was;
// they are written from report/check_report.h's model by report/.
//
// Container lines are checked the way `run` records them (session/backend.h
// select_backend):
// - `docker run ...` on an engine that drops listenerPath (Docker 20.10), or
//   --backend ptrace: the in-container sensor, which gets the compiled
//   program with --watch-filter and records only violations (no executable
//   or call site there: the recording keeps arguments and pids). The program
//   stops the self-defence calls always (session/check.h watch_program), so
//   the sensor refuses those aimed at it whatever P allows.
// - `podman run ...`, `docker run ...` on an engine that passes listenerPath,
//   and `runc run -b BUNDLE ID` (backend notify): the OCI seccomp agent
//   (cli/podman.h, session/oci_agent.h). The runtime loads
//   check_runtime_profile(P): what P allows whatever the arguments is
//   SCMP_ACT_ALLOW in the kernel, every other syscall libseccomp knows is
//   SCMP_ACT_NOTIFY (runc refuses NOTIFY as the default action, so they are
//   named), defaultAction is P's. session/check.h's AgentCheck runs P's watch
//   program on each notification: a violation is recorded (pid, executable,
//   call site, the six arguments). The self-defence calls are notified
//   always and the agent refuses those aimed at sctrace
//   (tracer/container/listener.h). runc hands the listener over with `write`, `rt_sigreturn` and
//   `restart_syscall`, so they always run and cannot be watched; when P does
//   not allow them whatever their arguments, the report says so. Probes, -d
//   and --timeout work as in `run`.
#include <linux/seccomp.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/podman.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/verdict.h"
#include "core/redact.h"
#include "profile/recording.h"
#include "report/check_report.h"
#include "session/backend.h"
#include "session/check.h"
#include "session/outputs.h"
#include "session/workload.h"
#include "tracer/container/session.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/probes.h"

namespace sctrace::cli {

namespace {

// The report's header: what was checked, how; the run fills in the rest.
CheckReport new_report(const Options& o, std::optional<int> deny, std::string backend) {
  CheckReport r;
  r.profile = o.profile;
  r.command = without_secrets(o.workload);
  r.backend = std::move(backend);
  r.enforce = o.enforce;
  r.deny_errno = deny;
  return r;
}

int finish(const CheckReport& r, const Options& o) {
  return write_check_report(r, {o.report_json, o.sarif, o.junit}, say);
}

// `docker run ...`: the sensor watches with the compiled program and records
// only what it stops on.
int check_container(const Options& o, const SeccompProfile& profile, std::optional<int> deny) {
  container::SessionOptions s = session_options(o);
  // The sensor is a ptrace tracer: the program answers SECCOMP_RET_TRACE. It
  // stops the self-defence calls always, marked where P lets them run, so the
  // sensor refuses those aimed at it (PID 1, or a probe's parent).
  std::vector<sock_filter> prog = watch_program(profile, EvalContext::docker_default(), SECCOMP_RET_TRACE);
  s.watch_filter_bpf.assign(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter));
  s.deny_errno = deny;
  // The sensor's program must be the only filter: under the engine's own
  // (Docker's default, or a seccomp= on the line) a syscall that filter
  // refuses never reaches the sensor, so a keyctl or unshare outside PROFILE
  // went unreported. The podman and local checks see those; so does this now.
  s.seccomp_json = "unconfined";

  const auto start = std::chrono::steady_clock::now();
  container::SessionResult res = container::run_session(s);
  CheckReport r = new_report(o, deny, "ptrace-sensor");
  r.exit_code = res.exit_code;
  r.timed_out = res.timed_out;
  r.interrupted = res.interrupted;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Recording rec;
  for (size_t i = 0; i < res.recordings.size(); ++i)
    rec.merge(recording_from_json(res.recordings[i], fmt::format("sensor recording {}", i)));
  r.violations = violations_from_recording(rec);
  say_refusals(rec, say);
  for (const auto& f : res.probe_failures) say(f);
  r.probes_failed = !res.probes_ok;
  r.exit_code = exit_code_of({.workload_code = res.planned_stop && rec.complete ? 0 : res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                              .interrupt_signal = last_interrupt_signal(), .probes_failed = r.probes_failed},
                             ProbeFailureCode::one_unless_workload_failed);
  return finish(r, o);
}

// `podman run ...`, `runc run ...`, a `docker run ...` whose engine passes
// listenerPath: through the OCI seccomp agent (see the top of this file).
int check_with_agent(const Options& o, const SeccompProfile& profile, std::optional<int> deny,
                     const std::string& why) {
  const AgentWorkload w = prepare_agent_workload(o);
  ViolationSink sink;
  AgentCheck handler(compile_watch_filter(profile, w.ctx, SECCOMP_RET_USER_NOTIF), sink, deny);
  std::vector<std::string> unwatchable;
  AgentRunSpec spec;
  spec.profile_name = "check profile";
  spec.profile = [&](const std::string& listener) {
    unwatchable.clear();
    return agent_check_profile(profile, w.ctx, listener, &unwatchable);
  };
  spec.backend_line = [&](const std::string& socket) {
    return fmt::format("backend notify ({}; the check profile's listenerPath is sctrace's seccomp agent at {})", why,
                       socket);
  };

  const auto start = std::chrono::steady_clock::now();
  // The sink hears of the calls the agent refused for aiming at sctrace.
  const AgentRunResult res = run_with_agent(o, w, spec, handler, &sink);
  sink.say_refusals(say);
  CheckReport r = new_report(o, deny, "notify-agent");
  r.violations = sink.take();
  r.exit_code = res.exit_code;
  r.timed_out = res.timed_out;
  r.interrupted = res.interrupted;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& n : unwatchable)
    say(fmt::format("note: {} is not allowed by {} whatever its arguments, but runc needs it to hand the seccomp "
                    "listener over: it ran unwatched",
                    n, o.profile));
  for (const auto& f : res.probe_failures) say(f);
  if (!res.all_gone) say("processes still held the check filter after the container stopped; their end was not watched");
  r.probes_failed = !res.probes_ok;
  r.exit_code = exit_code_of({.workload_code = res.planned_stop ? 0 : res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                              .interrupt_signal = last_interrupt_signal(), .probes_failed = r.probes_failed},
                             ProbeFailureCode::one_unless_workload_failed);
  return finish(r, o);
}

}  // namespace

int cmd_check(const Options& o) {
  // Everything that can be refused is refused before the workload starts.
  SeccompProfile profile = load_profile_file(o.profile);
  const EvalContext ctx = EvalContext::docker_default();
  compile_watch_filter(profile, ctx, SECCOMP_RET_USER_NOTIF);  // throws for what libseccomp rejects
  check_distinct_outputs({{"--sarif", o.sarif}, {"--junit", o.junit}, {"--report-json", o.report_json}});
  for (const std::string* f : {&o.sarif, &o.junit, &o.report_json})
    if (!f->empty()) check_writable(*f);
  std::optional<int> deny;
  if (o.enforce) deny = enforce_errno(profile);

  const Workload w = parse_workload(o.workload);
  auto decide = [&] { return select_backend(w, o.backend, o.ptrace_stops, machine_probes()); };
  // A container line or a bundle is decided here, a local command once the
  // probe options are refused.
  if (w.kind != WorkloadKind::local) {
    const BackendChoice choice = decide();
    switch (choice.kind) {
      case BackendKind::oci_agent: return check_with_agent(o, profile, deny, choice.why);
      case BackendKind::docker_sensor:
        say(fmt::format("backend ptrace-sensor ({})", choice.why));
        return check_container(o, profile, deny);
      case BackendKind::local_ptrace:
      case BackendKind::local_notify:
        break;  // runc run with --backend ptrace (or no notify here): checked like any local command
    }
  }
  if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
    fail(ErrorKind::usage, "probe options need a container line (sctrace check [probes] -- docker run ...)");

  const BackendChoice choice = decide();
  const std::unique_ptr<Backend> backend = make_backend(choice.kind, o.ptrace_stops);
  const std::string name(backend_kind_name(choice.kind));
  say(fmt::format("backend {} ({})", name, choice.why));

  // --enforce with a profile that refuses execve: the workload's own execve
  // is the violation, and it cannot start (exit 126, like a shell).
  if (deny) resolve_command(o.workload.at(0));  // a missing command is the usual one-line error first
  if (deny && refused_natively(compile_filter(profile, ctx, FilterMode::enforce), "execve")) {
    CheckReport r = new_report(o, deny, name);
    r.violations.push_back(refused_execve());
    r.exit_code = 126;
    say(fmt::format("{} cannot start: its execve is what {} refuses", o.workload[0], o.profile));
    return finish(r, o);
  }

  ViolationSink sink;
  RunRequest request;
  request.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  watch_profile(request, profile, ctx);
  request.deny_errno = deny;

  const auto start = std::chrono::steady_clock::now();
  const BackendOutcome outcome = backend->run(w, request, sink);
  const ExitStatus& st = outcome.status;

  sink.say_refusals(say);
  CheckReport r = new_report(o, deny, name);
  r.violations = sink.take();
  if (st.signaled) {
    r.signal = st.signal;
    r.core_dumped = st.core_dumped;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.timed_out = st.timed_out;
  // A service that shut down cleanly on the forwarded signal was checked to its end.
  r.interrupted = outcome.interrupted;
  r.exit_code = exit_code_of(outcome.exit_outcome());
  return finish(r, o);
}

}  // namespace sctrace::cli
