#pragma once
// Signals sent to sctrace itself (Ctrl-C, SIGTERM) while a workload runs.
// cli/ installs handlers (without SA_RESTART) that call note_interrupt(); the
// tracers' wait loops see EINTR, forward the first signal to the workload and
// kill every tracee on the second, then return what was recorded so far.
#include <csignal>

namespace sctrace {

void note_interrupt(int sig);  // async-signal-safe
int interrupt_count();         // how many were received
int last_interrupt_signal();
// Installs note_interrupt for SIGINT, SIGTERM, SIGHUP, SIGQUIT (no SA_RESTART).
void install_interrupt_handlers();

}  // namespace sctrace
