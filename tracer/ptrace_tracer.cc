#include "tracer/ptrace_tracer.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/arch.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"

namespace sctrace {

namespace {

class RealSys final : public SysIface {
 public:
  int resume(int request, pid_t tid, int sig) override {
    if (::ptrace(static_cast<__ptrace_request>(request), tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) <
        0)
      return errno;
    return 0;
  }
  int syscall_info(pid_t tid, __ptrace_syscall_info& out) override {
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof out), &out) <= 0) return errno ? errno : EIO;
    return 0;
  }
  int event_msg(pid_t tid, unsigned long& out) override {
    if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &out) < 0) return errno;
    return 0;
  }
  int kill(pid_t pid, int sig) override { return ::kill(pid, sig) < 0 ? errno : 0; }
  int read_u64(pid_t tid, uint64_t addr, uint64_t& out) override {
    iovec local{&out, sizeof out};
    iovec remote{reinterpret_cast<void*>(addr), sizeof out};
    ssize_t n = ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(sizeof out)) return 0;
    return n < 0 ? errno : EFAULT;
  }
  pid_t tgid_of(pid_t tid) override {
    std::string path = fmt::format("/proc/{}/status", tid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return 0;
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char* p = std::strstr(buf, "\nTgid:");
    if (p == nullptr) return 0;
    return static_cast<pid_t>(std::strtol(p + 6, nullptr, 10));
  }
  std::string exe_of(pid_t pid) override {
    std::string path = fmt::format("/proc/{}/exe", pid);
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n <= 0) return {};
    return std::string(buf, static_cast<size_t>(n));
  }
};

}  // namespace

SysIface& real_sys() {
  static RealSys sys;
  return sys;
}

// ---------------------------------------------------------------------------
// PtraceEngine

PtraceEngine::PtraceEngine(SysIface& sys, EventSink& sink, pid_t initial_pid)
    : sys_(sys), sink_(sink), initial_pid_(initial_pid), native_arch_(arch::native()) {
  add_task(initial_pid, initial_pid);
}

PtraceEngine::Task* PtraceEngine::find(pid_t tid) {
  if (tid == last_tid_ && last_task_ != nullptr) return last_task_;
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return nullptr;
  last_tid_ = tid;
  last_task_ = &it->second;  // unordered_map nodes stay put until erased
  return last_task_;
}

PtraceEngine::Task& PtraceEngine::add_task(pid_t tid, pid_t tgid) {
  auto [it, inserted] = tasks_.try_emplace(tid);
  if (inserted) it->second.tgid = tgid;
  // A process created while we are killing everything must not outlive us.
  if (killing_) sys_.kill(tid, SIGKILL);
  return it->second;
}

void PtraceEngine::erase(pid_t tid) {
  if (tid == last_tid_) last_task_ = nullptr;
  tasks_.erase(tid);
}

void PtraceEngine::emit_pending(Task& t) {
  if (!t.pending) return;
  t.pending = false;
  t.ev.result.reset();
  if (started_) sink_.on_syscall(t.ev);
}

void PtraceEngine::resume(pid_t tid, int sig) {
  // ESRCH: the task was SIGKILLed (its death will be reported) or silently
  // released by another thread's execve (the PTRACE_EVENT_EXEC says so).
  (void)sys_.resume(PTRACE_SYSCALL, tid, sig);
}

void PtraceEngine::handle(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    on_death(tid, status);
    return;
  }
  if (!WIFSTOPPED(status)) return;
  Task* t = find(tid);
  if (t == nullptr) {
    // A new task's first stop can be reported before the fork/clone event of
    // its creator: the kernel queues both and waitpid picks either first.
    pid_t tgid = sys_.tgid_of(tid);
    t = &add_task(tid, tgid > 0 ? tgid : tid);
    seen_early_.insert(tid);
  }
  on_stop(tid, *t, status);
}

void PtraceEngine::on_stop(pid_t tid, Task& t, int status) {
  const int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {  // PTRACE_O_TRACESYSGOOD: a syscall stop
    on_syscall_stop(tid, t);
    resume(tid);
    return;
  }
  switch (static_cast<unsigned>(status) >> 16) {
    case 0:  // signal-delivery-stop: deliver the signal the tracee was getting
      resume(tid, sig);
      return;
    case PTRACE_EVENT_SECCOMP:
      on_syscall_stop(tid, t);
      resume(tid);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      on_new_task(tid, t, static_cast<int>(static_cast<unsigned>(status) >> 16));
      resume(tid);
      return;
    case PTRACE_EVENT_EXEC:
      on_exec(tid);  // may replace t
      resume(tid);
      return;
    case PTRACE_EVENT_STOP:
      // SIGTRAP: PTRACE_INTERRUPT, an auto-attached child's first stop, or the
      // end of a group-stop we listened to. Any other signal: a group-stop;
      // PTRACE_LISTEN keeps the tracee stopped (so SIGSTOP really stops it)
      // while letting SIGCONT or SIGKILL end the stop.
      if (sig == SIGTRAP) {
        resume(tid);
      } else if (int err = sys_.resume(PTRACE_LISTEN, tid, 0); err != 0 && err != ESRCH) {
        resume(tid);
      }
      return;
    default:  // an event we did not ask for: never leave a tracee stopped
      resume(tid);
      return;
  }
}

