#include <cstdio>

#include "cli/backend.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/atomic_file.h"
#include "profile/emit/summary.h"
#include "profile/minimizer.h"
#include "profile/recorder.h"
#include "profile/templates.h"
#include "tracer/interrupt.h"
#include "tracer/recording_sink.h"
#include "tracer/tracer.h"

namespace sctrace::cli {


void say(const std::string& line) { std::fprintf(stderr, "sctrace: %s\n", line.c_str()); }

SeccompProfile load_template(const std::string& path) {
  if (path.empty()) return docker_default_template();
  return parse_profile(read_file(path), path);
}

SeccompProfile load_profile_file(const std::string& path) { return parse_profile(read_file(path), path); }

int cmd_run(const Options& o) {
  // Everything that can be refused is refused before the workload starts.
  SeccompProfile tmpl = load_template(o.template_path);
  if (is_container_line(o.workload)) {
    if (backend_name(o.backend) == "notify" && is_podman_line(o.workload)) return cmd_run_podman(o, tmpl);
    return cmd_run_container(o, tmpl);
  }
  if (!o.probes.empty() || !o.wait_ports.empty() || o.duration_sec > 0)
    fail(ErrorKind::usage, "probe options need a container line (sctrace run [probes] -- docker run ...)");
  check_writable(o.output);
  if (!o.recording.empty()) check_writable(o.recording);

  std::string why;
  auto tracer = choose_backend(o.backend, why);
  const std::string backend = backend_name(o.backend);
  // The default says nothing more than the final "backend ptrace" line does.
  if (backend != "ptrace") say(fmt::format("backend {} ({})", backend, why));

  Recording rec;
  rec.backend = backend;
  rec.commands.push_back(o.workload);
  RecordingSink sink(rec);

  LaunchSpec spec;
  spec.argv = o.workload;
  spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));

  install_interrupt_handlers();
  ExitStatus st = tracer->run(spec, sink);

  rec.complete = interrupt_count() == 0 && !st.timed_out;
  if (st.timed_out) say(fmt::format("workload killed after the --timeout of {} s", o.timeout_sec));
  if (interrupt_count() > 0) say("interrupted: writing what was recorded so far (marked incomplete)");

  if (!o.recording.empty()) write_file_atomic(o.recording, recording_to_json(rec));
  MinimizeOptions mopts;
  mopts.no_new_privileges = o.no_new_privileges;
  MinimizeResult res = minimize(rec, tmpl, mopts);
  write_file_atomic(o.output, to_docker_json(res.profile));

  say(fmt::format("traced {} syscall{} in {} process{}; backend {}", sink.events(), sink.events() == 1 ? "" : "s",
                  sink.processes(), sink.processes() == 1 ? "" : "es", backend));
  std::fputs(summary_text(res).c_str(), stderr);
  say(fmt::format("wrote {}{}{}", o.output, o.recording.empty() ? "" : " and " + o.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  return st.shell_code();
}

int cmd_merge(const Options& o) {
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
    write_file_atomic(o.merge_profile, to_docker_json(res.profile));
    std::fputs(summary_text(res).c_str(), stderr);
    say(fmt::format("wrote {}", o.merge_profile));
  }
  return 0;
}

}  // namespace sctrace::cli
