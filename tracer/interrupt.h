#pragma once
// Signals sent to sctrace itself (Ctrl-C, SIGTERM) while a workload runs.
// cli/ installs handlers (without SA_RESTART) that call note_interrupt(); the
// tracers' wait loops see EINTR, forward the first signal to the workload and
// kill every tracee on the second, then return what was recorded so far.
#include <csignal>

#include "core/exit_status.h"

namespace sctrace {

// escalate: forward the first signal, kill everything on the second (sctrace
// in a terminal). forward_always: forward every signal (the in-container
// sensor as PID 1, where docker stop's SIGKILL is the escalation).
enum class InterruptPolicy { escalate, forward_always };
void set_interrupt_policy(InterruptPolicy p);

enum class InterruptAction { none, forward, kill_all };
// For the tracers' wait loops after EINTR: what to do about signals received
// since the last call. `sig` is set to the signal to forward.
InterruptAction take_interrupt(int& sig);

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

}  // namespace sctrace
