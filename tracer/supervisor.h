#pragma once
// What sctrace does about its own signals, the --timeout deadline and a
// workload that will not stop: one small state machine shared by every wait
// loop. It makes no syscalls; the loop feeds it events (a signal sctrace
// received, the time, the workload's first process or all of it gone) and
// carries out the actions it returns. tracer/interrupt.h turns the signal
// handler's counter into on_signal() calls.
//
//   escalate (sctrace in a terminal): the first signal is forwarded to the
//   workload, the second kills it.
//   forward_always (the in-container sensor as PID 1, where docker stop's
//   SIGKILL is the escalation): every signal is forwarded.
//
// A forwarded signal goes to the first process; once that one is gone, to
// every process left, once (one SIGTERM ends `sh -c 'sleep 9 & sleep 9'`).
#include <chrono>
#include <csignal>
#include <optional>

#include "core/exit_status.h"

namespace sctrace {

enum class SignalPolicy { escalate, forward_always };

struct SupervisorConfig {
  using Clock = std::chrono::steady_clock;
  SignalPolicy policy = SignalPolicy::escalate;
  std::optional<Clock::time_point> deadline;  // --timeout
  // Sent at the deadline. Anything but SIGKILL is a polite stop that the
  // grace period (if any) escalates to SIGKILL.
  int deadline_signal = SIGKILL;
  // How long a workload sctrace asked to stop (a forwarded signal, the
  // deadline's polite one) may take before it is killed. None: it is
  // killed only by a second signal (escalate) or the deadline.
  std::optional<Clock::duration> grace;
};

// What the wait loop must do now, in this order.
struct SupervisorActions {
  int signal_leader = 0;  // send this signal to the first process
  int signal_rest = 0;    // send it to every process of the workload (the first one is gone)
  bool kill_all = false;  // SIGKILL every process of the workload (decided now)
  bool stop_waiting = false;  // nothing of the workload is left: leave the loop

  bool any() const { return signal_leader != 0 || signal_rest != 0 || kill_all || stop_waiting; }
  SupervisorActions& operator|=(const SupervisorActions& o);
};

// How the run ended, from sctrace's side.
struct SupervisorOutcome {
  int signals = 0;          // signals sctrace received during the run
  int last_signal = 0;      // the last of them (0: none)
  bool timed_out = false;   // the deadline passed with the workload still running
  bool killed = false;      // sctrace SIGKILLed the workload (second signal, deadline, grace)
  // One signal (forward_always: any number), forwarded, not killed, and the
  // first process exited by itself (a server's SIGTERM shutdown): the
  // workload lived its whole life traced.
  bool graceful = false;

  bool interrupted() const { return signals > 0 && !graceful; }  // cut short by a signal to sctrace
  // For exit_code_of (core/exit_status.h), given the workload's own code.
  RunOutcome run_outcome(int workload_code) const;
};

class Supervisor {
 public:
  using Clock = SupervisorConfig::Clock;
  explicit Supervisor(SupervisorConfig config = {}) : config_(config) {}

  // sctrace received `sig`.
  SupervisorActions on_signal(int sig, Clock::time_point now);
  // Time passed: the deadline or a grace period may have run out.
  SupervisorActions on_time(Clock::time_point now);
  // The first process ended (its wait status).
  SupervisorActions on_leader_exit(int wait_status);
  // No process of the workload is left.
  SupervisorActions on_workload_exit();

  // When on_time has something to decide next (none: only events matter).
  std::optional<Clock::time_point> next_wakeup() const;
  // SIGKILL was decided: a loop that sees processes appear after that (a
  // fork loop dying) kills them too.
  bool killing() const { return outcome_.killed; }
  bool leader_gone() const { return leader_status_.has_value(); }
  const SupervisorOutcome& outcome() const { return outcome_; }

 private:
  SupervisorActions forward(int sig, Clock::time_point now);
  SupervisorActions kill();
  void update_graceful();

  SupervisorConfig config_;
  SupervisorOutcome outcome_;
  std::optional<int> leader_status_;
  bool ended_ = false;
  int forwarded_ = 0;       // the signal forwarded to the first process, awaiting the rest
  bool rest_signalled_ = false;
  std::optional<Clock::time_point> grace_end_;
};

}  // namespace sctrace
