#include "tracer/notify_tracer.h"

#include "core/seccomp_export.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/arch.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/notify.h"
#include "tracer/self_defence.h"

namespace sctrace {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

// True when `pid` still runs the same executable as sctrace itself: the
// launcher between installing the filter and its execve.
bool runs_sctrace_image(pid_t pid) {
  struct stat self {}, other {};
  if (::stat("/proc/self/exe", &self) != 0) return false;
  if (::stat(fmt::format("/proc/{}/exe", pid).c_str(), &other) != 0) return false;
  return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

// Forwards every notification to the sink and lets the syscall run (or, with
// LaunchSpec::deny_errno, fails it with that errno). Execs and ends come from
// a ProcessWatch (tracer/notify.h) over the notifications; ends are reported
// once the run is over.
class ForwardingHandler : public NotifyHandler {
 public:
  ForwardingHandler(EventSink& sink, bool watching, std::optional<int> deny_errno,
                    std::function<bool(const SyscallEvent&)> lets_run)
      : sink_(sink), watching_(watching), deny_errno_(deny_errno), lets_run_(std::move(lets_run)),
        processes_(&sink, false) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
    // A self-defence call the profile lets run (LaunchSpec::watch_lets_run):
    // seen only to be refused when it aims at sctrace, else it runs unseen.
    if (lets_run_ && lets_run_(ev)) return refused(ev) ? NotifyDecision{false, EPERM} : NotifyDecision{true, 0};
    // The launcher installs the filter and then still waits on its ack pipe
    // (tracer/child_process.cc) before execve: those few syscalls are
    // sctrace's, not the workload's. Recording starts at the first execve,
    // as with ptrace; before it only the launcher exists.
    const pid_t pid = ev.pid ? ev.pid : ev.tid;
    if (!started_) {
      if (ev.audit_arch != native_audit_ || ev.nr != SYS_execve) {
        // A watch filter may let that execve through unseen: then the first
        // notification from a process that no longer runs sctrace's image is
        // the workload's. (A workload that is sctrace itself is taken for the
        // launcher until it makes a watched execve.)
        if (!watching_ || runs_sctrace_image(pid)) return {true, 0};
        started_ = true;
        std::string exe = exe_path_of(pid);
        if (!exe.empty()) sink_.on_exec(pid, exe);
      } else {
        started_ = true;
        // The first process's first execve replaces sctrace's own image: it
        // counts even when the workload is /proc/self/exe again.
        processes_.report_next_exec(pid);
      }
    }
    processes_.on_notification(ev);
    sink_.on_syscall(ev);
    if (asks_for_own_listener(ev)) sink_.on_own_listener(pid);
    if (refused(ev)) return {false, EPERM};
    if (deny_errno_) return {false, *deny_errno_};
    return {true, 0};
  }

  // A call aimed at sctrace itself (tracer/self_defence.h). The arguments
  // are the registers the kernel will use: no race with the workload, except
  // for a pidfd, which another of its threads can swap between our look and
  // the call (pidfd_open of sctrace is refused, so only a /proc/<pid>
  // directory given to pidfd_send_signal remains).
  bool refused(const SyscallEvent& ev) {
    std::optional<std::string> note = self_defence_.check(ev);
    if (note) sink_.on_refusal(*note);
    return note.has_value();
  }

  // Notification gives no exit events; every process seen is reported as
  // gone once the run is over (wait status unknown: 0).
  void report_exits() { processes_.finish(); }

 private:
  EventSink& sink_;
  const bool watching_;
  const std::optional<int> deny_errno_;
  const std::function<bool(const SyscallEvent&)> lets_run_;
  ProcessWatch processes_;
  SelfDefence self_defence_;
  const uint32_t native_audit_ = arch::native();  // the launcher is sctrace, native
  bool started_ = false;
};

class NotifyTracer final : public Tracer {
 public:
  TracerCaps caps() const override {
    TracerCaps c;
    c.results = false;
    c.follows_children = true;
    c.sees_pre_exec = false;
    return c;
  }

  ExitStatus run(const LaunchSpec& spec, EventSink& sink) override {
    LaunchSpec s = spec;
    // The listener belongs to this one program: a watch filter (only what it
    // answers SECCOMP_RET_USER_NOTIF is seen) or everything.
    const bool watching = static_cast<bool>(spec.watch_filter);
    s.seccomp_filter = watching ? spec.watch_filter(SECCOMP_RET_USER_NOTIF) : notify_everything_filter();
    if (s.seccomp_filter.empty()) fail(ErrorKind::runtime, "the watch filter is empty");
    s.watch_filter = nullptr;
    s.adopt_orphans = watching;  // only violations are reported: processes are not seen otherwise
    // Unprivileged seccomp needs no_new_privs; root does not, and leaving it
    // off keeps setuid programs in the workload working as they would.
    if (::geteuid() != 0) s.no_new_privs = true;
    ForwardingHandler handler(sink, watching, spec.deny_errno, watching ? spec.watch_lets_run : nullptr);
    ExitStatus st = run_with_notify(s, handler);
    handler.report_exits();
    return st;
  }
};

}  // namespace

std::vector<sock_filter> notify_everything_filter() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_NOTIFY));
  if (!ctx) fail(ErrorKind::runtime, "libseccomp cannot build a notify filter");
  // The native arch is already in; the compat arches of x86-64 ride along
  // (on other hosts seccomp_arch_add fails for them and they are skipped).
  for (uint32_t a : {static_cast<uint32_t>(SCMP_ARCH_X86), static_cast<uint32_t>(SCMP_ARCH_X32)}) {
    if (a == seccomp_arch_native()) continue;
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) continue;
    int rc = seccomp_arch_add(ctx.get(), a);
    if (rc < 0 && rc != -EEXIST)
      fail(ErrorKind::runtime, "libseccomp: cannot add {}: {}", arch::scmp_name(a), std::strerror(-rc));
  }
  // Anything else (an arch the host can run that is not listed) is notified
  // too rather than killed: the recording should see it.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
  if (rc < 0) fail(ErrorKind::runtime, "libseccomp: cannot set the bad-arch action: {}", std::strerror(-rc));

  return export_bpf(ctx.get());
}

std::unique_ptr<Tracer> make_notify_tracer() { return std::make_unique<NotifyTracer>(); }

}  // namespace sctrace
