// core/exit_status.h: wait status -> ExitStatus, and a run's outcome ->
// sctrace's exit code (the one mapping every subcommand uses).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/exit_status.h"

namespace sctrace {
namespace {

// A real wait status from a child that ends as asked: no hand-built bits.
int status_of_child(int exit_code, int kill_with = 0) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (kill_with != 0) {
      ::signal(kill_with, SIG_DFL);
      ::raise(kill_with);
    }
    ::_exit(exit_code);
  }
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  return st;
}

TEST_CASE("exit_status_from_wait: exit codes and signals", "[exit_status]") {
  ExitStatus ok = exit_status_from_wait(status_of_child(0));
  CHECK(!ok.signaled);
  CHECK(ok.code == 0);
  CHECK(ok.shell_code() == 0);

  ExitStatus three = exit_status_from_wait(status_of_child(3));
  CHECK(!three.signaled);
  CHECK(three.code == 3);
  CHECK(shell_code(status_of_child(3)) == 3);

  ExitStatus killed = exit_status_from_wait(status_of_child(0, SIGKILL));
  CHECK(killed.signaled);
  CHECK(killed.signal == SIGKILL);
  CHECK(!killed.core_dumped);
  CHECK(killed.shell_code() == 128 + SIGKILL);
  CHECK(shell_code(status_of_child(0, SIGTERM)) == 128 + SIGTERM);
  CHECK(!exit_status_from_wait(status_of_child(0, SIGTERM)).timed_out);
}

TEST_CASE("exit_code_of: the workload's code when nothing else happened", "[exit_status]") {
  CHECK(exit_code_of({}) == 0);
  CHECK(exit_code_of({.workload_code = 7}) == 7);
  CHECK(exit_code_of({.workload_code = 128 + SIGSEGV}) == 128 + SIGSEGV);
}

TEST_CASE("exit_code_of: interrupted wins, 128 + the last signal (SIGINT when unknown)", "[exit_status]") {
  CHECK(exit_code_of({.workload_code = 0, .interrupted = true, .interrupt_signal = SIGTERM}) == 128 + SIGTERM);
  CHECK(exit_code_of({.workload_code = 3, .interrupted = true}) == 128 + SIGINT);
  CHECK(exit_code_of({.workload_code = 3,
                      .timed_out = true,
                      .interrupted = true,
                      .interrupt_signal = SIGHUP,
                      .probes_failed = true}) == 128 + SIGHUP);
  // The signal alone is not an interruption (a service that shut down
  // cleanly on the forwarded signal reports its own code).
  CHECK(exit_code_of({.workload_code = 0, .interrupt_signal = SIGTERM}) == 0);
}

TEST_CASE("exit_code_of: timeout is 124, before a failed probe", "[exit_status]") {
  CHECK(kTimedOutExitCode == 124);
  CHECK(exit_code_of({.workload_code = 137, .timed_out = true}) == 124);
  CHECK(exit_code_of({.workload_code = 0, .timed_out = true, .probes_failed = true}) == 124);
  CHECK(exit_code_of({.workload_code = 0, .timed_out = true}, ProbeFailureCode::one_unless_workload_failed) == 124);
}

TEST_CASE("exit_code_of: a failed probe is 1, or the workload's failure for check", "[exit_status]") {
  CHECK(exit_code_of({.workload_code = 0, .probes_failed = true}) == 1);
  CHECK(exit_code_of({.workload_code = 143, .probes_failed = true}) == 1);
  CHECK(exit_code_of({.workload_code = 0, .probes_failed = true}, ProbeFailureCode::one_unless_workload_failed) == 1);
  CHECK(exit_code_of({.workload_code = 143, .probes_failed = true}, ProbeFailureCode::one_unless_workload_failed) ==
        143);
  CHECK(exit_code_of({.workload_code = 143}, ProbeFailureCode::one_unless_workload_failed) == 143);
}

}  // namespace
}  // namespace sctrace
