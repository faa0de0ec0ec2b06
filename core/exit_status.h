#pragma once
// How a workload ended, and the one mapping from a run's outcome to
// sctrace's own exit code. Header-only: it is shared by the tracers, the
// probes and every subcommand, and depends on nothing but <sys/wait.h>.
#include <sys/wait.h>

#include <csignal>

namespace sctrace {

struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled
  bool core_dumped = false;
  bool timed_out = false;  // the tracer killed the workload at LaunchSpec::timeout
  // The tracer killed the workload because sctrace was signalled again (the
  // forwarded first signal did not end it): signal is SIGKILL, but what a
  // shell should hear is 128 + the signal sctrace received.
  bool killed_on_interrupt = false;
  // What a shell would report: code, or 128+signal.
  int shell_code() const { return signaled ? 128 + signal : code; }
};

// A wait status (waitpid, waitid's si_status rebuilt, ChildProcess::wait)
// as an ExitStatus. Only for a process that ended: a stopped or continued
// status reads as exit code 0.
inline ExitStatus exit_status_from_wait(int wait_status) {
  ExitStatus es;
  if (WIFSIGNALED(wait_status)) {
    es.signaled = true;
    es.signal = WTERMSIG(wait_status);
    es.core_dumped = WCOREDUMP(wait_status);
  } else {
    es.code = WEXITSTATUS(wait_status);
  }
  return es;
}

// What a shell reports for a wait status: the exit code, or 128+signal.
inline int shell_code(int wait_status) { return exit_status_from_wait(wait_status).shell_code(); }

// timeout(1)'s code: the run was stopped at --timeout.
inline constexpr int kTimedOutExitCode = 124;

// What became of one run of a workload under sctrace.
struct RunOutcome {
  int workload_code = 0;      // the workload's own, as a shell reports it
  bool timed_out = false;     // sctrace stopped it at --timeout
  bool interrupted = false;   // sctrace was interrupted (Ctrl-C, SIGTERM) and the run cut short
  int interrupt_signal = 0;   // the last signal sctrace received (0: none known, reads as SIGINT)
  bool probes_failed = false;  // a readiness wait or probe failed, and the service was stopped
};

// What a failed probe does to the exit code.
enum class ProbeFailureCode {
  one,                         // 1 whatever the workload returned (run, container recording)
  one_unless_workload_failed,  // 1 when the workload exited 0, else its own code (check)
};

// sctrace's exit code for a run, like a shell would give it: 128+signal
// when interrupted, else 124 when timed out, else 1 for a failed probe, else
// the workload's code.
inline int exit_code_of(const RunOutcome& o, ProbeFailureCode probes = ProbeFailureCode::one) {
  if (o.interrupted) return 128 + (o.interrupt_signal > 0 ? o.interrupt_signal : SIGINT);
  if (o.timed_out) return kTimedOutExitCode;
  if (o.probes_failed && (probes == ProbeFailureCode::one || o.workload_code == 0)) return 1;
  return o.workload_code;
}

}  // namespace sctrace