void PtraceEngine::on_syscall_stop(pid_t tid, Task& t) {
  __ptrace_syscall_info info;
  if (sys_.syscall_info(tid, info) != 0) return;
  switch (info.op) {
    case PTRACE_SYSCALL_INFO_ENTRY:
    case PTRACE_SYSCALL_INFO_SECCOMP: {
      // A seccomp stop (SECCOMP_RET_TRACE) follows the entry stop of the same
      // syscall and carries the same number and arguments: it refreshes the
      // pending entry. Two entries in a row mean the exit of the first was
      // lost (never expected): deliver it without a result.
      if (info.op == PTRACE_SYSCALL_INFO_ENTRY) emit_pending(t);
      // entry and seccomp share their layout for nr and args.
      t.ev.tid = tid;
      t.ev.pid = t.tgid;
      t.ev.audit_arch = info.arch;
      t.ev.nr = static_cast<int32_t>(info.entry.nr);
      for (size_t i = 0; i < 6; ++i) t.ev.args[i] = info.entry.args[i];
      t.ev.ip = info.instruction_pointer;
      t.ev.result.reset();
      t.pending = true;
      // Everything before the launcher's execve (the start barrier, the
      // filter install) belongs to sctrace, not to the workload.
      if (!started_ && tid == initial_pid_ && info.arch == native_arch_ && t.ev.nr == SYS_execve)
        started_ = true;
      return;
    }
    case PTRACE_SYSCALL_INFO_EXIT:
      if (!t.pending) return;  // e.g. the barrier read we interrupted at attach
      t.pending = false;
      t.ev.result = info.exit.rval;
      if (started_) sink_.on_syscall(t.ev);
      return;
    default:
      return;
  }
}

pid_t PtraceEngine::tgid_of_clone(pid_t parent_tid, Task& parent, pid_t new_tid) {
  // PTRACE_EVENT_CLONE covers threads and processes with an unusual exit
  // signal alike; the creating syscall's flags tell them apart for free.
  if (parent.pending && parent.ev.audit_arch == native_arch_) {
    uint64_t flags = 0;
    bool known = false;
    if (parent.ev.nr == SYS_clone) {
      flags = parent.ev.args[0];
      known = true;
    } else if (parent.ev.nr == SYS_clone3) {
      known = sys_.read_u64(parent_tid, parent.ev.args[0], flags) == 0;  // clone_args.flags
    }
    if (known) return (flags & CLONE_THREAD) != 0 ? parent.tgid : new_tid;
  }
  pid_t tgid = sys_.tgid_of(new_tid);
  return tgid > 0 ? tgid : new_tid;
}

void PtraceEngine::on_new_task(pid_t parent_tid, Task& parent, int event) {
  unsigned long msg = 0;
  if (sys_.event_msg(parent_tid, msg) != 0) return;
  const auto child = static_cast<pid_t>(msg);
  if (child <= 0) return;
  if (seen_early_.erase(child) != 0) return;  // registered (or dead) already
  if (find(child) != nullptr) return;
  pid_t tgid = event == PTRACE_EVENT_CLONE ? tgid_of_clone(parent_tid, parent, child) : child;
  // Its first stop (PTRACE_EVENT_STOP with SIGTRAP) comes later; on_stop
  // resumes it like any PTRACE_INTERRUPT stop.
  add_task(child, tgid);
}

void PtraceEngine::on_exec(pid_t tid) {
  // The exec'ing thread takes over the thread-group leader's tid; the event
  // is reported under the new tid and the message is the former one. The old
  // leader is released silently: no death is reported for it.
  unsigned long msg = 0;
  pid_t former = tid;
  if (sys_.event_msg(tid, msg) == 0 && msg != 0) former = static_cast<pid_t>(msg);
  if (former != tid) {
    if (Task* leader = find(tid)) {
      emit_pending(*leader);
      erase(tid);
    }
    if (Task* from = find(former)) {
      Task moved = *from;
      erase(former);
      moved.ev.tid = tid;
      tasks_.emplace(tid, moved);
    }
  }
  Task& t = add_task(tid, tid);
  t.tgid = tid;
  t.ev.pid = tid;
  if (tid == initial_pid_) exec_done_ = true;
  if (started_) sink_.on_exec(tid, sys_.exe_of(tid));
}

