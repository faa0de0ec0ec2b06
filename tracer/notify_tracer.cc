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

namespace sctrace {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

std::string exe_of(pid_t pid) {
  std::string path = fmt::format("/proc/{}/exe", pid);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

bool is_exec(const SyscallEvent& ev) {
  arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
  auto name = arch::syscall_name(an.arch, an.nr);
  return name && (*name == "execve" || *name == "execveat");
}

// True when `pid` still runs the same executable as sctrace itself: the
// launcher between installing the filter and its execve.
bool runs_sctrace_image(pid_t pid) {
  struct stat self {}, other {};
  if (::stat("/proc/self/exe", &self) != 0) return false;
  if (::stat(fmt::format("/proc/{}/exe", pid).c_str(), &other) != 0) return false;
  return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

// Forwards every notification to the sink and lets the syscall run (or, with
// LaunchSpec::deny_errno, fails it with that errno).
//
// Exec paths: the notification comes before the kernel decides whether the
// execve succeeds, so it is not the moment to record the path. Instead the
// process's /proc/PID/exe is noted then and compared on its next
// notification (any successful exec is followed by at least one syscall, the
// loader's or exit_group's); a change is a successful exec. Keyed by the
// thread-group id because an exec from a non-leader thread takes over the
// leader's tid.
class ForwardingHandler : public NotifyHandler {
 public:
  ForwardingHandler(EventSink& sink, bool watching, std::optional<int> deny_errno)
      : sink_(sink), watching_(watching), deny_errno_(deny_errno) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
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
        first_pid_ = 0;
        std::string exe = exe_of(pid);
        if (!exe.empty()) sink_.on_exec(pid, exe);
      } else {
        started_ = true;
        first_pid_ = pid;
      }
    }
    if (!exec_pending_.empty()) {
      auto it = exec_pending_.find(pid);
      if (it != exec_pending_.end()) {
        // The first process's first execve replaces sctrace's own image: it
        // counts even when the workload is /proc/self/exe again.
        std::string now = exe_of(pid);
        if (!now.empty() && (now != it->second || pid == first_pid_)) sink_.on_exec(pid, now);
        if (pid == first_pid_) first_pid_ = 0;
        exec_pending_.erase(it);
      }
    }
    if (is_exec_cache(ev)) exec_pending_[pid] = exe_of(pid);
    if (pids_.insert(pid).second) order_.push_back(pid);
    sink_.on_syscall(ev);
    if (deny_errno_) return {false, *deny_errno_};
    return {true, 0};
  }

  // Notification gives no exit events; every process seen is reported as
  // gone once the run is over (wait status unknown: 0).
  void report_exits() {
    for (pid_t p : order_) sink_.on_exit(p, 0);
  }

 private:
  bool is_exec_cache(const SyscallEvent& ev) {
    const uint64_t key = (static_cast<uint64_t>(ev.audit_arch) << 32) | static_cast<uint32_t>(ev.nr);
    auto it = exec_nrs_.find(key);
    if (it != exec_nrs_.end()) return it->second;
    bool v = is_exec(ev);
    exec_nrs_.emplace(key, v);
    return v;
  }

  EventSink& sink_;
  const bool watching_;
  const std::optional<int> deny_errno_;
  std::unordered_map<uint64_t, bool> exec_nrs_;
  std::unordered_map<pid_t, std::string> exec_pending_;
  std::unordered_set<pid_t> pids_;
  std::vector<pid_t> order_;
  const uint32_t native_audit_ = arch::native();  // the launcher is sctrace, native
  bool started_ = false;
  pid_t first_pid_ = 0;  // until its first exec has been reported
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
    ForwardingHandler handler(sink, watching, spec.deny_errno);
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
