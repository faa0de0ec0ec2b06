#include "tracer/supervisor.h"

#include <sys/wait.h>

#include <algorithm>

namespace sctrace {

SupervisorActions& SupervisorActions::operator|=(const SupervisorActions& o) {
  if (o.signal_leader != 0) signal_leader = o.signal_leader;
  if (o.signal_rest != 0) signal_rest = o.signal_rest;
  kill_all = kill_all || o.kill_all;
  stop_waiting = stop_waiting || o.stop_waiting;
  return *this;
}

RunOutcome SupervisorOutcome::run_outcome(int workload_code) const {
  RunOutcome o;
  o.workload_code = workload_code;
  o.timed_out = timed_out;
  o.interrupted = interrupted();
  o.interrupt_signal = last_signal;
  return o;
}

SupervisorActions Supervisor::forward(int sig, Clock::time_point now) {
  SupervisorActions a;
  if (leader_status_) {
    a.signal_rest = sig;
    rest_signalled_ = true;
  } else {
    a.signal_leader = sig;
    rest_signalled_ = false;  // the rest get it once the first process is gone
  }
  forwarded_ = sig;
  if (config_.grace && !grace_end_) grace_end_ = now + *config_.grace;
  return a;
}

SupervisorActions Supervisor::kill() {
  SupervisorActions a;
  if (outcome_.killed) return a;
  outcome_.killed = true;
  grace_end_.reset();
  a.kill_all = true;
  return a;
}

void Supervisor::update_graceful() {
  // escalate: a second signal means the first was not enough, even one
  // that arrives just as the workload ends.
  const bool one_signal =
      outcome_.signals == 1 || (outcome_.signals > 1 && config_.policy == SignalPolicy::forward_always);
  outcome_.graceful = one_signal && !outcome_.killed && !outcome_.timed_out && leader_status_ &&
                      WIFEXITED(*leader_status_);
}

SupervisorActions Supervisor::on_signal(int sig, Clock::time_point now) {
  ++outcome_.signals;
  outcome_.last_signal = sig;
  SupervisorActions a;
  if (!ended_ && !outcome_.killed) {
    if (config_.policy == SignalPolicy::escalate && outcome_.signals >= 2) a = kill();
    else a = forward(sig, now);
  }
  update_graceful();
  return a;
}

SupervisorActions Supervisor::on_time(Clock::time_point now) {
  SupervisorActions a;
  if (ended_ || outcome_.killed) return a;
  if (config_.deadline && !outcome_.timed_out && now >= *config_.deadline) {
    outcome_.timed_out = true;
    if (config_.deadline_signal == SIGKILL) a = kill();
    else a = forward(config_.deadline_signal, now);
  } else if (grace_end_ && now >= *grace_end_) {
    a = kill();
  }
  update_graceful();
  return a;
}

SupervisorActions Supervisor::on_leader_exit(int wait_status) {
  SupervisorActions a;
  if (leader_status_) return a;
  leader_status_ = wait_status;
  if (forwarded_ != 0 && !rest_signalled_ && !outcome_.killed && !ended_) {
    a.signal_rest = forwarded_;
    rest_signalled_ = true;
  }
  update_graceful();
  return a;
}

SupervisorActions Supervisor::on_workload_exit() {
  ended_ = true;
  grace_end_.reset();
  SupervisorActions a;
  a.stop_waiting = true;
  return a;
}

std::optional<Supervisor::Clock::time_point> Supervisor::next_wakeup() const {
  if (ended_ || outcome_.killed) return std::nullopt;
  std::optional<Clock::time_point> t;
  if (config_.deadline && !outcome_.timed_out) t = config_.deadline;
  if (grace_end_) t = t ? std::min(*t, *grace_end_) : *grace_end_;
  return t;
}

}  // namespace sctrace