void PtraceEngine::on_death(pid_t tid, int status) {
  if (tid == initial_pid_) initial_status_ = status;
  Task* t = find(tid);
  if (t == nullptr) {
    // Died before its creator's fork/clone event was handled (or not ours).
    seen_early_.insert(tid);
    return;
  }
  emit_pending(*t);
  const pid_t tgid = t->tgid;
  erase(tid);
  // A leader's death is reported only once its whole thread group is gone.
  if (tid == tgid) sink_.on_exit(tgid, status);
}

void PtraceEngine::finish() {
  for (auto& [tid, t] : tasks_) emit_pending(t);
  tasks_.clear();
  last_task_ = nullptr;
}

void PtraceEngine::kill_all() {
  killing_ = true;
  std::unordered_set<pid_t> groups;
  for (const auto& [tid, t] : tasks_)
    if (groups.insert(t.tgid).second) sys_.kill(t.tgid, SIGKILL);
}

void PtraceEngine::signal_workload(int sig) {
  if (!initial_status_) {
    sys_.kill(initial_pid_, sig);
    return;
  }
  // The first process is gone (daemonized children keep the run going): the
  // signal goes to what is left. These pids cannot have been reused: a
  // tracee's pid stays taken until we reap it.
  std::unordered_set<pid_t> groups;
  for (const auto& [tid, t] : tasks_)
    if (groups.insert(t.tgid).second) sys_.kill(t.tgid, sig);
}

// ---------------------------------------------------------------------------
// The tracer: launch, attach, wait loop, deadline and interrupts.

namespace {

volatile sig_atomic_t g_tick = 0;
extern "C" void on_tick(int) { g_tick = 1; }

// A periodic SIGALRM aimed at this thread while the wait loop runs. waitpid()
// blocks with nothing to wake it when the workload is idle; the tick (no
// SA_RESTART) makes it return EINTR so the deadline is checked, and it also
// covers a Ctrl-C that lands between our interrupt check and waitpid().
class Ticker {
 public:
  explicit Ticker(std::chrono::milliseconds period) {
    struct sigaction sa {};
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGALRM, &sa, &old_action_);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    ::pthread_sigmask(SIG_UNBLOCK, &alrm, &old_mask_);
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = static_cast<pid_t>(::gettid());
    if (::timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0) return;
    armed_ = true;
    itimerspec its{};
    its.it_value.tv_sec = period.count() / 1000;
    its.it_value.tv_nsec = (period.count() % 1000) * 1000000;
    its.it_interval = its.it_value;
    ::timer_settime(timer_, 0, &its, nullptr);
  }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker() {
    if (armed_) ::timer_delete(timer_);
    // Ignoring discards a tick still pending, which the previous disposition
    // (often SIG_DFL: terminate) must never see.
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGALRM, &ign, nullptr);
    ::sigaction(SIGALRM, &old_action_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    g_tick = 0;
  }

 private:
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
  timer_t timer_{};
  bool armed_ = false;
};

ExitStatus to_exit_status(int st) {
  ExitStatus r;
  if (WIFSIGNALED(st)) {
    r.signaled = true;
    r.signal = WTERMSIG(st);
    r.core_dumped = WCOREDUMP(st);
  } else {
    r.code = WEXITSTATUS(st);
  }
  return r;
}

class PtraceTracer final : public Tracer {
 public:
  TracerCaps caps() const override {
    TracerCaps c;
    c.results = true;
    c.follows_children = true;
    c.sees_pre_exec = false;
    return c;
  }
  ExitStatus run(const LaunchSpec& spec, EventSink& sink) override;
};

// Kills and reaps every tracee if run() leaves by an exception (a throwing
// sink), so nothing stays stopped behind us. The sink is not called again:
// stops are only answered with SIGKILL (a child forked just before the kill
// sits in its first stop) until no tracee is left.
struct KillOnUnwind {
  PtraceEngine& engine;
  bool armed = true;
  ~KillOnUnwind() {
    if (!armed) return;
    engine.kill_all();
    int st;
    for (;;) {
      const pid_t tid = ::waitpid(-1, &st, __WALL);
      if (tid < 0 && errno != EINTR) break;
      if (tid > 0 && WIFSTOPPED(st)) ::kill(tid, SIGKILL);
    }
  }
};

