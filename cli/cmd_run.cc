#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "cli/commands.h"
#include "core/error.h"
#include "core/atomic_file.h"
#include "profile/emit/formats.h"
#include "profile/emit/summary.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/profile_input.h"
#include "profile/recorder.h"
#include "profile/templates.h"
#include "session/backend.h"
#include "session/container_run.h"
#include "session/recording_sink.h"
#include "session/static_completion.h"
#include "session/workload.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/container/session.h"
#include "tracer/tracer.h"

namespace sctrace::cli {

void say(const std::string& line) { std::fprintf(stderr, "sctrace: %s\n", line.c_str()); }

SeccompProfile load_template(const std::string& path) {
  if (path.empty()) return docker_default_template();
  return load_profile_file(path);
}

// Every shape `run --format` writes (profile/profile_input.h).
LoadedProfile load_profile_input(const std::string& path) {
  LoadedProfile lp;
  lp.text = read_file(path);
  lp.input = parse_any_profile(lp.text, path);
  for (const auto& note : lp.input.notes) say(note);
  return lp;
}

SeccompProfile load_profile_file(const std::string& path) { return std::move(load_profile_input(path).input.profile); }

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::map<std::string, std::string> seen;  // the file, compared as an absolute path -> the option naming it
  for (const auto& [option, path] : outputs) {
    // Devices and /dev/stdout are written in place: two of them never replace each other.
    if (path.empty() || written_in_place(path)) continue;
    std::error_code ec;
    std::string key = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec).string();
    if (ec) key = path;
    auto [it, fresh] = seen.emplace(key, option);
    if (!fresh) fail(ErrorKind::usage, "{} and {} name the same file ({}): one would replace the other", it->second,
                     option, path);
  }
}

RunOutputs run_outputs(const Options& o, bool complete) {
  return sctrace::run_outputs({o.format, o.output, o.recording}, complete, say);
}

