#include "session/verify.h"

#include <linux/seccomp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "core/arch.h"
#include "profile/filter.h"
#include "profile/recording.h"
#include "profile/verdict.h"
#include "session/backend.h"
#include "session/container_run.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "session/outputs.h"
#include "tracer/notify.h"
#include "tracer/self_defence.h"

namespace sctrace {

namespace {

// Answers every notified syscall with what the real filter would have done,
// and remembers it. The notify-mode filter notifies non-allow verdicts, and
// the self-defence calls (tracer/self_defence.h) whatever the verdict: one
// aimed at sctrace that the profile lets run is refused with EPERM and noted;
// the profile's own refusal answers it otherwise. Other allowed syscalls
// never reach this.
class DenialRecorder : public NotifyHandler {
 public:
  explicit DenialRecorder(const std::vector<sock_filter>& real) : real_(real) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
    uint32_t ret = filter_verdict(real_, ev.audit_arch, ev.nr, ev.args, ev.ip);
    uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
    int err = EPERM;
    switch (action) {
      case SECCOMP_RET_ALLOW:
      case SECCOMP_RET_LOG:
        if (auto note = self_defence_.check(ev)) {
          refusals_.add_refusal(*note);
          return {false, EPERM};
        }
        return {true, 0};
      case SECCOMP_RET_ERRNO: err = static_cast<int>(ret & SECCOMP_RET_DATA); break;
      case SECCOMP_RET_TRACE: err = ENOSYS; break;  // no tracer attached: the kernel says ENOSYS
      default:
        // KILL/TRAP: the task would die by SIGSYS. Make that happen, and
        // remember it as such (kKilledBySigsys), not as the ENOSYS it is answered.
        ::syscall(SYS_tgkill, ev.pid ? ev.pid : ev.tid, ev.tid, SIGSYS);
        record(ev, kKilledBySigsys);
        return {false, ENOSYS};
    }
    record(ev, err);
    return {false, err};
  }

  // The calls refused for aiming at sctrace: note -> count.
  const Recording& refusals() const { return refusals_; }

  // In (arch, syscall, errno) order.
  std::vector<VerifyDenial> denials() const {
    std::vector<VerifyDenial> out;
    for (const auto& [key, count] : seen_) out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
    return out;
  }

 private:
  void record(const SyscallEvent& ev, int err) {
    arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
    auto name = arch::syscall_name(an.arch, an.nr);
    auto key = std::make_tuple(arch::short_name(an.arch), name ? *name : fmt::format("__nr_{}", an.nr), err);
    ++seen_[key];
  }

  const std::vector<sock_filter>& real_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> seen_;
  SelfDefence self_defence_;
  Recording refusals_;  // only its refusals
};

std::string calls(uint64_t n) { return fmt::format("{} call{}", n, n == 1 ? "" : "s"); }

// One line per denial; returns how many judge (ENOSYS answers are the
// profile's design, libc falls back: not breakage).
size_t say_denials(const std::vector<VerifyDenial>& denials, const SayFn& say) {
  size_t denied = 0;
  for (const auto& d : denials) {
    if (d.err == kKilledBySigsys) {
      ++denied;
      say(fmt::format("denied: {} {} -> the profile kills the process (SIGSYS) ({})", d.arch, d.name, calls(d.count)));
    } else if (d.err == ENOSYS) {
      say(fmt::format("enosys: {} {} ({}; the workload is expected to fall back)", d.arch, d.name, calls(d.count)));
    } else {
      ++denied;
      say(fmt::format("denied: {} {} -> {} ({})", d.arch, d.name, errno_name(d.err), calls(d.count)));
    }
  }
  return denied;
}

int verdict(bool ok, const std::string& what, size_t denied, const SayFn& say) {
  say(fmt::format("verify {}: {}, {} denied syscall{}", ok ? "passed" : "FAILED", what, denied, denied == 1 ? "" : "s"));
  return ok ? 0 : 1;
}

}  // namespace