ExitStatus PtraceTracer::run(const LaunchSpec& spec, EventSink& sink) {
  if (spec.argv.empty()) fail(ErrorKind::usage, "no command given");
  // Interrupts from here on are about this run (one arriving while the child
  // is being attached is acted on as soon as the wait loop starts).
  const int interrupts_before = interrupt_count();
  ChildOptions opts;
  opts.wait_for_release = true;
  opts.no_new_privs = spec.no_new_privs;
  if (!spec.seccomp_filter.empty()) opts.filter = &spec.seccomp_filter;
  ChildProcess child = ChildProcess::spawn(spec.argv, opts);
  const pid_t pid = child.pid();

  // The child is blocked on its start barrier. Seize it, stop it and restart
  // it with PTRACE_SYSCALL so its execve entry is already traced.
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(static_cast<unsigned long>(kPtraceOptions))) != 0)
    fail_errno(ErrorKind::runtime, errno,
               errno == EPERM ? "ptrace(PTRACE_SEIZE) (is sctrace itself traced, or ptrace restricted by "
                                "kernel.yama.ptrace_scope or a missing CAP_SYS_PTRACE?)"
                              : "ptrace(PTRACE_SEIZE)");
  if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0)
    fail_errno(ErrorKind::runtime, errno, "ptrace(PTRACE_INTERRUPT)");
  int st = 0;
  while (::waitpid(pid, &st, __WALL) < 0)
    if (errno != EINTR) fail_errno(ErrorKind::runtime, errno, "waitpid");
  if (!WIFSTOPPED(st)) {
    child.mark_reaped();
    fail(ErrorKind::runtime, "the command's process died before it could be traced");
  }
  if (::ptrace(PTRACE_SYSCALL, pid, nullptr, nullptr) != 0)
    fail_errno(ErrorKind::runtime, errno, "ptrace(PTRACE_SYSCALL)");

  PtraceEngine engine(real_sys(), sink, pid);
  KillOnUnwind guard{engine};
  const bool has_deadline = spec.timeout.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + spec.timeout;
  bool forwarded = false;
  bool killed = false;
  bool timed_out = false;
  auto check = [&] {
    const int n = interrupt_count() - interrupts_before;
    if (n >= 1 && !forwarded) {
      forwarded = true;
      engine.signal_workload(last_interrupt_signal());
    }
    if (killed) return;
    if (n >= 2) {
      killed = true;
      engine.kill_all();
    } else if (has_deadline && std::chrono::steady_clock::now() >= deadline) {
      killed = timed_out = true;
      engine.kill_all();
    }
  };

  {
    Ticker ticker(std::chrono::milliseconds(has_deadline && spec.timeout.count() < 100 ? 10 : 100));
    std::vector<std::pair<pid_t, int>> batch;
    child.release();
    check();
    while (!engine.done()) {
      if (g_tick != 0) {
        g_tick = 0;
        check();
      }
      const pid_t tid = ::waitpid(-1, &st, __WALL);
      if (tid < 0) {
        if (errno == EINTR) {
          check();
          continue;
        }
        break;  // ECHILD: no tracee is left, whatever we still believe
      }
      if (engine.task_count() <= 1) {
        engine.handle(tid, st);
        continue;
      }
      // waitpid(-1) always scans tracees in the same order, so a busy task
      // early in the list would be picked again and again while others wait
      // stopped (a thread spinning on sched_yield for a flag another thread
      // sets crawls). Take every report that is ready, then answer them all.
      batch.clear();
      batch.emplace_back(tid, st);
      for (pid_t more; (more = ::waitpid(-1, &st, __WALL | WNOHANG)) > 0;) batch.emplace_back(more, st);
      for (const auto& [t, s] : batch) engine.handle(t, s);
    }
  }
  guard.armed = false;
  engine.finish();

  if (engine.initial_status()) child.mark_reaped();
  if (!engine.exec_done()) {
    if (int e = child.setup_errno(); e != 0) {
      if (!engine.started())
        fail(ErrorKind::runtime, "{}: could not prepare the process: {}", spec.argv[0], std::strerror(e));
      fail(e == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, "{}: {}", spec.argv[0], std::strerror(e));
    }
  }
  ExitStatus result;
  if (engine.initial_status()) {
    result = to_exit_status(*engine.initial_status());
  } else {  // never seen to die (not expected): report it as killed
    result.signaled = true;
    result.signal = SIGKILL;
  }
  result.timed_out = timed_out;
  return result;
}

}  // namespace

std::unique_ptr<Tracer> make_ptrace_tracer() { return std::make_unique<PtraceTracer>(); }

}  // namespace sctrace
