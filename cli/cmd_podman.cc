// `sctrace run --backend notify -- podman run ...` (and docker, where the
// engine passes listenerPath; and `runc run` on a bundle): the container runs
// under a recording profile whose allowed syscalls are all SCMP_ACT_NOTIFY,
// with listenerPath pointing at sctrace's seccomp agent, and every notified
// syscall is recorded and let through. No sensor, no ptrace, no image change.
// How the line runs is session/oci_agent.h; the profiles the runtime loads
// (and why write, rt_sigreturn and restart_syscall stay allowed) are
// profile/agent_profile.h. This file turns Options into those calls, says
// what happened and writes the outputs.
//
// - The template's defaultAction and its non-allow rules are kept: what the
//   template denies stays denied while recording. A template whose default is
//   SCMP_ACT_ALLOW cannot be used (runc refuses NOTIFY as the default).
// - Docker 20.10 drops listenerPath and the container hangs on its first
//   notified syscall (session/backend.h's select_backend checks the engine first; a runtime that
//   never connects is also caught by a watchdog, session/agent_container.h).
//
// `sctrace check --profile P -- podman|runc run ...` (cli/cmd_check.cc) runs
// the same way with another profile, check_runtime_profile(P), and a handler
// that runs P's compiled watch program on each notification.
#include <cstdio>
#include <functional>
#include <string>

#include "advice/container_config.h"
#include "cli/commands.h"
#include "cli/podman.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/exit_status.h"
#include "core/redact.h"
#include "profile/agent_profile.h"
#include "profile/emit/formats.h"
#include "profile/emit/summary.h"
#include "profile/minimizer.h"
#include "profile/recorder.h"
#include "session/container_run.h"
#include "session/oci_agent.h"
#include "session/recording_sink.h"
#include "session/runc_line.h"
#include "tracer/container/session.h"
#include "tracer/interrupt.h"
#include "tracer/probes.h"

