// The one reader of /proc/PID/stat and /proc/PID/status, on real processes.
#include "tracer/proc_stat.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>

using namespace sctrace;

TEST_CASE("read_proc_stat: parent, process group and start time of a real child", "[proc_stat]") {
  const pid_t child = ::fork();
  if (child == 0) {
    ::setpgid(0, 0);
    ::pause();
    ::_exit(0);
  }
  REQUIRE(child > 0);
  // setpgid from here as well: whichever runs first, the group is the child's own.
  ::setpgid(child, child);
  const auto st = read_proc_stat(child);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  REQUIRE(st);
  CHECK(st->ppid == ::getpid());
  CHECK(st->pgrp == child);
  CHECK(st->start_time > 0);
  const auto self = read_proc_stat(::getpid());
  REQUIRE(self);
  CHECK(self->pgrp == ::getpgrp());
  CHECK(self->start_time <= st->start_time);
  CHECK_FALSE(read_proc_stat(child));  // reaped: gone
}

TEST_CASE("read_proc_status: a thread's group, its parent and its PID namespace depth", "[proc_stat]") {
  const auto self = read_proc_status(::getpid());
  REQUIRE(self);
  CHECK(self->tgid == ::getpid());
  CHECK(self->ppid == ::getppid());
  CHECK(self->pid_ns_depth >= 1);
  CHECK_FALSE(read_proc_status(0));
  CHECK_FALSE(read_proc_status(-1));

  // A grandchild in a new PID namespace is one level deeper. The unshare is
  // done in a child, so this test process keeps its own namespace for the
  // children of the tests after it.
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t middle = ::fork();
  if (middle == 0) {
    ::close(pipefd[0]);
    pid_t inner = -1;
    if (::unshare(CLONE_NEWPID) == 0) {
      inner = ::fork();
      if (inner == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    (void)!::write(pipefd[1], &inner, sizeof inner);
    if (inner > 0) ::waitpid(inner, nullptr, 0);
    ::_exit(0);
  }
  REQUIRE(middle > 0);
  ::close(pipefd[1]);
  pid_t inner = -1;
  REQUIRE(::read(pipefd[0], &inner, sizeof inner) == static_cast<ssize_t>(sizeof inner));
  ::close(pipefd[0]);
  std::optional<ProcStatus> deeper;
  if (inner > 0) {
    deeper = read_proc_status(inner);
    ::kill(inner, SIGKILL);
  }
  ::waitpid(middle, nullptr, 0);
  if (inner <= 0) {
    WARN("unshare(CLONE_NEWPID) refused here: the depth check is skipped");
    return;
  }
  REQUIRE(deeper);
  CHECK(deeper->pid_ns_depth == self->pid_ns_depth + 1);
  CHECK(deeper->ppid == middle);
  CHECK(deeper->tgid == inner);
}
