#include "tracer/interrupt.h"

#include <atomic>

#include "core/exit_status.h"

namespace sctrace {

namespace {
std::atomic<int> g_count{0};
std::atomic<int> g_last{0};
std::atomic<int> g_taken{0};
InterruptPolicy g_policy = InterruptPolicy::escalate;
void handler(int sig) { note_interrupt(sig); }
}  // namespace

void note_interrupt(int sig) {
  g_last.store(sig, std::memory_order_relaxed);
  g_count.fetch_add(1, std::memory_order_relaxed);
}
int interrupt_count() { return g_count.load(std::memory_order_relaxed); }
int last_interrupt_signal() { return g_last.load(std::memory_order_relaxed); }

int interrupted_exit_code() {
  RunOutcome o;
  o.interrupted = true;
  o.interrupt_signal = last_interrupt_signal();
  return exit_code_of(o);
}

void set_interrupt_policy(InterruptPolicy p) { g_policy = p; }

InterruptAction take_interrupt(int& sig) {
  int count = g_count.load(std::memory_order_relaxed);
  int taken = g_taken.exchange(count, std::memory_order_relaxed);
  if (count == taken) return InterruptAction::none;
  sig = g_last.load(std::memory_order_relaxed);
  if (g_policy == InterruptPolicy::escalate && count >= 2) return InterruptAction::kill_all;
  return InterruptAction::forward;
}

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking waits must return EINTR
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
  if (g_policy == InterruptPolicy::forward_always)
    for (int sig : {SIGUSR1, SIGUSR2, SIGWINCH}) sigaction(sig, &sa, nullptr);
}

}  // namespace sctrace
