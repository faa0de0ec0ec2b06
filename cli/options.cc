#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cli/argv.h"
#include "core/error.h"

namespace sctrace::cli {

namespace {

// A number of seconds: finite, from 0 (none) to a year, and when not 0 at
// least a millisecond (the unit the deadlines use; 0.0004 used to mean "no
// limit" and 1e10 overflowed into an immediate one).
const CLI::Validator kSeconds(
    [](std::string& v) -> std::string {
      const char* s = v.c_str();
      char* end = nullptr;
      errno = 0;
      const double d = std::strtod(s, &end);
      if (v.empty() || end == s || *end != '\0' || errno == ERANGE || !std::isfinite(d))
        return fmt::format("'{}' is not a number of seconds", v);
      if (d < 0) return fmt::format("{} is negative", v);
      if (d > 31536000) return fmt::format("{} s is more than a year", v);
      if (d > 0 && d < 0.001) return fmt::format("{} s is below a millisecond", v);
      return {};
    },
    "SEC");

void add_probe_options(CLI::App* sub, Options& o, std::vector<std::string>& http, std::vector<std::string>& cmd,
                       std::vector<std::string>& exec) {
  sub->add_option("--http-probe", http, "Container mode: HTTP probe PORT[/PATH] or METHOD:PORT/PATH (repeatable)");
  sub->add_option("--probe-cmd", cmd,
                  "Container mode: host shell command run as a probe, with SCTRACE_PORT_<port> and "
                  "SCTRACE_CONTAINER set (repeatable)");
  sub->add_option("--exec-probe", exec, "Container mode: command run inside the container, traced (repeatable)");
  sub->add_option("--wait-port", o.wait_ports, "Container mode: wait for this container port before probing");
  sub->add_option("--ready-timeout", o.ready_timeout_sec, "Container mode: seconds to wait for readiness")
      ->check(kSeconds)
      ->capture_default_str();
  sub->add_option("--duration", o.duration_sec, "Container mode: keep the service up SEC seconds after the probes")
      ->check(kSeconds);
}

// Checked as text, so that a bad value is CLI11's usual one-line message;
// turned into the enum once parsing is done.
void add_backend(CLI::App* sub, std::string& backend) {
  sub->add_option("--backend", backend,
                  "Recording backend: auto (notify where the kernel and the runtime support it, else ptrace; "
                  "says which), ptrace, notify (seccomp user notification)")
      ->check(CLI::IsMember({"auto", "ptrace", "notify"}))
      ->capture_default_str();
}

void add_timeout(CLI::App* sub, Options& o) {
  sub->add_option("--timeout", o.timeout_sec, "Kill the workload after SEC seconds (0 = no limit)")
      ->check(kSeconds);
}

}  // namespace

Options parse_args(int argc, const char* const* argv) {
  Options o;
  CLI::App app{"sctrace: records what a workload does and writes the least-privilege seccomp profile for it",
               "sctrace"};
  app.require_subcommand(0, 1);
  // Extras (unknown options, a subcommand's leftovers) are collected by
  // leftovers() and refused or taken as the workload there.
  app.allow_extras();
  bool version = false;
  app.add_flag("--version", version, "Print the version");
  std::string backend = "auto";       // o.backend, once checked
  std::string ptrace_stops = "auto";  // o.ptrace_stops, once checked
  std::string static_mode = "benign";  // o.static_mode, once checked

  CLI::App* run = app.add_subcommand("run", "Trace COMMAND and write a minimized seccomp profile");
  run->add_option("-o,--output", o.output, "Profile to write (Docker JSON)")->capture_default_str();
  run->add_option("--recording", o.recording, "Also write the recording (JSON) here");
  run->add_option("--template", o.template_path, "Template profile (default: the bundled Docker default)");
  run->add_flag("--no-new-privileges", o.no_new_privileges,
                "The container will run with no-new-privileges (smaller runtime baseline)");
  add_timeout(run, o);
  add_backend(run, backend);
  run->add_option("--report-json", o.report_json, "Container mode: write the hardening report (JSON) here");
  run->add_option("--sarif", o.sarif, "Container mode: write the hardening findings (SARIF 2.1.0) here");
  run->add_option("--fail-on", o.fail_on, "Container mode: exit 1 when a finding of this severity or worse is found")
      ->check(CLI::IsMember({"high", "medium", "low"}));
  run->add_flag("--verify-hardening", o.verify_hardening,
                "Container mode: re-run the container with the hardened flags and keep only what passes");
  run->add_option("--format", o.format, "Profile format: docker, oci (runtime-spec linux.seccomp), k8s "
                  "(security-profiles-operator SeccompProfile), podman")
      ->check(CLI::IsMember({"docker", "oci", "k8s", "podman"}))
      ->capture_default_str();
  run->add_option("--baseline", o.baseline,
                  "Incremental: a previous recording; only what it does not cover stops the workload, and the "
                  "output is the old recording plus what was new");
  run->add_option("--ptrace-stops", ptrace_stops,
                  "ptrace backend: one (seccomp-driven, one stop per syscall), two (syscall entry and exit), "
                  "auto (the faster)")
      ->check(CLI::IsMember({"auto", "one", "two"}))
      ->capture_default_str();
  run->add_option("--stack-depth", o.stack_depth, "Frames per captured call stack (0: no call-site attribution)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  run->add_option("--unlisted", o.unlisted, "What the profile does with calls the recording did not see: errno "
                  "(denied, the template's default) or log (allowed and logged by the kernel; see harvest)")
      ->check(CLI::IsMember({"errno", "log"}))
      ->capture_default_str();
  run->add_option("--runtime-baseline", o.runtime_baseline,
                  "Runtime baseline written by `sctrace calibrate` (default: the bundled one)");
  run->add_option("--static", static_mode, "Local workloads: add the benign syscalls the loaded modules can reach "
                  "but the run did not make (off, benign; all adds sensitive ones too)")
      ->check(CLI::IsMember({"off", "benign", "all"}))->capture_default_str();
  std::vector<std::string> http, cmd, exec;
  add_probe_options(run, o, http, cmd, exec);
  run->prefix_command();

  CLI::App* merge = app.add_subcommand("merge", "Union recordings into one");
  merge->add_option("-o,--output", o.output, "Merged recording to write")->required();
  merge->add_option("--profile", o.merge_profile, "Also write the profile minimized from the merged recording");
  merge->add_option("--template", o.template_path, "Template profile (default: the bundled Docker default)");
  merge->add_flag("--no-new-privileges", o.no_new_privileges, "Use the no-new-privileges runtime baseline");
  merge->add_option("--unlisted", o.unlisted, "--profile's answer to calls no recording saw: errno or log (canary)")
      ->check(CLI::IsMember({"errno", "log"}));
  merge->add_option("recordings", o.inputs, "Recordings to merge")->required()->check(CLI::ExistingFile);

  CLI::App* verify = app.add_subcommand("verify", "Run COMMAND with the profile enforced and report denials");
  verify->add_option("--profile", o.profile, "Profile to enforce")->required();
  add_timeout(verify, o);
  add_backend(verify, backend);
  add_probe_options(verify, o, http, cmd, exec);
  verify->prefix_command();

  CLI::App* check = app.add_subcommand(
      "check", "Run COMMAND with PROFILE watched: exit 1 when it makes a syscall the profile does not allow");
  check->add_option("--profile", o.profile, "The committed profile to check against")->required();
  check->add_flag("--enforce", o.enforce, "Deny violations (with the profile's errno) instead of letting them run");
  check->add_option("--sarif", o.sarif, "Write the violations as SARIF 2.1.0 here");
  check->add_option("--junit", o.junit, "Write the result as a JUnit XML report here");
  check->add_option("--report-json", o.report_json, "Write the violations (JSON) here");
  add_timeout(check, o);
  add_backend(check, backend);
  add_probe_options(check, o, http, cmd, exec);
  check->prefix_command();

  CLI::App* explain = app.add_subcommand("explain", "Why is SYSCALL in the profile: callers, stacks, gating capability");
  explain->add_option("syscall", o.syscall_name, "Syscall name")->required();
  explain->add_option("--recording", o.recording, "Recording to read")->capture_default_str();
  explain->add_flag("--json", o.json, "Machine-readable output");

  CLI::App* diff = app.add_subcommand("diff", "What NEW allows that OLD did not (profiles or recordings); exit 1 if any");
  diff->add_option("old", o.inputs, "OLD and NEW profile or recording")->required()->expected(2);
  diff->add_flag("--json", o.json, "Machine-readable output");

  CLI::App* calibrate = app.add_subcommand(
      "calibrate", "Record the syscalls the OCI runtime makes after installing the filter, and write the baseline");
  calibrate->add_option("--runtime", o.runtime, "Runtime to calibrate")
      ->check(CLI::IsMember({"runc", "crun", "podman", "docker"}))
      ->capture_default_str();
  calibrate->add_option("--starts", o.starts, "Container starts to record")->check(CLI::Range(1, 100))
      ->capture_default_str();
  calibrate->add_option("-o,--output", o.calibrate_output, "Baseline to write (or update)")->capture_default_str();

  CLI::App* harvest = app.add_subcommand(
      "harvest", "Read the kernel's seccomp log records (profiles from run --unlisted log) into a recording");
  harvest->add_option("-o,--output", o.output, "Recording to write")->required();
  harvest->add_option("--since", o.since, "Only records of the last DURATION (90s, 15m, 2h, 1d)");
  harvest->add_option("--container", o.container, "Only the processes of this running Docker container");
  harvest->add_option("--exe", o.exe, "Only calls made by this executable (its path as the process saw it)");

  CLI::App* enforce = app.add_subcommand("enforce", "Exec COMMAND under the profile, as the runtime would load it");
  enforce->add_option("--profile", o.profile, "Profile to enforce")->required();
  enforce->prefix_command();

  const std::vector<std::string> shown = hide_after_dashdash(argc, argv, {run, verify, check, enforce});
  std::vector<const char*> shown_argv;
  for (const auto& a : shown) shown_argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(shown_argv.size()), shown_argv.data());
  } catch (const CLI::CallForHelp&) {
    o.command = Command::help;
    for (CLI::App* sub : {run, merge, verify, enforce, check, explain, diff, calibrate, harvest})
      if (sub->parsed()) {
        o.help_text = sub->help();
        return o;
      }
    o.help_text = app.help();
    return o;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    fail(ErrorKind::usage, "{}", msg.empty() ? e.get_name() : msg);
  }

  o.backend = requested_backend_from_name(backend);
  o.ptrace_stops = ptrace_stops_from_name(ptrace_stops);
  o.static_mode = static_mode_from_name(static_mode);
  // The workload's own arguments come after sctrace's, so the first
  // occurrences in argv are the ones CLI11 took.
  o.probes = probes_in_order(argc, argv);
  o.probes.resize(std::min(o.probes.size(), http.size() + cmd.size() + exec.size()));
  if (version) {
    o.command = Command::version;
  } else if (run->parsed()) {
    o.command = Command::run;
    o.workload = workload_from(&app, run, argc, argv);
  } else if (merge->parsed()) {
    o.command = Command::merge;
    no_extras(&app, merge);
  } else if (verify->parsed()) {
    o.command = Command::verify;
    o.workload = workload_from(&app, verify, argc, argv);
  } else if (check->parsed()) {
    o.command = Command::check;
    o.workload = workload_from(&app, check, argc, argv);
  } else if (explain->parsed()) {
    o.command = Command::explain;
    no_extras(&app, explain);
    // `run` writes its recording beside the profile unless told otherwise.
    if (o.recording.empty()) o.recording = "seccomp-profile.recording.json";
  } else if (diff->parsed()) {
    o.command = Command::diff;
    no_extras(&app, diff);
  } else if (calibrate->parsed()) {
    o.command = Command::calibrate;
    no_extras(&app, calibrate);
  } else if (harvest->parsed()) {
    o.command = Command::harvest;
    no_extras(&app, harvest);
  } else if (enforce->parsed()) {
    o.command = Command::enforce;
    o.workload = workload_from(&app, enforce, argc, argv);
  } else if (!app.remaining(false).empty()) {
    fail(ErrorKind::usage, "unknown command '{}' (see sctrace --help)", app.remaining(false).front());
  } else {
    o.command = Command::help;
    o.help_text = app.help();
  }
  return o;
}

}  // namespace sctrace::cli
