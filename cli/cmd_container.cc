// Container mode of run and verify: `sctrace run [probes] -- docker run ...`.
#include <linux/seccomp.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/emit/summary.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/recording.h"
#include "profile/templates.h"
#include "tracer/container/session.h"
#include "tracer/interrupt.h"

namespace sctrace::cli {

namespace {

container::SessionOptions session_options(const Options& o) {
  container::SessionOptions s;
  s.argv = o.workload;
  for (const auto& p : o.probes) {
    if (p.kind == "http") s.probes.push_back(parse_http_probe(p.text));
    else if (p.kind == "cmd") s.probes.push_back(parse_probe_cmd(p.text));
    else s.probes.push_back(parse_exec_probe(p.text));
  }
  for (const auto& w : o.wait_ports) s.wait_ports.push_back(parse_wait_port(w).port);
  s.ready_timeout_sec = o.ready_timeout_sec;
  s.duration_sec = o.duration_sec;
  s.timeout_sec = o.timeout_sec;
  return s;
}

// The capability set and no-new-privileges of the container as configured,
// which is what Docker evaluates the template's includes/excludes against.
MinimizeOptions minimize_options_for(const nlohmann::json& inspect) {
  MinimizeOptions m;
  const auto& hc = inspect.value("HostConfig", nlohmann::json::object());
  std::set<std::string> caps = docker_default_caps();
  auto norm = [](std::string c) {
    for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
  };
  if (hc.contains("CapDrop") && hc["CapDrop"].is_array())
    for (const auto& c : hc["CapDrop"]) {
      std::string n = norm(c.get<std::string>());
      if (n == "CAP_ALL") caps.clear();
      else caps.erase(n);
    }
  if (hc.contains("CapAdd") && hc["CapAdd"].is_array())
    for (const auto& c : hc["CapAdd"]) caps.insert(norm(c.get<std::string>()));
  m.ctx.caps = caps;
  if (hc.contains("SecurityOpt") && hc["SecurityOpt"].is_array())
    for (const auto& s : hc["SecurityOpt"]) {
      std::string v = s.get<std::string>();
      if (v == "no-new-privileges" || v == "no-new-privileges:true" || v == "no-new-privileges=true")
        m.no_new_privileges = true;
    }
  return m;
}

}  // namespace

int cmd_run_container(const Options& o, const SeccompProfile& tmpl) {
  check_writable(o.output);
  if (!o.recording.empty()) check_writable(o.recording);
  container::SessionResult res = container::run_session(session_options(o));

  Recording rec;
  for (size_t i = 0; i < res.recordings.size(); ++i)
    rec.merge(recording_from_json(res.recordings[i], fmt::format("sensor recording {}", i)));
  rec.commands = {o.workload};
  rec.backend = "ptrace-sensor";
  rec.complete = rec.complete && !res.interrupted && !res.timed_out && res.probes_ok;
  if (!o.recording.empty()) write_file_atomic(o.recording, recording_to_json(rec));
  MinimizeResult m = minimize(rec, tmpl, minimize_options_for(res.config));
  write_file_atomic(o.output, to_docker_json(m.profile));

  std::fputs(summary_text(m).c_str(), stderr);
  for (const auto& f : res.probe_failures) say(f);
  if (res.interrupted) say("interrupted: the container was stopped and removed; the profile is incomplete");
  say(fmt::format("wrote {}{}{}", o.output, o.recording.empty() ? "" : " and " + o.recording,
                  rec.complete ? "" : " (incomplete recording)"));
  if (res.timed_out) say(fmt::format("the container was stopped at the --timeout of {} s", o.timeout_sec));
  // Like a shell: 128+signal when interrupted, 124 (timeout(1)'s code) when
  // the time limit stopped it, 1 when a probe failed.
  if (res.interrupted) return 128 + (last_interrupt_signal() ? last_interrupt_signal() : SIGINT);
  if (res.timed_out) return 124;
  if (!res.probes_ok) return 1;
  return res.exit_code;
}

int cmd_verify_container(const Options& o) {
  SeccompProfile profile = load_profile_file(o.profile);
  std::string profile_json = read_file(o.profile);

  // Pass 1: the real thing. The user's line with the profile enforced by
  // Docker, no sensor, the same probes.
  container::SessionOptions enforced = session_options(o);
  enforced.with_sensor = false;
  enforced.seccomp_json = profile_json;
  say("verify pass 1: the container with the profile enforced");
  container::SessionResult r1 = container::run_session(enforced);

  // Pass 2: the sensor records the same run under the user's own settings, and
  // every recorded call is checked against the profile, so denials are named
  // even when the workload survives them.
  container::SessionOptions traced = session_options(o);
  say("verify pass 2: the container traced, each syscall checked against the profile");
  container::SessionResult r2 = container::run_session(traced);
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
      uint32_t audit = arch_token;  // libseccomp tokens are the audit arches
      int worst_errno = 0;
      for (const auto& a : samples) {
        seccomp_data d{};
        d.nr = r.nr;
        d.arch = audit;
        for (int i = 0; i < 6; ++i) d.args[i] = a[i];
        uint32_t ret = run_filter(prog, d);
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
  bool ok = r1.probes_ok && r1.exit_code == r2.exit_code && denied == 0 && !r1.interrupted && !r2.interrupted;
  if (r1.exit_code != r2.exit_code)
    say(fmt::format("with the profile the container exited {}, without it {}", r1.exit_code, r2.exit_code));
  say(fmt::format("verify {}: container exited {}, probes {}, {} denied syscall{}", ok ? "passed" : "FAILED",
                  r1.exit_code, r1.probes_ok ? "passed" : "failed", denied, denied == 1 ? "" : "s"));
  return ok ? 0 : 1;
}

}  // namespace sctrace::cli
