#pragma once
// Signals sent to sctrace itself (Ctrl-C, SIGTERM) while a workload runs.
// cli/ installs handlers (without SA_RESTART) that call note_interrupt(); the
// wait loops see EINTR and feed what arrived to their Supervisor
// (tracer/supervisor.h), which decides what becomes of the workload.
#include <chrono>
#include <csignal>

#include "core/exit_status.h"
#include "tracer/supervisor.h"

namespace sctrace {

// The policy install_interrupt_handlers() installs handlers for (see
// SignalPolicy). The wait loops of the tracers escalate whatever is set here.
using InterruptPolicy = SignalPolicy;
void set_interrupt_policy(InterruptPolicy p);

void note_interrupt(int sig);  // async-signal-safe
int interrupt_count();         // how many were received
int last_interrupt_signal();
// The exit status of an interrupted run, as a shell gives it: 128 + the
// last signal received (SIGINT when none was); exit_code_of (core/
// exit_status.h) of an interrupted outcome.
int interrupted_exit_code();
// Installs note_interrupt for SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGUSR1,
// SIGUSR2, SIGWINCH under forward_always) without SA_RESTART.
void install_interrupt_handlers();

// The signals received since it was made, fed to a Supervisor. Two that
// arrive between polls both read as the last one (the handler keeps a count
// and the last signal only).
class InterruptFeed {
 public:
  InterruptFeed() : seen_(interrupt_count()) {}
  SupervisorActions poll(Supervisor& s, std::chrono::steady_clock::time_point now);

 private:
  int seen_;
};

}  // namespace sctrace