namespace sctrace::cli {

namespace {

// Minimize and write the outputs. runc's part is in the recording, and the
// runtime baseline is still added: Go's scheduler calls (nanosleep,
// sched_yield, tgkill...) depend on timing, so one start may not make them
// and the next one would break.
RunOutputs write_outputs(const Options& o, Recording& rec, const SeccompProfile& tmpl, MinimizeOptions mopts) {
  const RunOutputs out = run_outputs(o, rec.complete);
  if (!out.recording.empty()) write_file_atomic(out.recording, recording_to_json(rec));
  mopts.unlisted = unlisted_from_name(o.unlisted);
  MinimizeResult m = minimize(rec, tmpl, mopts);
  for (const auto& note : write_profile(m.profile, mopts.ctx, o.format, out.output)) say(note);
  std::fputs(summary_text(m).c_str(), stderr);
  return out;
}

// What `sctrace run` does with an agent workload: record every notification.
int record_with_agent(const Options& o, const SeccompProfile& tmpl, const AgentWorkload& w,
                      std::function<std::string(const std::string&)> backend_line) {
  for (const auto& p : profile_paths(o.format, o.output)) check_writable(p);
  if (!o.recording.empty()) check_writable(o.recording);

  Recording rec;
  rec.backend = "notify";
  rec.commands = {without_secrets(o.workload)};
  RecordingSink sink(rec);
  RecordAll handler(sink);
  AgentRunSpec spec;
  spec.profile_name = "recording profile";
  spec.profile = [&](const std::string& listener) { return sctrace::recording_profile(tmpl, listener); };
  spec.backend_line = std::move(backend_line);
  const AgentRunResult res = run_with_agent(o, w, spec, handler, &sink);
  if (res.interrupted && !res.connected) {  // stopped before a container ran: nothing to write
    say("interrupted before the container ran: nothing recorded, nothing written");
    return interrupted_exit_code();
  }
  add_unnotifiable_write(sink);

  rec.complete = !res.interrupted && !res.timed_out && res.all_gone && res.agent_errors.empty() && res.probes_ok &&
                 !sink.own_listener();
  if (sink.own_listener()) say(own_listener_note(*sink.own_listener()) + " (the recording is marked incomplete)");
  MinimizeOptions mopts;
  mopts.no_new_privileges = w.no_new_privileges;
  mopts.ctx = w.ctx;
  const RunOutputs out = write_outputs(o, rec, tmpl, mopts);

  say(fmt::format("recorded {} notifications from {} container process{} ('write' added: runc cannot notify it)",
                  res.notifications, res.container_processes, res.container_processes == 1 ? "" : "es"));
  for (const auto& f : res.probe_failures) say(f);
  if (!res.all_gone)
    say("processes still held the recording filter after the container stopped; the recording may miss their end");
  if (res.timed_out) say(fmt::format("the container was stopped at the --timeout of {} s", o.timeout_sec));
  if (res.interrupted) say("interrupted: the container was stopped and removed; the profile is incomplete");
  say(fmt::format("wrote {}{}{}", out.output, out.recording.empty() ? "" : " and " + out.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  if (res.planned_stop && res.exit_code != 0) say(planned_stop_line(res.exit_code));
  return exit_code_of({.workload_code = res.planned_stop ? 0 : res.exit_code, .timed_out = res.timed_out, .interrupted = res.interrupted,
                       .interrupt_signal = last_interrupt_signal(), .probes_failed = !res.probes_ok});
}

}  // namespace


container::SessionOptions session_options(const Options& o) {
  container::SessionOptions s;
  s.argv = o.workload;
  ServicePlan plan = service_plan(o);  // the probes parsed as the agent path parses them
  s.probes = std::move(plan.probes);
  s.wait_ports = std::move(plan.wait_ports);
  s.ready_timeout_sec = plan.ready_timeout_sec;
  s.duration_sec = plan.duration_sec;
  s.timeout_sec = o.timeout_sec;
  s.stack_depth = o.stack_depth;
  return s;
}

bool wants_service(const Options& o) { return !o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0; }

ServicePlan service_plan(const Options& o) {
  ServicePlan plan;
  for (const auto& p : o.probes) {
    if (p.kind == "http") plan.probes.push_back(parse_http_probe(p.text));
    else if (p.kind == "cmd") plan.probes.push_back(parse_probe_cmd(p.text));
    else plan.probes.push_back(parse_exec_probe(p.text));
  }
  for (const auto& wp : o.wait_ports) plan.wait_ports.push_back(parse_wait_port(wp).port);
  plan.ready_timeout_sec = o.ready_timeout_sec;
  plan.duration_sec = o.duration_sec;
  return plan;
}

AgentWorkload prepare_agent_workload(const Options& o) {
  AgentWorkload w = parse_agent_workload(o.workload, wants_service(o), o.no_new_privileges);
  if (!w.runc) service_plan(o);  // the probes are parsed before anything starts
  require_notify_continue();
  return w;
}

AgentRunRequest agent_run_request(const Options& o, const AgentRunSpec& spec) {
  AgentRunRequest req;
  req.service = service_plan(o);
  req.timeout_sec = o.timeout_sec;
  req.profile_name = spec.profile_name;
  req.profile = spec.profile;
  req.backend_line = spec.backend_line;
  req.say = [](const std::string& line) { say(line); };
  return req;
}

AgentRunResult run_with_agent(const Options& o, const AgentWorkload& w, const AgentRunSpec& spec,
                              NotifyHandler& handler, EventSink* process_events) {
  return sctrace::run_with_agent(w, agent_run_request(o, spec), handler, process_events);
}

int cmd_run_notify_container(const Options& o, const SeccompProfile& tmpl, const std::string& why) {
  if (!o.report_json.empty() || !o.sarif.empty() || !o.fail_on.empty() || o.verify_hardening)
    fail(ErrorKind::usage, "the hardening report (--report-json, --sarif, --fail-on, --verify-hardening) comes from "
                           "the sensor's session: docker lines only{}",
         is_podman_line(o.workload) ? "" : " (--backend ptrace)");
  const AgentWorkload w = prepare_agent_workload(o);
  return record_with_agent(o, tmpl, w, [&](const std::string& socket) {
    return fmt::format("backend notify ({}; seccomp agent at {}; runc's own syscalls after its filter are recorded)",
                       why, socket);
  });
}

int cmd_run_runc(const Options& o, const SeccompProfile& tmpl) {
  const AgentWorkload w = prepare_agent_workload(o);
  return record_with_agent(o, tmpl, w, [&](const std::string& socket) {
    return fmt::format("backend notify (runc run with a copy of {}/config.json whose linux.seccomp is the recording "
                       "profile; seccomp agent at {})",
                       w.bundle, socket);
  });
}

}  // namespace sctrace::cli
