// Container mode of run and verify: `sctrace run [probes] -- docker run ...`.
#include <linux/seccomp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>

#include "advice/container_config.h"
#include "advice/hardening.h"
#include "advice/inspect.h"
#include "advice/verify.h"
#include "session/workload.h"
#include "cli/commands.h"
#include "cli/podman.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/formats.h"
#include "profile/profile_input.h"
#include "profile/emit/summary.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/recording.h"
#include "profile/templates.h"
#include "report/json.h"
#include "report/sarif.h"
#include "report/text.h"
#include "tracer/container/docker_args.h"
#include "tracer/container/engine.h"
#include "tracer/container/session.h"
#include "tracer/interrupt.h"

namespace sctrace::cli {

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

namespace {

// The capability set and no-new-privileges of the container as configured,
// which is what Docker evaluates the template's includes/excludes against.
MinimizeOptions minimize_options_for(const nlohmann::json& inspect) {
  const ContainerConfig config = container_config_from_inspect(inspect);
  MinimizeOptions m;
  m.ctx.caps = config.caps;
  m.no_new_privileges = config.no_new_privileges;
  return m;
}

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

// --verify-hardening: the hardened command through the same probes, no
// sensor; advice/verify.h decides which plans to try.
void verify_hardening(const RunLine& line, const container::SessionResult& traced, HardeningReport& rep,
                      const container::SessionOptions& base) {
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

}  // namespace

std::string planned_stop_line(int container_code) {
  // The engine reports a death by signal N as 128+N.
  const int sig = container_code - 128;
  const char* abbrev = sig > 0 && sig < 65 ? sigabbrev_np(sig) : nullptr;
  return fmt::format("the container exited {}{} when sctrace stopped it (its probes and --duration done): its own "
                     "status, not sctrace's",
                     container_code, abbrev ? fmt::format(" (128 + {}: killed by SIG{})", sig, abbrev) : "");
}

int cmd_run_container(const Options& o, const SeccompProfile& tmpl) {
  for (const auto& p : profile_paths(o.format, o.output)) check_writable(p);
  if (!o.recording.empty()) check_writable(o.recording);
  if (!o.report_json.empty()) check_writable(o.report_json);
  if (!o.sarif.empty()) check_writable(o.sarif);
  container::SessionResult res = container::run_session(session_options(o));
  if (res.interrupted && res.recordings.empty()) {  // stopped before the workload ran: nothing to write
    say("interrupted before the container ran: nothing recorded, nothing written");
    return interrupted_exit_code();
  }

  Recording rec;
  for (size_t i = 0; i < res.recordings.size(); ++i)
    rec.merge(recording_from_json(res.recordings[i], fmt::format("sensor recording {}", i)));
  rec.commands = {without_secrets(o.workload)};
  rec.backend = "ptrace-sensor";
  rec.complete = rec.complete && !res.interrupted && !res.timed_out && res.probes_ok;
  say_refusals(rec);
  const RunOutputs out = run_outputs(o, rec.complete);
  if (!out.recording.empty()) write_file_atomic(out.recording, recording_to_json(rec));
  MinimizeOptions mopts = minimize_options_for(res.config);
  std::optional<RuntimeBaseline> baseline_override;
  if (!o.runtime_baseline.empty()) {
    baseline_override = parse_runtime_baseline(read_file(o.runtime_baseline), o.runtime_baseline);
    mopts.runtime_baseline = &*baseline_override;
  }
  MinimizeResult m = minimize(rec, tmpl, mopts);
  for (const auto& note : write_profile(m.profile, mopts.ctx, o.format, out.output)) say(note);

  std::fputs(summary_text(m).c_str(), stderr);
  std::fputs(attribution_text(rec).c_str(), stderr);
  for (const auto& f : res.probe_failures) say(f);
  if (res.interrupted) say("interrupted: the container was stopped and removed; the profile is incomplete");
  say(fmt::format("wrote {}{}{}", out.output, out.recording.empty() ? "" : " and " + out.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  if (res.timed_out) say(fmt::format("the container was stopped at the --timeout of {} s", o.timeout_sec));
  // A planned stop is sctrace's own only when the sensor saw the end: a
  // service that ignored the stop's SIGTERM took the sensor down with the
  // SIGKILL at the end of the grace period, and its last second is lost.
  const bool planned_end = res.planned_stop && rec.complete;
  if (planned_end && res.exit_code != 0) {
    say(planned_stop_line(res.exit_code));
  } else if (!res.interrupted && !res.timed_out && res.exit_code != 0) {
    // The engine reports a death by signal N as 128+N.
    const int sig = res.exit_code - 128;
    const char* abbrev = sig > 0 && sig < 65 ? sigabbrev_np(sig) : nullptr;
    say(fmt::format("the container exited {}{}: the profile covers what it did until then", res.exit_code,
                    abbrev ? fmt::format(" (128 + {}: killed by SIG{})", sig, abbrev) : ""));
  }

  // Least privilege beyond seccomp: capabilities, the line's weak spots, the
  // hardened command.
  bool complete_run = !res.interrupted && !res.timed_out;
  std::optional<Severity> fail_on = o.fail_on.empty() ? std::nullopt : severity_from_name(o.fail_on);
  size_t failing = 0;
  if (complete_run) {
    RunLine line = run_line_of(o.workload);
    HardeningInput hin;
    hin.recording = &rec;
    hin.inspect = &res.config;
    hin.tmpl = &tmpl;
    hin.line = line;
    hin.seccomp_profile_path = std::filesystem::absolute(docker_readable_path(o.format, out.output)).string();
    hin.changes = res.changes;
    hin.setid_files = res.setid_files;
    hin.unprivileged_low_ports = daemon_allows_low_ports(o.workload);
    HardeningReport hr = analyze_hardening(hin);
    if (o.verify_hardening && res.probes_ok) verify_hardening(line, res, hr, session_options(o));
    std::fputs(report_text(hr, ::isatty(STDERR_FILENO) == 1).c_str(), stderr);
    if (!o.report_json.empty()) write_file_atomic(o.report_json, report_json(hr));
    if (!o.sarif.empty()) write_file_atomic(o.sarif, report_sarif(hr));
    if (!o.report_json.empty() || !o.sarif.empty())
      say(fmt::format("wrote {}", o.report_json.empty() ? o.sarif
                                  : o.sarif.empty() ? o.report_json : o.report_json + " and " + o.sarif));
    if (fail_on) failing = count_at_or_above(hr, *fail_on);
  }
  // Like a shell: 128+signal when interrupted (also during the hardening
  // verification), 124 (timeout(1)'s code) when the time limit stopped it, 1
  // when a probe failed.
  const int code = exit_code_of({.workload_code = planned_end ? 0 : res.exit_code, .timed_out = res.timed_out,
                                 .interrupted = res.interrupted || interrupt_count() > 0,
                                 .interrupt_signal = last_interrupt_signal(), .probes_failed = !res.probes_ok});
  // --fail-on: 1 when the run itself succeeded but a finding reached the threshold.
  if (code == 0 && failing > 0) {
    say(fmt::format("{} finding{} at or above --fail-on {}", failing, failing == 1 ? "" : "s", o.fail_on));
    return 1;
  }
  return code;
}

int cmd_verify_container(const Options& o) {
  // podman: runc loads the profile with sctrace's seccomp agent as its
  // listener; each call the profile refuses is answered with the profile's
  // errno and named. That is `check --enforce`, whose report this prints.
  if (is_podman_line(o.workload)) {
    Options c = o;
    c.enforce = true;
    const int code = cmd_check(c);
    if (interrupt_count() > 0) {
      say("interrupted: the container was stopped and removed; nothing verified");
      return code;  // 128+signal, from check
    }
    say(fmt::format("verify {}: the profile enforced by the runtime, each refused call named by the seccomp agent",
                    code == 0 ? "passed" : "FAILED"));
    return code == 0 ? 0 : 1;
  }
  LoadedProfile loaded = load_profile_input(o.profile);
  const SeccompProfile& profile = loaded.input.profile;
  // Docker reads its own schema only: a Docker-shaped file goes as it is,
  // the other shapes (OCI, config.json, a SeccompProfile) as the same model
  // in Docker JSON.
  const std::string profile_json =
      loaded.input.shape == ProfileShape::docker && !loaded.input.yaml ? loaded.text : to_docker_json(profile);

  // Pass 1: the real thing. The user's line with the profile enforced by
  // Docker, no sensor, the same probes.
  container::SessionOptions enforced = session_options(o);
  enforced.with_sensor = false;
  enforced.seccomp_json = profile_json;
  say("verify pass 1: the container with the profile enforced");
  container::SessionResult r1 = container::run_session(enforced);
  if (r1.interrupted) {  // a Ctrl-C stops verify, it does not start pass 2
    say("interrupted: the container was stopped and removed; nothing verified");
    return interrupted_exit_code();
  }

  // Pass 2: the sensor records the same run under the user's own settings, and
  // every recorded call is checked against the profile, so denials are named
  // even when the workload survives them.
  container::SessionOptions traced = session_options(o);
  traced.write_cidfile = false;  // --cidfile names pass 1's container, the one under the profile
  say("verify pass 2: the container traced, each syscall checked against the profile");
  container::SessionResult r2 = container::run_session(traced);
  if (r2.interrupted) {
    say("interrupted: the container was stopped and removed; verify incomplete");
    return interrupted_exit_code();
  }
  Recording rec;
  for (size_t i = 0; i < r2.recordings.size(); ++i)
    rec.merge(recording_from_json(r2.recordings[i], fmt::format("sensor recording {}", i)));
  MinimizeOptions mo = minimize_options_for(r2.config);
  std::vector<sock_filter> prog = compile_filter(profile, mo.ctx, FilterMode::enforce);

  size_t denied = 0;
  for (const auto& [arch_token, calls] : rec.syscalls) {
    for (const auto& [name, r] : calls) {
      if (name.rfind("__nr_", 0) == 0) continue;
      // Check every recorded argument value; unrecorded arguments are 0.
      std::vector<std::array<uint64_t, 6>> samples(1, std::array<uint64_t, 6>{});
      for (const auto& [idx, vals] : r.args) {
        if (vals.overflow || vals.values.empty()) continue;
        std::vector<std::array<uint64_t, 6>> next;
        for (const auto& s : samples)
          for (uint64_t v : vals.values) {
            auto c = s;
            c[idx] = v;
            next.push_back(c);
            if (next.size() > 256) break;
          }
        samples = std::move(next);
      }
      int worst_errno = 0;
      for (const auto& a : samples) {
        uint32_t ret = recorded_call_verdict(prog, arch_token, r.nr, a);
        uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
        if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) continue;
        int e = action == SECCOMP_RET_ERRNO ? static_cast<int>(ret & SECCOMP_RET_DATA) : EPERM;
        if (e != ENOSYS) worst_errno = e;
      }
      if (worst_errno != 0) {
        ++denied;
        say(fmt::format("denied: {} {} -> {} ({} call{})", arch::short_name(arch_token), name,
                        errno_name(worst_errno), r.count, r.count == 1 ? "" : "s"));
      }
    }
  }
  for (const auto& f : r1.probe_failures) say("with the profile: " + f);
  // Pass 2 runs under the sensor, so its PID 1 is the sensor, not the
  // service: a service that ignores SIGTERM as PID 1 (no init) is SIGKILLed
  // at the end of the stop in pass 1 (137) but dies of the forwarded SIGTERM
  // in pass 2 (143). After sctrace's planned stop in both passes the codes are
  // the answers to that stop, not a sign of the profile: only the denials judge.
  const bool both_planned = r1.planned_stop && r2.planned_stop;
  const bool same_end = both_planned || r1.exit_code == r2.exit_code;
  bool ok = r1.probes_ok && same_end && denied == 0 && !r1.interrupted && !r2.interrupted;
  if (r1.exit_code != r2.exit_code)
    say(both_planned ? fmt::format("the container exited {} when sctrace stopped it with the profile, {} traced: "
                                   "its own answer to the stop, not compared",
                                   r1.exit_code, r2.exit_code)
                     : fmt::format("with the profile the container exited {}, without it {}", r1.exit_code,
                                   r2.exit_code));
  say(fmt::format("verify {}: container exited {}, probes {}, {} denied syscall{}", ok ? "passed" : "FAILED",
                  r1.exit_code, r1.probes_ok ? "passed" : "failed", denied, denied == 1 ? "" : "s"));
  return ok ? 0 : 1;
}

}  // namespace sctrace::cli
