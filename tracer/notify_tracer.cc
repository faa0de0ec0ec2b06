#include "tracer/notify_tracer.h"

#include "core/seccomp_export.h"

#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// Forwards every notification to the sink and lets the syscall run.
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
  explicit ForwardingHandler(EventSink& sink) : sink_(sink) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override {
    // The launcher installs the filter and then still waits on its ack pipe
    // (tracer/child_process.cc) before execve: those few syscalls are
    // sctrace's, not the workload's. Recording starts at the first execve,
    // as with ptrace; before it only the launcher exists.
    if (!started_) {
      if (ev.audit_arch != native_audit_ || ev.nr != SYS_execve) return {true, 0};
      started_ = true;
      first_pid_ = ev.pid ? ev.pid : ev.tid;
    }
    const pid_t pid = ev.pid ? ev.pid : ev.tid;
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
    s.seccomp_filter = notify_everything_filter();
    // Unprivileged seccomp needs no_new_privs; root does not, and leaving it
    // off keeps setuid programs in the workload working as they would.
    if (::geteuid() != 0) s.no_new_privs = true;
    ForwardingHandler handler(sink);
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
