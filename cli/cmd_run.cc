#include <cstdio>

#include "cli/commands.h"
#include "cli/podman.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/formats.h"
#include "profile/emit/summary.h"
#include "profile/minimizer.h"
#include "profile/profile_input.h"
#include "profile/templates.h"
#include "session/record.h"

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
  // session/record.h refuses the rest before the workload starts.
  return record({.argv = o.workload, .backend = o.backend, .ptrace_stops = o.ptrace_stops,
                 .tmpl = load_template(o.template_path),
                 .outputs = {o.format, o.output, o.recording, unlisted_from_name(o.unlisted)},
                 .timeout_sec = o.timeout_sec, .stack_depth = o.stack_depth,
                 .no_new_privileges = o.no_new_privileges, .baseline = o.baseline,
                 .runtime_baseline = o.runtime_baseline, .service = service_options(o),
                 .report_json = o.report_json, .sarif = o.sarif, .fail_on = o.fail_on,
                 .verify_hardening = o.verify_hardening, .static_mode = o.static_mode},
                say);
}

int cmd_merge(const Options& o) {
  check_distinct_outputs({{"-o", o.output}, {"--profile", o.merge_profile}});
  return run_merge({o.inputs, o.output, o.merge_profile, o.no_new_privileges, unlisted_from_name(o.unlisted)},
                   load_template(o.template_path), say);
}

}  // namespace sctrace::cli