int cmd_run(const Options& given) {
  // The recording goes beside the profile unless --recording names it:
  // `sctrace explain` and `sctrace diff` read it later, maybe elsewhere. A
  // profile written to a device, a pipe or /dev/stdout has no "beside": the
  // name next to it (/dev/stdout.recording.json) would be a stray file in /dev.
  Options o = given;
  // The same goes for k8s's second file, the localhost profile written
  // beside the YAML (/dev/stdout.json in /dev).
  if (profile_format_from_name(o.format) == ProfileFormat::k8s && written_in_place(o.output))
    fail(ErrorKind::usage, "--format k8s writes two files (the YAML and the JSON beside it): -o {} is not a file",
         o.output);
  if (o.recording.empty() && !written_in_place(o.output)) o.recording = default_recording_path(o.output);
  {
    std::vector<std::pair<std::string, std::string>> outs;
    for (const auto& p : profile_paths(o.format, o.output)) outs.emplace_back("-o", p);
    outs.emplace_back("--recording", o.recording);
    outs.emplace_back("--report-json", o.report_json);
    outs.emplace_back("--sarif", o.sarif);
    check_distinct_outputs(outs);
    // --recording may be the --baseline (updated in place); the profile may not.
    for (const auto& p : profile_paths(o.format, o.output)) check_distinct_outputs({{"-o", p}, {"--baseline", o.baseline}});
  }
  // Everything that can be refused is refused before the workload starts.
  SeccompProfile tmpl = load_template(o.template_path);
  // --runtime-baseline FILE (from `sctrace calibrate`) replaces the embedded
  // baseline; the notify container paths record the runtime instead.
  std::optional<RuntimeBaseline> runtime_baseline_override;
  if (!o.runtime_baseline.empty())
    runtime_baseline_override = parse_runtime_baseline(read_file(o.runtime_baseline), o.runtime_baseline);
  const Workload w = parse_workload(o.workload);
  if (!o.baseline.empty() && w.kind != WorkloadKind::local)
    fail(ErrorKind::usage, "--baseline: local workloads only (not container lines yet)");
  auto decide = [&] { return select_backend(w, o.backend, o.ptrace_stops, machine_probes()); };
  // A container line or a bundle is decided here, a local command once the
  // checks below have passed (they come first, as they always did).
  if (w.kind != WorkloadKind::local) {
    const BackendChoice choice = decide();
    switch (choice.kind) {
      case BackendKind::oci_agent:
        return w.kind == WorkloadKind::runc_bundle ? cmd_run_runc(o, tmpl) : cmd_run_notify_container(o, tmpl, choice.why);
      case BackendKind::docker_sensor: {
        const int code = run_docker_sensor({.session = session_options(o), .tmpl = &tmpl,
                                            .outputs = {o.format, o.output, o.recording},
                                            .runtime_baseline = o.runtime_baseline, .report_json = o.report_json,
                                            .sarif = o.sarif, .fail_on = o.fail_on,
                                            .verify_hardening = o.verify_hardening},
                                           say);
        // Said after the run, so that a line the engine refuses stays one error line.
        if (o.backend == RequestedBackend::automatic) say(fmt::format("backend ptrace-sensor ({})", choice.why));
        return code;
      }
      case BackendKind::local_ptrace:
      case BackendKind::local_notify:
        break;  // runc run with --backend ptrace (or no notify here): traced like any local command, runc included
    }
  }
  if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
    fail(ErrorKind::usage, "probe options need a container line (sctrace run [probes] -- docker run ...)");
  for (const auto& p : profile_paths(o.format, o.output)) check_writable(p);
  // --baseline OLD: only what OLD does not cover stops the workload; the
  // recording written is OLD plus what was new (counts of known syscalls stay OLD's).
  std::optional<Recording> baseline;
  if (!o.baseline.empty()) baseline = recording_from_json(read_file(o.baseline), o.baseline);
  if (!o.recording.empty()) check_writable(o.recording);

  // A command that cannot run is one error line, before any other output.
  resolve_command(o.workload.at(0));
  const BackendChoice choice = decide();
  RunRequest request;
  request.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  if (baseline) {
    SeccompProfile known = baseline_profile(*baseline);
    compile_watch_filter(known, EvalContext::docker_default(), SECCOMP_RET_TRACE);  // refuse before starting
    request.watch_filter = [known](uint32_t a) { return compile_watch_filter(known, EvalContext::docker_default(), a); };
  }

  Recording rec;
  std::optional<RecordingSink> sink;
  std::string name;
  auto record = [&](BackendKind kind) {
    const std::unique_ptr<Backend> backend = make_backend(kind, o.ptrace_stops);
    name = backend_kind_name(kind);
    sink.reset();  // it writes into rec
    rec = Recording{};
    rec.backend = name;
    rec.commands.push_back(o.workload);
    sink.emplace(rec, AttributionOptions{o.stack_depth, backend->caps().stopped_in_sink});
    return backend->run(w, request, *sink);
  };
  name = backend_kind_name(choice.kind);
  say(fmt::format("backend {} ({})", name, choice.why));
  BackendOutcome outcome = record(choice.kind);
  // A workload that asks for its own seccomp listener gets EBUSY under
  // notify. With --backend auto the choice was sctrace's, so sctrace records
  // it again with ptrace, which leaves the workload's seccomp alone; an
  // explicit --backend notify is kept, and the recording is incomplete.
  bool own_listener_unrecorded = false;
  if (const std::optional<pid_t> pid = sink->own_listener()) {
    const bool again = o.backend == RequestedBackend::automatic && !outcome.interrupted && !outcome.status.timed_out &&
                       interrupt_count() == 0;
    if (again) {
      say(own_listener_note(*pid) + ": recording it again with --backend ptrace (the workload runs a second time)");
      say(fmt::format("backend {} (the workload creates its own seccomp listener)",
                      backend_kind_name(BackendKind::local_ptrace)));
      outcome = record(BackendKind::local_ptrace);
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
    say(fmt::format("baseline {}: {} syscall{} new ({} known)", o.baseline, merged.total_names() - known_names,
                    merged.total_names() - known_names == 1 ? "" : "s", known_names));
    rec = std::move(merged);
  }

  rec.complete = !outcome.interrupted && !st.timed_out && !own_listener_unrecorded;
  if (st.timed_out) say(fmt::format("workload killed after the --timeout of {} s", o.timeout_sec));
  if (outcome.ended_gracefully)
    say(fmt::format("the workload exited {} after the forwarded SIG{}: its shutdown is in the recording", st.code,
                    sigabbrev_np(last_interrupt_signal()) ? sigabbrev_np(last_interrupt_signal()) : "?"));
  else if (outcome.interrupted)
    say("interrupted: writing what was recorded so far (marked incomplete)");

  say_refusals(rec, say);
  complete_statically(rec, w, o.static_mode, say);
  const RunOutputs out = run_outputs(o, rec.complete);
  if (!out.recording.empty()) write_file_atomic(out.recording, recording_to_json(rec));
  MinimizeOptions mopts;
  mopts.no_new_privileges = o.no_new_privileges;
  if (runtime_baseline_override) mopts.runtime_baseline = &*runtime_baseline_override;
  MinimizeResult res = minimize(rec, tmpl, mopts);
  for (const auto& note : write_profile(res.profile, mopts.ctx, o.format, out.output)) say(note);

  say(fmt::format("traced {} syscall{} in {} process{}; backend {}", sink->events(), sink->events() == 1 ? "" : "s",
                  sink->processes(), sink->processes() == 1 ? "" : "es", name));
  std::fputs(summary_text(res).c_str(), stderr);
  std::fputs(attribution_text(rec).c_str(), stderr);
  say(fmt::format("wrote {}{}{}", out.output, out.recording.empty() ? "" : " and " + out.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  // A workload that failed may not have done all it does when it works.
  if (st.signaled && !st.timed_out && interrupt_count() == 0)
    say(fmt::format("the workload was killed by signal {} (SIG{}){}: the profile covers what it did until then",
                    st.signal, sigabbrev_np(st.signal) ? sigabbrev_np(st.signal) : "?",
                    st.core_dumped ? ", core dumped" : ""));
  else if (!st.signaled && st.code != 0)
    say(fmt::format("the workload exited {}: the profile covers what it did until then", st.code));
  // Killed on a second signal: 128 + the signal sctrace received, not the SIGKILL it sent.
  // A workload that handled the EBUSY and exited 0 still leaves a profile
  // made from its error path: that is not a success.
  const int workload_code = own_listener_unrecorded && st.shell_code() == 0 ? 1 : st.shell_code();
  return exit_code_of({.workload_code = workload_code, .interrupted = st.killed_on_interrupt,
                       .interrupt_signal = last_interrupt_signal()});
}

int cmd_merge(const Options& o) {
  check_distinct_outputs({{"-o", o.output}, {"--profile", o.merge_profile}});
  SeccompProfile tmpl = load_template(o.template_path);
  check_writable(o.output);
  if (!o.merge_profile.empty()) check_writable(o.merge_profile);
  Recording merged;
  for (const auto& in : o.inputs) merged.merge(recording_from_json(read_file(in), in));
  write_file_atomic(o.output, recording_to_json(merged));
  say(fmt::format("merged {} recordings: {} distinct syscalls", o.inputs.size(), merged.total_names()));
  if (!o.merge_profile.empty()) {
    MinimizeOptions mopts;
    mopts.no_new_privileges = o.no_new_privileges;
    MinimizeResult res = minimize(merged, tmpl, mopts);
    for (const auto& note : write_profile(res.profile, mopts.ctx, "docker", o.merge_profile)) say(note);
    std::fputs(summary_text(res).c_str(), stderr);
    say(fmt::format("wrote {}", o.merge_profile));
  }
  return 0;
}

}  // namespace sctrace::cli
