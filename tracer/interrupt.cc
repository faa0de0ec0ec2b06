#include "tracer/interrupt.h"

#include <atomic>

#include "core/exit_status.h"

namespace sctrace {

namespace {
std::atomic<int> g_count{0};
std::atomic<int> g_last{0};
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

SupervisorActions InterruptFeed::poll(Supervisor& s, std::chrono::steady_clock::time_point now) {
  SupervisorActions a;
  const int count = interrupt_count();
  for (; seen_ < count; ++seen_) a |= s.on_signal(last_interrupt_signal(), now);
  return a;
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
