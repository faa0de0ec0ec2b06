#include "session/container_run.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "advice/container_config.h"
#include "advice/hardening.h"
#include "advice/inspect.h"
#include "advice/verify.h"
#include "core/atomic_file.h"
#include "core/redact.h"
#include "profile/emit/formats.h"
#include "profile/templates.h"
#include "report/json.h"
#include "report/sarif.h"
#include "report/text.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/engine.h"
#include "tracer/interrupt.h"

namespace sctrace {

Recording merged_recordings(const std::vector<std::string>& jsons) {
  Recording rec;
  for (size_t i = 0; i < jsons.size(); ++i)
    rec.merge(recording_from_json(jsons[i], fmt::format("sensor recording {}", i)));
  return rec;
}

MinimizeOptions minimize_options_for(const nlohmann::json& inspect) {
  const ContainerConfig config = container_config_from_inspect(inspect);
  MinimizeOptions m;
  m.ctx.caps = config.caps;
  m.no_new_privileges = config.no_new_privileges;
  return m;
}

container::SessionOptions sensor_session(const std::vector<std::string>& argv, ServicePlan plan, double timeout_sec,
                                         int stack_depth) {
  container::SessionOptions s;
  s.argv = argv;
  s.probes = std::move(plan.probes);
  s.wait_ports = std::move(plan.wait_ports);
  s.ready_timeout_sec = plan.ready_timeout_sec;
  s.duration_sec = plan.duration_sec;
  s.timeout_sec = timeout_sec;
  s.stack_depth = stack_depth;
  return s;
}

namespace {

// The user's line as the hardening rewrite sees it.
RunLine run_line_of(const std::vector<std::string>& argv) {
  container::DockerRun run = container::parse_docker_run(argv);
  RunLine l;
  l.prefix.push_back(run.cli);
  l.prefix.insert(l.prefix.end(), run.command.begin(), run.command.end());
  for (const auto& f : run.flags) l.options.push_back({f.name, f.value});
  l.image = run.image;
  l.args = run.args;
  return l;
}

// Docker >= 20.10 sets net.ipv4.ip_unprivileged_port_start=0 in every
// container network namespace it creates (moby #41030); podman does not.
bool daemon_allows_low_ports(const std::vector<std::string>& argv) {
  if (container::cli_flavor(argv.at(0)) != container::CliFlavor::docker) return false;
  try {
    container::Engine e;
    std::string v = e.version_info().value("Version", "");
    int major = 0, minor = 0;
    if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) != 2) return false;
    return major > 20 || (major == 20 && minor >= 10);
  } catch (const Error&) {
    return false;
  }
}

// "" or " (128 + N: killed by SIGNAME)" for a container code: the engine
// reports a death by signal N as 128+N.
std::string signal_note(int container_code) {
  const int sig = container_code - 128;
  const char* abbrev = sig > 0 && sig < 65 ? sigabbrev_np(sig) : nullptr;
  return abbrev ? fmt::format(" (128 + {}: killed by SIG{})", sig, abbrev) : "";
}

// --verify-hardening: the hardened command through the same probes, no
// sensor; advice/verify.h decides which plans to try.
void verify_hardening(const RunLine& line, const container::SessionResult& traced, HardeningReport& rep,
                      const container::SessionOptions& base, const SayFn& say) {
  auto passes = [&](const HardeningPlan& p, const std::string& what) {
    if (interrupt_count() > 0) return false;  // interrupted: no more containers
    container::SessionOptions s = base;
    s.write_cidfile = false;  // --cidfile names the traced container
    s.argv = hardened_argv(line, p, traced.config);
    s.with_sensor = false;
    say(fmt::format("verify hardening ({}): {}", what, advice::join(s.argv, " ")));
    try {
      container::SessionResult r = container::run_session(s);
      // The codes are compared: a capability the hardened line drops fails
      // with EPERM, which no seccomp denial shows (a server that cannot
      // kill its workers at the stop exits otherwise). The one difference the
      // sensor itself makes at sctrace's planned stop: as PID 1 a service
      // without a SIGTERM handler ignores the stop and is SIGKILLed at the end
      // of the grace period (137); traced, the sensor is PID 1 and the
      // service dies of the forwarded SIGTERM (143).
      const bool pid1_ignored_stop = r.planned_stop && traced.planned_stop && r.exit_code == 128 + SIGKILL &&
                                     traced.exit_code == 128 + SIGTERM;
      const bool same_end = r.exit_code == traced.exit_code || pid1_ignored_stop;
      bool ok = r.probes_ok && !r.interrupted && !r.timed_out && same_end;
      say(fmt::format("verify hardening ({}): {} (exit {}, probes {})", what, ok ? "passed" : "failed", r.exit_code,
                      r.probes_ok ? "ok" : "failed"));
      return ok;
    } catch (const Error& e) {
      say(fmt::format("verify hardening ({}): failed: {}", what, e.what()));
      return false;
    }
  };
  // The hardened command passes secret-looking variables by name only
  // (-e NAME): docker reads them from this process's environment.
  for (const auto& opt : line.options)
    if ((opt.name == "env" || opt.name == "e") && opt.value && opt.value->find('=') != std::string::npos) {
      std::string n = opt.value->substr(0, opt.value->find('='));
      std::string v = opt.value->substr(opt.value->find('=') + 1);
      if (looks_like_secret(n, v)) ::setenv(n.c_str(), v.c_str(), 1);
    }
  verify_plan(rep, line, traced.config, passes);
}

