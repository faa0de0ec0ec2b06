#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "cli/commands.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/recording.h"
#include "session/backend.h"
#include "session/workload.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"

namespace sctrace::cli {

namespace {

// Answers every notified syscall with what the real filter would have done,
// and remembers it. The notify-mode filter only notifies non-allow verdicts,
// so allowed syscalls never reach this.
class DenialRecorder : public NotifyHandler {
 public:
  explicit DenialRecorder(const std::vector<sock_filter>& real) : real_(real) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
    uint32_t ret = filter_verdict(real_, ev.audit_arch, ev.nr, ev.args, ev.ip);
    uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
    int err = EPERM;
    switch (action) {
      case SECCOMP_RET_ALLOW:
      case SECCOMP_RET_LOG: return {true, 0};
      case SECCOMP_RET_ERRNO: err = static_cast<int>(ret & SECCOMP_RET_DATA); break;
      case SECCOMP_RET_TRACE: err = ENOSYS; break;  // no tracer attached: the kernel says ENOSYS
      default:
        // KILL/TRAP: the task would die by SIGSYS. Make that happen, and
        // remember it as such (kKilled), not as the ENOSYS it is answered.
        ::syscall(SYS_tgkill, ev.pid ? ev.pid : ev.tid, ev.tid, SIGSYS);
        record(ev, kKilled);
        return {false, ENOSYS};
    }
    record(ev, err);
    return {false, err};
  }

  static constexpr int kKilled = -1;  // the profile kills (SECCOMP_RET_KILL_*, TRAP)

  // (arch, syscall, errno or kKilled) -> count
  const std::map<std::tuple<std::string, std::string, int>, uint64_t>& seen() const { return seen_; }

 private:
  void record(const SyscallEvent& ev, int err) {
    arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
    auto name = arch::syscall_name(an.arch, an.nr);
    auto key = std::make_tuple(arch::short_name(an.arch), name ? *name : fmt::format("__nr_{}", an.nr), err);
    ++seen_[key];
  }

  const std::vector<sock_filter>& real_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> seen_;
};

}  // namespace

std::optional<uint32_t> refused_natively(const std::vector<sock_filter>& prog, std::string_view name) {
  const auto nr = arch::syscall_nr(arch::native(), name);
  if (!nr) return std::nullopt;
  // libseccomp tokens are the audit arches
  const uint32_t ret = filter_verdict(prog, arch::native(), *nr, {});
  const uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) return std::nullopt;
  return ret;
}

namespace {

// "EPERM", or what else the profile does to the call.
std::string refusal_text(uint32_t ret) {
  const uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ERRNO) return errno_name(static_cast<int>(ret & SECCOMP_RET_DATA));
  if (action == SECCOMP_RET_TRACE || action == SECCOMP_RET_USER_NOTIF) return "ENOSYS";
  return "SIGSYS (the process is killed)";
}

}  // namespace

int cmd_verify(const Options& o) {
  if (parse_workload(o.workload).container_line()) return cmd_verify_container(o);
  // Each denial is named through a seccomp listener; ptrace has no part here
  // (check --enforce --backend ptrace is the ptrace way to the same answer).
  if (o.backend == RequestedBackend::ptrace)
    fail(ErrorKind::usage, "verify --backend ptrace: a local verify names denials through seccomp user notification "
                           "(--backend applies to container lines; `check --enforce --backend ptrace` enforces "
                           "through ptrace)");
  SeccompProfile profile = load_profile_file(o.profile);
  EvalContext ctx = EvalContext::docker_default();
  std::vector<sock_filter> real = compile_filter(profile, ctx, FilterMode::enforce);

  LaunchSpec spec;
  spec.argv = o.workload;
  spec.seccomp_filter = compile_filter(profile, ctx, FilterMode::notify_denials);
  spec.adopt_orphans = true;  // only denials are notified: the rest of the tree is not seen otherwise
  spec.no_new_privs = ::geteuid() != 0;
  spec.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_sec * 1000));
  if (spec.no_new_privs) say("not root: installing the filter with no_new_privs");

  // A profile that refuses execve lets nothing start: that is the verdict
  // (for a command that exists: a missing one is the usual one-line error).
  resolve_command(o.workload.at(0));
  if (auto ret = refused_natively(real, "execve")) {
    say(fmt::format("denied: {} execve -> {}: {} cannot start under this profile", arch::short_name(arch::native()),
                    refusal_text(*ret), o.workload[0]));
    say("verify FAILED: the workload never ran, 1 denied syscall");
    return 1;
  }
  DenialRecorder handler(real);
  install_interrupt_handlers();
  ExitStatus st = run_with_notify(spec, handler);

  size_t denied = 0;
  for (const auto& [key, count] : handler.seen()) {
    const auto& [arch_name, name, err] = key;
    // ENOSYS answers are the profile's design (libc falls back), not breakage.
    if (err == DenialRecorder::kKilled) {
      ++denied;
      say(fmt::format("denied: {} {} -> the profile kills the process (SIGSYS) ({} call{})", arch_name, name, count,
                      count == 1 ? "" : "s"));
    } else if (err == ENOSYS) {
      say(fmt::format("enosys: {} {} ({} call{}; the workload is expected to fall back)", arch_name, name, count,
                      count == 1 ? "" : "s"));
    } else {
      ++denied;
      say(fmt::format("denied: {} {} -> {} ({} call{})", arch_name, name, errno_name(err), count,
                      count == 1 ? "" : "s"));
    }
  }
  // Stopped and cut short: nothing to judge. A service that shut down cleanly
  // on the forwarded signal ran its whole life under the profile: judged.
  // A denial fails it whatever happened next.
  if (interrupt_count() > 0 && !ended_gracefully(st) && denied == 0) {
    say("interrupted: the workload was stopped before its end, nothing denied until then; nothing verified");
    return interrupted_exit_code();
  }
  bool ok = !st.signaled && st.code == 0 && denied == 0 && !st.timed_out;
  if (st.timed_out) say("the workload did not finish before --timeout");
  say(fmt::format("verify {}: workload {} {}, {} denied syscall{}", ok ? "passed" : "FAILED",
                  st.signaled ? "killed by signal" : "exited", st.signaled ? st.signal : st.code, denied,
                  denied == 1 ? "" : "s"));
  return ok ? 0 : 1;
}

int cmd_enforce(const Options& o) {
  SeccompProfile profile = load_profile_file(o.profile);
  std::vector<sock_filter> prog = compile_filter(profile, EvalContext::docker_default(), FilterMode::enforce);
  std::string exe = resolve_command(o.workload.at(0));
  // Once the filter is in, this process cannot report a failed execve if the
  // profile also refuses write or exit_group (it crashed there): ask first.
  if (auto ret = refused_natively(prog, "execve"))
    fail(ErrorKind::not_exec, "{}: the profile refuses execve ({}): nothing can start under it", o.workload[0],
         refusal_text(*ret));
  std::vector<char*> argv;
  for (const auto& a : o.workload) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (::geteuid() != 0 && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail_errno(ErrorKind::runtime, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
    fail_errno(ErrorKind::runtime, errno, "installing the seccomp filter");
  ::execv(exe.c_str(), argv.data());
  // execve itself may be what the profile denies.
  fail_errno(errno == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, errno,
             fmt::format("cannot execute {} under the profile", o.workload[0]));
}

}  // namespace sctrace::cli
