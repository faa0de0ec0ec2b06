#include "session/record.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "core/redact.h"
#include "profile/agent_profile.h"
#include "profile/emit/formats.h"
#include "profile/filter.h"
#include "profile/templates.h"
#include "session/check.h"
#include "session/container_run.h"
#include "session/oci_agent.h"
#include "session/recording_sink.h"
#include "session/static_completion.h"
#include "session/workload.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"

namespace sctrace {

namespace {

const char* signal_abbrev(int sig) { return sigabbrev_np(sig) ? sigabbrev_np(sig) : "?"; }

// A local command through Backend (session/backend.h).
int record_local(const RecordRequest& req, const Workload& w, const RuntimeBaseline* runtime_baseline,
                 const SayFn& say) {
  if (req.service.wanted())
    fail(ErrorKind::usage, "probe options need a container line (sctrace run [probes] -- docker run ...)");
  for (const auto& p : profile_paths(req.outputs.format, req.outputs.output)) check_writable(p);
  // --baseline OLD: only what OLD does not cover stops the workload; the
  // recording written is OLD plus what was new (counts of known syscalls stay OLD's).
  std::optional<Recording> baseline;
  if (!req.baseline.empty()) baseline = recording_from_json(read_file(req.baseline), req.baseline);
  if (!req.outputs.recording.empty()) check_writable(req.outputs.recording);

  // A command that cannot run is one error line, before any other output.
  resolve_command(w.argv.at(0));
  const BackendChoice choice = select_backend(w, req.backend, req.ptrace_stops, machine_probes());
  RunRequest request;
  request.timeout = std::chrono::milliseconds(static_cast<int64_t>(req.timeout_sec * 1000));
  // Watched as check watches a profile: what OLD covers runs in the kernel,
  // except the calls that could aim at sctrace, which reach the tracer always
  // so that it refuses those (compiled here: refused before starting).
  if (baseline) watch_profile(request, baseline_profile(*baseline), EvalContext::docker_default());

  Recorded r;
  Recording& rec = r.rec;
  std::optional<RecordingSink> sink;
  std::string name;
  auto run = [&](BackendKind kind) {
    const std::unique_ptr<Backend> backend = make_backend(kind, req.ptrace_stops);
    name = backend_kind_name(kind);
    sink.reset();  // it writes into rec
    rec = Recording{};
    rec.backend = name;
    rec.commands.push_back(req.argv);
    sink.emplace(rec, AttributionOptions{req.stack_depth, backend->caps().stopped_in_sink});
    return backend->run(w, request, *sink);
  };
  name = backend_kind_name(choice.kind);
  say(fmt::format("backend {} ({})", name, choice.why));
  BackendOutcome outcome = run(choice.kind);
  // A workload that asks for its own seccomp listener gets EBUSY under
  // notify. With --backend auto the choice was sctrace's, so sctrace records
  // it again with ptrace, which leaves the workload's seccomp alone; an
  // explicit --backend notify is kept, and the recording is incomplete.
  bool own_listener_unrecorded = false;
  if (const std::optional<pid_t> pid = sink->own_listener()) {
    const bool again = req.backend == RequestedBackend::automatic && !outcome.interrupted &&
                       !outcome.status.timed_out && interrupt_count() == 0;
    if (again) {
      say(own_listener_note(*pid) + ": recording it again with --backend ptrace (the workload runs a second time)");
      say(fmt::format("backend {} (the workload creates its own seccomp listener)",
                      backend_kind_name(BackendKind::local_ptrace)));
      outcome = run(BackendKind::local_ptrace);
    } else {
      say(own_listener_note(*pid) + "; record it with --backend ptrace");
      own_listener_unrecorded = true;
    }
  }
  const ExitStatus& st = outcome.status;
  if (baseline) {
    Recording merged = *baseline;
    const size_t known_names = merged.total_names();
    merged.merge(rec);
    say(fmt::format("baseline {}: {} syscall{} new ({} known)", req.baseline, merged.total_names() - known_names,
                    merged.total_names() - known_names == 1 ? "" : "s", known_names));
    rec = std::move(merged);
  }

  rec.complete = !outcome.interrupted && !st.timed_out && !own_listener_unrecorded;
  if (st.timed_out) say(fmt::format("workload killed after the --timeout of {} s", req.timeout_sec));
  if (outcome.ended_gracefully)
    say(fmt::format("the workload exited {} after the forwarded SIG{}: its shutdown is in the recording", st.code,
                    signal_abbrev(last_interrupt_signal())));
  else if (outcome.interrupted)
    say("interrupted: writing what was recorded so far (marked incomplete)");

  complete_statically(rec, w, req.static_mode, say);
  r.mopts.no_new_privileges = req.no_new_privileges;
  r.mopts.runtime_baseline = runtime_baseline;
  r.before_summary.push_back(fmt::format("traced {} syscall{} in {} process{}; backend {}", sink->events(),
                                         sink->events() == 1 ? "" : "s", sink->processes(),
                                         sink->processes() == 1 ? "" : "es", name));
  r.attribution = true;
  r.coverage = true;
  // A workload that failed may not have done all it does when it works.
  if (st.signaled && !st.timed_out && interrupt_count() == 0)
    r.after_wrote.push_back(fmt::format("the workload was killed by signal {} (SIG{}){}: the profile covers what it "
                                        "did until then",
                                        st.signal, signal_abbrev(st.signal), st.core_dumped ? ", core dumped" : ""));
  else if (!st.signaled && st.code != 0)
    r.after_wrote.push_back(fmt::format("the workload exited {}: the profile covers what it did until then", st.code));
  write_recorded(req.outputs, req.tmpl, r, say);
  // Killed on a second signal: 128 + the signal sctrace received, not the SIGKILL it sent.
  // A workload that handled the EBUSY and exited 0 still leaves a profile
  // made from its error path: that is not a success.
  const int workload_code = own_listener_unrecorded && st.shell_code() == 0 ? 1 : st.shell_code();
  return exit_code_of({.workload_code = workload_code, .interrupted = st.killed_on_interrupt,
                       .interrupt_signal = last_interrupt_signal()});
}

// podman, runc, Docker >= 23 through the runtime's seccomp agent: every
// notification recorded and let through. runc's part is in the recording,
// and the runtime baseline is still added: Go's scheduler calls (nanosleep,
// sched_yield, tgkill...) depend on timing, so one start may not make them
// and the next one would break.
int record_with_agent(const RecordRequest& req, const Workload& wl, const std::string& why, const SayFn& say) {
  const bool runc = wl.kind == WorkloadKind::runc_bundle;
  if (!runc && (!req.report_json.empty() || !req.sarif.empty() || !req.fail_on.empty() || req.verify_hardening))
    fail(ErrorKind::usage, "the hardening report (--report-json, --sarif, --fail-on, --verify-hardening) comes from "
                           "the sensor's session: docker lines only{}",
         is_podman_line(req.argv) ? "" : " (--backend ptrace)");
  // The line, then its probes, then the kernel: refused before anything starts.
  const AgentWorkload w = parse_agent_workload(req.argv, req.service.wanted(), req.no_new_privileges);
  AgentRunRequest areq;
  areq.service = parse_service_plan(req.service);
  require_notify_continue();
  check_outputs_writable(req.outputs);

  Recorded r;
  Recording& rec = r.rec;
  rec.backend = "notify";
  rec.commands = {without_secrets(req.argv)};
  RecordingSink sink(rec);
  RecordAll handler(sink);
  areq.timeout_sec = req.timeout_sec;
  areq.profile_name = "recording profile";
  areq.profile = [&](const std::string& listener) { return recording_profile(req.tmpl, listener); };
  areq.backend_line = [&](const std::string& socket) {
    if (runc)
      return fmt::format("backend notify (runc run with a copy of {}/config.json whose linux.seccomp is the "
                         "recording profile; seccomp agent at {})",
                         w.bundle, socket);
    return fmt::format("backend notify ({}; seccomp agent at {}; runc's own syscalls after its filter are recorded)",
                       why, socket);
  };
  areq.say = say;
  const AgentRunResult res = run_with_agent(w, areq, handler, &sink);
  if (res.interrupted && !res.connected) {  // stopped before a container ran: nothing to write
    say("interrupted before the container ran: nothing recorded, nothing written");
    return interrupted_exit_code();
  }
  add_unnotifiable_write(sink);

  rec.complete = !res.interrupted && !res.timed_out && res.all_gone && res.agent_errors.empty() && res.probes_ok &&
                 !sink.own_listener();
  if (sink.own_listener()) say(own_listener_note(*sink.own_listener()) + " (the recording is marked incomplete)");
  r.mopts.no_new_privileges = w.no_new_privileges;
  r.mopts.ctx = w.ctx;
  r.after_summary.push_back(
      fmt::format("recorded {} notifications from {} container process{} ('write' added: runc cannot notify it)",
                  res.notifications, res.container_processes, res.container_processes == 1 ? "" : "es"));
  for (const auto& f : res.probe_failures) r.after_summary.push_back(f);
  if (!res.all_gone)
    r.after_summary.push_back("processes still held the recording filter after the container stopped; the recording "
                              "may miss their end");
  if (res.timed_out)
    r.after_summary.push_back(fmt::format("the container was stopped at the --timeout of {} s", req.timeout_sec));
  if (res.interrupted)
    r.after_summary.push_back("interrupted: the container was stopped and removed; the profile is incomplete");
  if (res.planned_stop && res.exit_code != 0) r.after_wrote.push_back(planned_stop_line(res.exit_code));
  r.coverage = true;
  write_recorded(req.outputs, req.tmpl, r, say);
  return exit_code_of({.workload_code = res.planned_stop ? 0 : res.exit_code, .timed_out = res.timed_out,
                       .interrupted = res.interrupted, .interrupt_signal = last_interrupt_signal(),
                       .probes_failed = !res.probes_ok});
}

}  // namespace

int record(const RecordRequest& req, const SayFn& say) {
  // --runtime-baseline FILE (from `sctrace calibrate`) replaces the embedded
  // baseline; the notify container paths record the runtime instead.
  std::optional<RuntimeBaseline> runtime_baseline;
  if (!req.runtime_baseline.empty())
    runtime_baseline = parse_runtime_baseline(read_file(req.runtime_baseline), req.runtime_baseline);
  const Workload w = parse_workload(req.argv);
  if (!req.baseline.empty() && w.kind != WorkloadKind::local)
    fail(ErrorKind::usage, "--baseline: local workloads only (not container lines yet)");
  // A container line or a bundle is decided here, a local command once its
  // own checks have passed (they come first, as they always did).
  if (w.kind != WorkloadKind::local) {
    const BackendChoice choice = select_backend(w, req.backend, req.ptrace_stops, machine_probes());
    switch (choice.kind) {
      case BackendKind::oci_agent: return record_with_agent(req, w, choice.why, say);
      case BackendKind::docker_sensor: {
        const int code = run_docker_sensor(
            {.session = sensor_session(req.argv, parse_service_plan(req.service), req.timeout_sec, req.stack_depth),
             .tmpl = &req.tmpl, .outputs = req.outputs, .runtime_baseline = req.runtime_baseline,
             .report_json = req.report_json, .sarif = req.sarif, .fail_on = req.fail_on,
             .verify_hardening = req.verify_hardening},
            say);
        // Said after the run, so that a line the engine refuses stays one error line.
        if (req.backend == RequestedBackend::automatic) say(fmt::format("backend ptrace-sensor ({})", choice.why));
        return code;
      }
      case BackendKind::local_ptrace:
      case BackendKind::local_notify:
        break;  // runc run with --backend ptrace (or no notify here): traced like any local command, runc included
    }
  }
  return record_local(req, w, runtime_baseline ? &*runtime_baseline : nullptr, say);
}

}  // namespace sctrace