int judge_verify(const VerifyResult& r, const SayFn& say) {
  switch (r.kind) {
    case VerifyKind::agent:
      if (r.interrupted) {
        say("interrupted: the container was stopped and removed; nothing verified");
        return r.check_code;  // 128+signal, from check
      }
      say(fmt::format("verify {}: the profile enforced by the runtime, each refused call named by the seccomp agent",
                      r.check_code == 0 ? "passed" : "FAILED"));
      return r.check_code == 0 ? 0 : 1;
    case VerifyKind::local: {
      if (r.execve_refused) {
        say(fmt::format("denied: {} execve -> {}: {} cannot start under this profile", arch::short_name(arch::native()),
                        refusal_text(*r.execve_refused), r.command));
        say("verify FAILED: the workload never ran, 1 denied syscall");
        return 1;
      }
      const size_t denied = say_denials(r.denials, say);
      const ExitStatus& st = r.status;
      // Stopped and cut short: nothing to judge. A service that shut down
      // cleanly on the forwarded signal ran its whole life under the profile:
      // judged. A denial fails it whatever happened next.
      if (r.interrupted && !r.ended_gracefully && denied == 0) {
        say("interrupted: the workload was stopped before its end, nothing denied until then; nothing verified");
        return interrupted_exit_code();
      }
      if (st.timed_out) say("the workload did not finish before --timeout");
      return verdict(!st.signaled && st.code == 0 && denied == 0 && !st.timed_out,
                     fmt::format("workload {} {}", st.signaled ? "killed by signal" : "exited",
                                 st.signaled ? st.signal : st.code),
                     denied, say);
    }
    case VerifyKind::docker: {
      const size_t denied = say_denials(r.denials, say);
      for (const auto& f : r.probe_failures) say("with the profile: " + f);
      // Pass 2 runs under the sensor, so its PID 1 is the sensor, not the
      // service: a service that ignores SIGTERM as PID 1 (no init) is
      // SIGKILLed at the end of the stop in pass 1 (137) but dies of the
      // forwarded SIGTERM in pass 2 (143). After sctrace's planned stop in
      // both passes the codes are the answers to that stop, not a sign of the
      // profile: only the denials judge.
      const bool same_end = r.both_planned || r.enforced_exit == r.traced_exit;
      if (r.enforced_exit != r.traced_exit)
        say(r.both_planned ? fmt::format("the container exited {} when sctrace stopped it with the profile, {} traced: "
                                         "its own answer to the stop, not compared",
                                         r.enforced_exit, r.traced_exit)
                           : fmt::format("with the profile the container exited {}, without it {}", r.enforced_exit,
                                         r.traced_exit));
      return verdict(r.probes_ok && same_end && denied == 0,
                     fmt::format("container exited {}, probes {}", r.enforced_exit, r.probes_ok ? "passed" : "failed"),
                     denied, say);
    }
  }
  return 1;
}

int verify_local(const LocalVerifyRequest& req, const SayFn& say) {
  EvalContext ctx = EvalContext::docker_default();
  std::vector<sock_filter> real = compile_filter(req.profile, ctx, FilterMode::enforce);

  LaunchSpec spec;
  spec.argv = req.argv;
  spec.seccomp_filter = compile_filter(req.profile, ctx, FilterMode::notify_denials, self_defence_syscalls());
  spec.adopt_orphans = true;  // only denials are notified: the rest of the tree is not seen otherwise
  spec.no_new_privs = ::geteuid() != 0;
  spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(req.timeout_sec * 1000));
  if (spec.no_new_privs) say("not root: installing the filter with no_new_privs");

  VerifyResult r;
  r.kind = VerifyKind::local;
  r.command = req.argv.at(0);
  // A profile that refuses execve lets nothing start: that is the verdict
  // (for a command that exists: a missing one is the usual one-line error).
  resolve_command(req.argv.at(0));
  r.execve_refused = refused_natively(real, "execve");
  if (r.execve_refused) return judge_verify(r, say);
  DenialRecorder handler(real);
  install_interrupt_handlers();
  r.status = run_with_notify(spec, handler);
  r.denials = handler.denials();
  say_refusals(handler.refusals(), say);
  r.interrupted = interrupt_count() > 0;
  r.ended_gracefully = ended_gracefully(r.status);
  return judge_verify(r, say);
}

int verify_docker(const DockerVerifyRequest& req, const SayFn& say) {
  // Pass 1: the real thing. The user's line with the profile enforced by
  // Docker, no sensor, the same probes.
  container::SessionOptions enforced = req.session;
  enforced.with_sensor = false;
  enforced.seccomp_json = req.profile_json;
  say("verify pass 1: the container with the profile enforced");
  container::SessionResult r1 = container::run_session(enforced);
  if (r1.interrupted) {  // a Ctrl-C stops verify, it does not start pass 2
    say("interrupted: the container was stopped and removed; nothing verified");
    return interrupted_exit_code();
  }

  // Pass 2: the sensor records the same run under the user's own settings, and
  // every recorded call is checked against the profile, so denials are named
  // even when the workload survives them.
  container::SessionOptions traced = req.session;
  traced.write_cidfile = false;  // --cidfile names pass 1's container, the one under the profile
  say("verify pass 2: the container traced, each syscall checked against the profile");
  container::SessionResult r2 = container::run_session(traced);
  if (r2.interrupted) {
    say("interrupted: the container was stopped and removed; verify incomplete");
    return interrupted_exit_code();
  }
  const Recording rec = merged_recordings(r2.recordings);
  const std::vector<sock_filter> prog =
      compile_filter(req.profile, minimize_options_for(r2.config).ctx, FilterMode::enforce);

  VerifyResult r;
  r.kind = VerifyKind::docker;
  for (const auto& d : denials_of(rec, prog)) r.denials.push_back({arch::short_name(d.arch_token), d.name, d.err, d.count});
  r.enforced_exit = r1.exit_code;
  r.traced_exit = r2.exit_code;
  r.probes_ok = r1.probes_ok;
  r.probe_failures = r1.probe_failures;
  r.both_planned = r1.planned_stop && r2.planned_stop;
  return judge_verify(r, say);
}

}  // namespace sctrace
