// tracer/supervisor.h: the interrupt / deadline / kill policy, driven through
// the sequences the e2e tests (test_interrupt, test_exit_status) cover, with
// the exit code each outcome gives (core/exit_status.h exit_code_of).
#include "tracer/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "core/exit_status.h"

namespace sctrace {
namespace {

using Clock = Supervisor::Clock;
using namespace std::chrono_literals;

const Clock::time_point t0{};  // any start: the machine reads no clock
const int kExited0 = W_EXITCODE(0, 0);
const int kExited7 = W_EXITCODE(7, 0);
const int kDiedOfTerm = W_EXITCODE(0, SIGTERM);
const int kDiedOfKill = W_EXITCODE(0, SIGKILL);

bool none(const SupervisorActions& a) { return !a.any(); }

SupervisorConfig with_deadline(Clock::duration after) {
  SupervisorConfig c;
  c.deadline = t0 + after;
  return c;
}

TEST_CASE("supervisor: the workload exits before anything happens", "[supervisor]") {
  Supervisor s(with_deadline(10s));
  CHECK(none(s.on_time(t0 + 1s)));
  CHECK(s.next_wakeup() == t0 + 10s);
  CHECK(none(s.on_leader_exit(kExited7)));
  CHECK(s.leader_gone());
  SupervisorActions end = s.on_workload_exit();
  CHECK(end.stop_waiting);
  CHECK_FALSE(end.kill_all);
  CHECK(s.next_wakeup() == std::nullopt);
  CHECK(none(s.on_time(t0 + 11s)));  // the deadline is moot once it is over
  const SupervisorOutcome& o = s.outcome();
  CHECK(o.signals == 0);
  CHECK_FALSE(o.timed_out);
  CHECK_FALSE(o.killed);
  CHECK_FALSE(o.graceful);
  CHECK_FALSE(o.interrupted());
  CHECK(exit_code_of(o.run_outcome(7)) == 7);
}

TEST_CASE("supervisor: one SIGTERM the workload handles ends it gracefully", "[supervisor]") {
  Supervisor s;
  SupervisorActions a = s.on_signal(SIGTERM, t0 + 1s);
  CHECK(a.signal_leader == SIGTERM);
  CHECK(a.signal_rest == 0);
  CHECK_FALSE(a.kill_all);
  CHECK(s.next_wakeup() == std::nullopt);  // no grace: it may take its time
  // The server shuts down and exits 0; what it left running gets the
  // signal too, once.
  a = s.on_leader_exit(kExited0);
  CHECK(a.signal_rest == SIGTERM);
  CHECK(a.signal_leader == 0);
  CHECK(none(s.on_leader_exit(kExited0)));
  CHECK(s.on_workload_exit().stop_waiting);
  const SupervisorOutcome& o = s.outcome();
  CHECK(o.signals == 1);
  CHECK(o.last_signal == SIGTERM);
  CHECK(o.graceful);
  CHECK_FALSE(o.killed);
  CHECK_FALSE(o.interrupted());
  CHECK(exit_code_of(o.run_outcome(0)) == 0);
}

TEST_CASE("supervisor: one SIGTERM the workload dies of", "[supervisor]") {
  Supervisor s;
  CHECK(s.on_signal(SIGTERM, t0).signal_leader == SIGTERM);
  CHECK(s.on_leader_exit(kDiedOfTerm).signal_rest == SIGTERM);
  s.on_workload_exit();
  const SupervisorOutcome& o = s.outcome();
  CHECK_FALSE(o.graceful);  // it died of it: cut short
  CHECK(o.interrupted());
  CHECK(exit_code_of(o.run_outcome(128 + SIGTERM)) == 128 + SIGTERM);
}

TEST_CASE("supervisor: a signal after the first process is gone goes to the rest, once", "[supervisor]") {
  Supervisor s;
  CHECK(none(s.on_leader_exit(kExited0)));
  SupervisorActions a = s.on_signal(SIGINT, t0);
  CHECK(a.signal_leader == 0);
  CHECK(a.signal_rest == SIGINT);
  CHECK(none(s.on_leader_exit(kExited0)));
}

TEST_CASE("supervisor: SIGTERM, then a second SIGTERM kills", "[supervisor]") {
  Supervisor s;
  CHECK(s.on_signal(SIGTERM, t0).signal_leader == SIGTERM);
  CHECK_FALSE(s.killing());
  SupervisorActions a = s.on_signal(SIGTERM, t0 + 300ms);
  CHECK(a.kill_all);
  CHECK(a.signal_leader == 0);
  CHECK(s.killing());
  // Killing is decided once; the loop repeats the SIGKILL itself if it
  // can see new processes appear (killing()).
  CHECK(none(s.on_signal(SIGTERM, t0 + 400ms)));
  // The first process dies of the SIGKILL: nothing more is forwarded.
  CHECK(none(s.on_leader_exit(kDiedOfKill)));
  s.on_workload_exit();
  const SupervisorOutcome& o = s.outcome();
  CHECK(o.killed);
  CHECK(o.signals == 3);
  CHECK(o.last_signal == SIGTERM);
  CHECK_FALSE(o.graceful);
  CHECK_FALSE(o.timed_out);
  // 128 + the signal sctrace received, not the SIGKILL it sent.
  CHECK(exit_code_of(o.run_outcome(128 + SIGKILL)) == 128 + SIGTERM);
}

TEST_CASE("supervisor: two signals seen in one round forward, then kill", "[supervisor]") {
  Supervisor s;
  SupervisorActions a = s.on_signal(SIGINT, t0);
  a |= s.on_signal(SIGINT, t0);
  CHECK(a.signal_leader == SIGINT);
  CHECK(a.kill_all);
}

TEST_CASE("supervisor: SIGTERM to a workload that ignores it", "[supervisor]") {
  SECTION("without a grace period it runs on until a second signal or the deadline") {
    Supervisor s(with_deadline(60s));
    CHECK(s.on_signal(SIGTERM, t0 + 1s).signal_leader == SIGTERM);
    CHECK(s.next_wakeup() == t0 + 60s);
    CHECK(none(s.on_time(t0 + 30s)));
    CHECK_FALSE(s.killing());
    SupervisorActions a = s.on_time(t0 + 60s);
    CHECK(a.kill_all);
    const SupervisorOutcome& o = s.outcome();
    CHECK(o.timed_out);
    CHECK(o.killed);
    CHECK(o.interrupted());
    CHECK(exit_code_of(o.run_outcome(128 + SIGKILL)) == 128 + SIGTERM);
  }
  SECTION("with a grace period it is killed when that runs out") {
    SupervisorConfig c;
    c.grace = 2s;
    Supervisor s(c);
    CHECK(s.on_signal(SIGTERM, t0 + 1s).signal_leader == SIGTERM);
    CHECK(s.next_wakeup() == t0 + 3s);
    CHECK(none(s.on_time(t0 + 2s)));
    CHECK(s.on_time(t0 + 3s).kill_all);
    CHECK(s.next_wakeup() == std::nullopt);
    CHECK(s.outcome().killed);
    CHECK_FALSE(s.outcome().timed_out);
  }
  SECTION("a workload that ends within the grace period is not killed") {
    SupervisorConfig c;
    c.grace = 2s;
    Supervisor s(c);
    s.on_signal(SIGTERM, t0);
    s.on_leader_exit(kExited0);
    CHECK(s.on_workload_exit().stop_waiting);
    CHECK(none(s.on_time(t0 + 5s)));
    CHECK(s.outcome().graceful);
  }
}

TEST_CASE("supervisor: the deadline kills", "[supervisor]") {
  Supervisor s(with_deadline(1500ms));
  CHECK(s.next_wakeup() == t0 + 1500ms);
  CHECK(none(s.on_time(t0 + 1499ms)));
  SupervisorActions a = s.on_time(t0 + 1500ms);
  CHECK(a.kill_all);
  CHECK(none(s.on_time(t0 + 2s)));
  CHECK(none(s.on_leader_exit(kDiedOfKill)));
  s.on_workload_exit();
  const SupervisorOutcome& o = s.outcome();
  CHECK(o.timed_out);
  CHECK(o.killed);
  CHECK_FALSE(o.interrupted());
  CHECK(exit_code_of(o.run_outcome(128 + SIGKILL)) == kTimedOutExitCode);
}

TEST_CASE("supervisor: the deadline, then a SIGTERM", "[supervisor]") {
  Supervisor s(with_deadline(1s));
  CHECK(s.on_time(t0 + 1s).kill_all);
  // Already being killed: the signal is noted, nothing is forwarded.
  CHECK(none(s.on_signal(SIGTERM, t0 + 1100ms)));
  const SupervisorOutcome& o = s.outcome();
  CHECK(o.timed_out);
  CHECK(o.signals == 1);
  CHECK_FALSE(o.graceful);
  CHECK(o.interrupted());
  CHECK(exit_code_of(o.run_outcome(128 + SIGKILL)) == 128 + SIGTERM);
}

TEST_CASE("supervisor: a polite deadline asks first, then kills after the grace", "[supervisor]") {
  SupervisorConfig c = with_deadline(10s);
  c.deadline_signal = SIGTERM;
  c.grace = 5s;
  Supervisor s(c);
  SupervisorActions a = s.on_time(t0 + 10s);
  CHECK(a.signal_leader == SIGTERM);
  CHECK_FALSE(a.kill_all);
  CHECK(s.outcome().timed_out);
  CHECK(s.next_wakeup() == t0 + 15s);
  // The first process goes; the rest get the same request.
  CHECK(s.on_leader_exit(kExited0).signal_rest == SIGTERM);
  CHECK(s.on_time(t0 + 15s).kill_all);
  CHECK_FALSE(s.outcome().graceful);
}

TEST_CASE("supervisor: forward_always forwards every signal and never kills", "[supervisor]") {
  SupervisorConfig c;
  c.policy = SignalPolicy::forward_always;
  Supervisor s(c);
  CHECK(s.on_signal(SIGWINCH, t0).signal_leader == SIGWINCH);
  SupervisorActions a = s.on_signal(SIGTERM, t0 + 1s);
  CHECK(a.signal_leader == SIGTERM);
  CHECK_FALSE(a.kill_all);
  CHECK(s.on_signal(SIGTERM, t0 + 2s).signal_leader == SIGTERM);
  // Once the first process is gone the last forwarded signal reaches the
  // rest, once, and later ones go to the rest directly.
  CHECK(s.on_leader_exit(kExited0).signal_rest == SIGTERM);
  CHECK(s.on_signal(SIGUSR1, t0 + 3s).signal_rest == SIGUSR1);
  CHECK_FALSE(s.killing());
  s.on_workload_exit();
  CHECK(s.outcome().signals == 4);
  CHECK(s.outcome().graceful);
}

TEST_CASE("supervisor: signals after the workload is gone change nothing but the outcome", "[supervisor]") {
  Supervisor s;
  s.on_leader_exit(kExited0);
  s.on_workload_exit();
  CHECK(none(s.on_signal(SIGINT, t0)));
  CHECK(none(s.on_signal(SIGINT, t0)));
  CHECK_FALSE(s.killing());
  CHECK(s.outcome().signals == 2);
  CHECK_FALSE(s.outcome().graceful);  // as a shell would count: two signals, not one
}

}  // namespace
}  // namespace sctrace
