#pragma once
// The tracer refuses the workload the calls that would let it stop, read or
// signal the tracer itself (sctrace, or the sensor inside a container): a
// tracee that ptrace-attaches its tracer stops it for good, and the tracer
// then never answers the stop that tracee waits in. Each such call fails with
// EPERM instead of running; it is still recorded as made.
//
// Two halves: which process a call aims at, read from its number and
// arguments alone (aimed_at, pure), and whether that process is the tracer,
// which needs /proc (SelfDefence, behind ProcView for the tests).
#include <sys/types.h>

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tracer/tracer.h"

namespace sctrace {

struct AimedAt {
  enum class Kind {
    none,          // not a call at another process (or harmless: signal 0)
    process,       // id is a pid or tid (the whole thread group is hit)
    thread,        // id is a tid, tgid (when nonzero) its claimed thread group
    pidfd,         // id is a file descriptor of the caller
    parent,        // PTRACE_TRACEME: the caller's parent
    group,         // id is a process group
    caller_group,  // the caller's own process group (kill(0, sig))
    everyone,      // kill(-1, sig): every process the caller may signal
  };
  Kind kind = Kind::none;
  int64_t id = 0;
  int64_t tgid = 0;
  std::string call;  // "ptrace(PTRACE_ATTACH)", "kill(SIGSTOP)", ...
};

// `name` is libseccomp's name of the syscall; `wide`: the call's ABI passes
// 64-bit longs (ptrace's request). Signal 0 only asks whether a process
// exists: none. A group or broadcast signal (kill(0), kill(-pgid), kill(-1))
// hits the workload's own processes too, and sctrace answers the catchable
// ones as an interrupt it forwards: only those that stop or kill whatever the
// handlers count. Pure.
AimedAt aimed_at(std::string_view name, const std::array<uint64_t, 6>& args, bool wide);

// libseccomp's names of the calls check() looks at. The filters that stop
// only some syscalls (verify's, check's) stop these always, so the tracer
// sees each one that could aim at it.
std::vector<std::string> self_defence_syscalls();

// The SECCOMP_RET_DATA a ptrace watch filter gives the self-defence calls
// that the profile lets run (profile/filter.h compile_watch_filter's
// always_data): at such a stop the tracer refuses the call when it aims at
// the tracer and otherwise lets it run, unreported. The in-container sensor
// has only the program the host compiled, so the mark is in the program.
// Not kCloneGuardData (tracer/ptrace_tracer.h).
inline constexpr uint32_t kSelfDefenceData = 0x5dfd;

// True for the signals that stop or kill a process whatever its handlers.
bool stops_or_kills(int sig);

// What SelfDefence asks the system about processes.
class ProcView {
 public:
  virtual ~ProcView() = default;
  virtual pid_t tgid_of(pid_t tid) = 0;   // 0 when unknown
  virtual pid_t pgid_of(pid_t pid) = 0;   // 0 when unknown
  virtual pid_t ppid_of(pid_t pid) = 0;   // 0 when unknown
  // The process a file descriptor of `pid` refers to: a pidfd, or a
  // /proc/<n> directory (pidfd_send_signal takes both); 0 when neither.
  virtual pid_t fd_target(pid_t pid, int fd) = 0;
  // False when `pid` lives in another pid namespace than the tracer (then
  // the numbers in its calls are not ours to compare).
  virtual bool shares_pid_ns(pid_t pid) = 0;
};
ProcView& real_proc_view();

// How the tracer is named in refusal notes: "sctrace itself" by default, "the
// sensor" inside a container. Set once, before tracing.
void set_tracer_description(std::string text);

// The pid of sctrace's guardian (tracer/guardian.h) while one runs, 0 when
// none: the workload may not stop, signal or read it either, or a workload
// could kill it first and then outlive a SIGKILLed sctrace. Read at every
// check.
void set_guardian_pid(pid_t pid);
pid_t guardian_pid();

class SelfDefence {
 public:
  // The tracer is the process running this (getpid()), with its threads.
  explicit SelfDefence(ProcView& view = real_proc_view());
  SelfDefence(ProcView& view, pid_t tracer_pid);

  // A call entered by the workload: the note saying it is refused (the caller
  // then makes it fail with EPERM), or nothing when it may run. Cheap for
  // every syscall that cannot aim at a process.
  std::optional<std::string> check(const SyscallEvent& ev);

 private:
  // The libseccomp name of (audit arch, nr) when it is one of ours, cached.
  const std::string* name_of(uint32_t audit_arch, int32_t nr);
  // The tracer's pid when `pid` is the tracer or one of its threads, the
  // guardian's when it is the guardian, else 0.
  pid_t defended(pid_t pid);

  ProcView& view_;
  pid_t tracer_pid_;
  pid_t tracer_pgid_;
  std::string description_;
  // Numbers of the watched calls on every arch, modulo its size: a syscall
  // whose slot is false is none of them.
  std::bitset<1024> hint_;
  std::unordered_map<uint64_t, std::string> names_;  // (arch << 32 | nr) -> name, "" for others
};

}  // namespace sctrace