// Least privilege beyond seccomp: capabilities, the line's weak spots, the
// hardened command. Returns how many findings reach --fail-on.
size_t harden(const ContainerRunRequest& req, const container::SessionResult& res, const Recording& rec,
              const std::string& profile_path, const SayFn& say) {
  const std::vector<std::string>& argv = req.session.argv;
  RunLine line = run_line_of(argv);
  HardeningInput hin;
  hin.recording = &rec;
  hin.inspect = &res.config;
  hin.tmpl = req.tmpl;
  hin.line = line;
  hin.seccomp_profile_path =
      std::filesystem::absolute(docker_readable_path(req.outputs.format, profile_path)).string();
  hin.changes = res.changes;
  hin.setid_files = res.setid_files;
  hin.unprivileged_low_ports = daemon_allows_low_ports(argv);
  HardeningReport hr = analyze_hardening(hin);
  if (req.verify_hardening && res.probes_ok) verify_hardening(line, res, hr, req.session, say);
  std::fputs(report_text(hr, ::isatty(STDERR_FILENO) == 1).c_str(), stderr);
  if (!req.report_json.empty()) write_file_atomic(req.report_json, report_json(hr));
  if (!req.sarif.empty()) write_file_atomic(req.sarif, report_sarif(hr));
  if (!req.report_json.empty() || !req.sarif.empty())
    say(fmt::format("wrote {}", req.report_json.empty() ? req.sarif
                                : req.sarif.empty()     ? req.report_json
                                                        : req.report_json + " and " + req.sarif));
  const std::optional<Severity> fail_on = req.fail_on.empty() ? std::nullopt : severity_from_name(req.fail_on);
  return fail_on ? count_at_or_above(hr, *fail_on) : 0;
}

}  // namespace

std::string planned_stop_line(int container_code) {
  return fmt::format("the container exited {}{} when sctrace stopped it (its probes and --duration done): its own "
                     "status, not sctrace's",
                     container_code, signal_note(container_code));
}

int run_docker_sensor(const ContainerRunRequest& req, const SayFn& say) {
  check_outputs_writable(req.outputs);
  if (!req.report_json.empty()) check_writable(req.report_json);
  if (!req.sarif.empty()) check_writable(req.sarif);
  container::SessionResult res = container::run_session(req.session);
  if (res.interrupted && res.recordings.empty()) {  // stopped before the workload ran: nothing to write
    say("interrupted before the container ran: nothing recorded, nothing written");
    return interrupted_exit_code();
  }

  Recorded r;
  Recording& rec = r.rec;
  rec = merged_recordings(res.recordings);
  rec.commands = {without_secrets(req.session.argv)};
  rec.backend = "ptrace-sensor";
  rec.complete = rec.complete && !res.interrupted && !res.timed_out && res.probes_ok;
  r.mopts = minimize_options_for(res.config);
  std::optional<RuntimeBaseline> baseline_override;
  if (!req.runtime_baseline.empty()) {
    baseline_override = parse_runtime_baseline(read_file(req.runtime_baseline), req.runtime_baseline);
    r.mopts.runtime_baseline = &*baseline_override;
  }
  r.attribution = true;
  r.coverage = true;
  r.after_summary = res.probe_failures;
  if (res.interrupted) r.after_summary.push_back("interrupted: the container was stopped and removed; the profile is incomplete");
  if (res.timed_out)
    r.after_wrote.push_back(fmt::format("the container was stopped at the --timeout of {} s", req.session.timeout_sec));
  // A planned stop is sctrace's own only when the sensor saw the end: a
  // service that ignored the stop's SIGTERM took the sensor down with the
  // SIGKILL at the end of the grace period, and its last second is lost.
  const bool planned_end = res.planned_stop && rec.complete;
  if (planned_end && res.exit_code != 0)
    r.after_wrote.push_back(planned_stop_line(res.exit_code));
  else if (!res.interrupted && !res.timed_out && res.exit_code != 0)
    r.after_wrote.push_back(fmt::format("the container exited {}{}: the profile covers what it did until then",
                                        res.exit_code, signal_note(res.exit_code)));
  const RunOutputs out = write_recorded(req.outputs, *req.tmpl, r, say);

  const size_t failing = !res.interrupted && !res.timed_out ? harden(req, res, rec, out.output, say) : 0;
  // Like a shell: 128+signal when interrupted (also during the hardening
  // verification), 124 (timeout(1)'s code) when the time limit stopped it, 1
  // when a probe failed.
  const int code = exit_code_of({.workload_code = planned_end ? 0 : res.exit_code, .timed_out = res.timed_out,
                                 .interrupted = res.interrupted || interrupt_count() > 0,
                                 .interrupt_signal = last_interrupt_signal(), .probes_failed = !res.probes_ok});
  // --fail-on: 1 when the run itself succeeded but a finding reached the threshold.
  if (code == 0 && failing > 0) {
    say(fmt::format("{} finding{} at or above --fail-on {}", failing, failing == 1 ? "" : "s", req.fail_on));
    return 1;
  }
  return code;
}

}  // namespace sctrace
