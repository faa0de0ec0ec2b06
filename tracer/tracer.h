#pragma once
// The seam between observing and deciding: tracers deliver raw facts (arch,
// number, args, result) and never turn numbers into names or policy.
#include <linux/filter.h>
#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/exit_status.h"

namespace sctrace {

struct SyscallEvent {
  pid_t tid = 0;
  pid_t pid = 0;             // thread-group id
  uint32_t audit_arch = 0;   // AUDIT_ARCH_* as reported by the kernel
  int32_t nr = 0;            // as the kernel saw it (x32 keeps its bit 30)
  std::array<uint64_t, 6> args{};
  std::optional<int64_t> result;  // raw return value (-errno on failure) when known
  uint64_t ip = 0;                // instruction pointer at the syscall
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_syscall(const SyscallEvent& ev) = 0;
  virtual void on_exec(pid_t /*pid*/, std::string_view /*path*/) {}
  virtual void on_exit(pid_t /*pid*/, int /*wait_status*/) {}
  // The tracer refused a call aimed at itself (tracer/self_defence.h); the
  // call was reported to on_syscall as made.
  virtual void on_refusal(std::string_view /*note*/) {}
  // Process `pid` asked for a seccomp listener of its own, which a notify
  // backend cannot give it (asks_for_own_listener, tracer/notify.h).
  virtual void on_own_listener(pid_t /*pid*/) {}
};

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is resolved through PATH like a shell
  // A classic BPF seccomp program the child installs right before execve.
  std::vector<sock_filter> seccomp_filter;
  // Set PR_SET_NO_NEW_PRIVS before installing the filter (needed when not root).
  bool no_new_privs = false;
  // Kill the workload (SIGKILL to every tracee) after this long; 0 = no limit.
  std::chrono::milliseconds timeout{0};
  // Which syscalls reach the sink. Unset: every syscall (recording). Set: the
  // backend calls it once with the kernel action it waits on
  // (SECCOMP_RET_TRACE for ptrace, SECCOMP_RET_USER_NOTIF for notify) and
  // installs the returned cBPF program in the child right before execve
  // (after seccomp_filter): the syscalls answered with that action are
  // reported, those answered SECCOMP_RET_ALLOW run without waking sctrace.
  // `check` (violations of a profile) and `run --baseline` (what is new).
  std::function<std::vector<sock_filter>(uint32_t watch_action)> watch_filter;
  // With watch_filter: the program also reports the self-defence calls
  // (self_defence_syscalls(), tracer/self_defence.h) that the profile lets
  // run, so that the tracer can refuse those aimed at itself; this says
  // whether the profile lets a reported call run. Such a call is refused
  // (EPERM, noted) when it aims at the tracer and otherwise runs, unreported
  // and not denied. Unset: every reported call is one the watch is after.
  std::function<bool(const SyscallEvent&)> watch_lets_run;
  // `check --enforce`: each reported syscall fails with this errno instead of
  // running. Unset: reported syscalls run unchanged.
  std::optional<int> deny_errno;
  // notify backend, when its filter does not report every process (verify,
  // check): sctrace becomes the workload's child subreaper, so that the
  // processes it never hears of (forked children, daemons) stay in its tree
  // and the timeout, an interrupt and a failure reach them. Their orphans'
  // getppid() is sctrace's pid instead of 1's.
  bool adopt_orphans = false;
  // The workload's life ends with its first process (ptrace backend): the
  // processes left are SIGKILLed then and nothing they do after is reported.
  // For a container's main process (the in-container sensor's command):
  // when it exits the kernel kills the rest of its PID namespace (runc the
  // rest of its cgroup when it has no namespace of its own), so nothing an
  // orphan does after it is part of the container's life. Unset (a local
  // command, an exec in a container): the workload lasts until its last
  // process exits, daemons and double forks included.
  bool ends_with_first_process = false;
};

struct TracerCaps {
  bool results = false;        // SyscallEvent::result is filled
  bool follows_children = false;
  bool sees_pre_exec = false;  // sees syscalls made before the first execve
  // The reporting task is ptrace-stopped while EventSink::on_syscall runs, so
  // the sink may read its registers and memory (remote stack unwinding).
  bool stopped_in_sink = false;
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual TracerCaps caps() const = 0;
  // Runs spec.argv to completion (every process it created has exited or the
  // timeout fired), delivering events to sink. Throws sctrace::Error for
  // failures to launch (ErrorKind::not_found/not_exec for a bad COMMAND).
  virtual ExitStatus run(const LaunchSpec& spec, EventSink& sink) = 0;
};

// How the ptrace backend stops a tracee (tracer/ptrace_tracer.cc).
//   one: the child installs a filter answering every syscall
//        SECCOMP_RET_TRACE, so each syscall costs one stop; results are
//        fetched (an extra exit stop) only while the recording still needs
//        them. Syscalls a spec.seccomp_filter (or a container runtime's
//        profile) answers with ERRNO, TRAP or KILL are not seen: those
//        actions take precedence over TRACE.
//   two: syscall-entry and syscall-exit stops (PTRACE_SYSCALL), every result.
//   automatic: one, unless installing its filter would change what the
//        workload may do (see resolve_mode in ptrace_tracer.cc).
enum class PtraceStops { automatic, one, two };
std::unique_ptr<Tracer> make_ptrace_tracer(PtraceStops stops = PtraceStops::automatic);
// "auto", "one", "two"; throws Error(usage) for anything else.
PtraceStops ptrace_stops_from_name(std::string_view name);

// Both tracers honour tracer/interrupt.h: the first signal sctrace receives is
// forwarded to the workload's first process, the second kills every process.

}  // namespace sctrace
