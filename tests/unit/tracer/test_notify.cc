#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tests/unit/tracer/notify_fixtures.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using namespace sctrace::test;

TEST_CASE("probe_notify_caps sees what this kernel offers", "[notify]") {
  NotifyCaps caps = probe_notify_caps();
  utsname u{};
  REQUIRE(::uname(&u) == 0);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  const int v = major * 100 + minor;
  CHECK(caps.user_notif == (v >= 500));
  CHECK(caps.flag_continue == (v >= 505));
  CHECK(caps.sync_wakeup == (v >= 606));
}

TEST_CASE("notified syscalls fail with the handler's errno", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  TempDir tmp;
  Counter h;
  h.answer = {false, EXDEV};
  auto spec = spec_for({"/bin/sh", "-c", "uname 2>" + tmp.str() + "/err && exit 5; exit 3"}, notify_on({"uname"}));
  ExitStatus st = run_with_notify(spec, h);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 3);
  REQUIRE(h.events.size() == 1);
  const SyscallEvent& ev = h.events[0];
  CHECK(ev.nr == uname_nr());
  CHECK(ev.audit_arch == arch::native());
  CHECK(ev.tid > 0);
  CHECK(ev.pid == ev.tid);
  CHECK(ev.ip != 0);
  CHECK_FALSE(ev.result.has_value());
  // strerror(EXDEV) reached uname's error message.
  CHECK_THAT(slurp(tmp.path / "err"), Catch::Contains("cross-device"));
}

TEST_CASE("an allow answer lets the syscall run (CONTINUE)", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  TempDir tmp;
  Counter h;
  h.answer = {true, 0};
  auto spec = spec_for({"/bin/sh", "-c", "uname -s >" + tmp.str() + "/out || exit 7; uname -s >>" + tmp.str() + "/out"},
                       notify_on({"uname"}));
  ExitStatus st = run_with_notify(spec, h);
  CHECK(st.shell_code() == 0);
  CHECK(h.events.size() == 2);
  CHECK(slurp(tmp.path / "out") == "Linux\nLinux\n");
}

TEST_CASE("exit codes and signals pass through", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  Counter h;
  ExitStatus st = run_with_notify(spec_for({"/bin/sh", "-c", "exit 3"}, notify_on({"uname"})), h);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 3);
  CHECK(h.events.empty());

  st = run_with_notify(spec_for({"sh", "-c", "kill -TERM $$"}, notify_on({"uname"})), h);
  CHECK(st.signaled);
  CHECK(st.signal == SIGTERM);
  CHECK(st.shell_code() == 128 + SIGTERM);
}

TEST_CASE("events carry the thread-group id of notifying threads", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  if (::access("/usr/bin/python3", X_OK) != 0) {
    WARN("skipped: no /usr/bin/python3");
    return;
  }
  Counter h;
  h.answer = {true, 0};
  auto spec = spec_for({"/usr/bin/python3", "-c", "import threading,os; t=threading.Thread(target=os.uname); "
                                                  "t.start(); t.join(); os.uname()"},
                       notify_on({"uname"}));
  ExitStatus st = run_with_notify(spec, h);
  CHECK(st.shell_code() == 0);
  REQUIRE(h.events.size() >= 2);
  std::set<pid_t> pids;
  bool from_thread = false;
  for (const auto& ev : h.events) {
    pids.insert(ev.pid);
    if (ev.tid != ev.pid) from_thread = true;
  }
  CHECK(pids.size() == 1);
  CHECK(from_thread);
}

TEST_CASE("a command that does not exist is Error(not_found)", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  Counter h;
  try {
    run_with_notify(spec_for({"no-such-command-sctrace"}, notify_on({"uname"})), h);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::not_found);
  }
}

TEST_CASE("the timeout kills the workload", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  Counter h;
  auto spec = spec_for({"sleep", "30"}, notify_on({"uname"}));
  spec.timeout = std::chrono::milliseconds(300);
  const auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = run_with_notify(spec, h);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(st.signaled);
  CHECK(st.signal == SIGKILL);
  CHECK(took >= std::chrono::milliseconds(300));
  CHECK(took < std::chrono::seconds(10));
}

TEST_CASE("the first interrupt is forwarded, the second kills", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  // The interrupt counter is process-wide: run in a child so other tests
  // never see these interrupts.
  auto in_child = [](int interrupts, const char* script) -> int {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 99;
      std::thread t;
      try {
        t = std::thread([interrupts] {
          for (int i = 0; i < interrupts; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            note_interrupt(SIGINT);
          }
        });
        Counter h;
        ExitStatus st = run_with_notify(spec_for({"/bin/sh", "-c", script}, notify_on({"uname"})), h);
        rc = st.signaled ? 100 + st.signal : st.code;
        if (st.killed_on_interrupt != (interrupts >= 2)) rc = 97;  // the exit code reads 128+SIGINT
      } catch (const std::exception& e) {
        std::fprintf(stderr, "run_with_notify: %s\n", e.what());
        rc = 98;
      }
      if (t.joinable()) t.join();
      ::_exit(rc);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  // One interrupt: SIGINT reaches the shell, whose trap decides (and ends
  // its background sleep: the run lasts until every process has exited).
  CHECK(in_child(1, "sleep 30 & p=$!; trap 'kill $p; exit 42' INT; wait") == 42);
  // Two: the second one is SIGKILL.
  CHECK(in_child(2, "trap '' INT; sleep 30 & wait; sleep 30 & wait") == 100 + SIGKILL);
}

TEST_CASE("a task killed while its notification is being decided: the answer is dropped, not an error", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  const auto filter = notify_on({"uname"});
  ChildOptions opts;
  opts.filter = &filter;
  opts.new_listener = true;
  opts.no_new_privs = true;
  ChildProcess child = ChildProcess::spawn({"/bin/sh", "-c", "exec uname"}, opts);
  UniqueFd listener = child.take_listener();

  // Kills the notifying task and waits until it is a zombie: its pending
  // notification is gone from the listener when the handler returns.
  struct Killer : NotifyHandler {
    int calls = 0;
    NotifyDecision on_notify(const SyscallEvent& ev) override {
      ++calls;
      ::kill(ev.tid, SIGKILL);
      siginfo_t si{};
      ::waitid(P_PID, static_cast<id_t>(ev.tid), &si, WEXITED | WNOWAIT);
      return {true, 0};
    }
  } h;
  NotifyResponder r(listener.get(), h);
  pollfd p{listener.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10000) == 1);
  CHECK_FALSE(r.serve_one());  // SEND answered ENOENT: nobody to answer
  CHECK(h.calls == 1);
  int st = child.wait();
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGKILL);
}

TEST_CASE("several supervisor threads serve one listener; the handler is never entered twice at once", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  struct Overlap : NotifyHandler {
    std::atomic<int> inside{0};
    bool overlapped = false;
    int events = 0;
    NotifyDecision on_notify(const SyscallEvent&) override {
      if (inside.fetch_add(1) != 0) overlapped = true;
      ++events;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      inside.fetch_sub(1);
      return {true, 0};
    }
  } h;
  ::setenv("SCTRACE_NOTIFY_THREADS", "4", 1);
  CHECK(notify_supervisor_threads() == 4);
  // Four shells calling uname at the same time.
  auto spec = spec_for({"/bin/sh", "-c", "for i in 1 2 3 4; do (for j in 1 2 3 4 5; do uname >/dev/null; done) & done; wait"},
                       notify_on({"uname"}));
  ExitStatus st = run_with_notify(spec, h);
  ::unsetenv("SCTRACE_NOTIFY_THREADS");
  CHECK(st.shell_code() == 0);
  CHECK(h.events == 20);
  CHECK_FALSE(h.overlapped);
}

TEST_CASE("asks_for_own_listener: seccomp(SET_MODE_FILTER) with NEW_LISTENER, from the registers", "[notify]") {
  SyscallEvent ev;
  ev.audit_arch = arch::native();
  ev.nr = SYS_seccomp;
  ev.args[0] = SECCOMP_SET_MODE_FILTER;
  ev.args[1] = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  CHECK(asks_for_own_listener(ev));
  ev.args[1] = SECCOMP_FILTER_FLAG_TSYNC;
  CHECK_FALSE(asks_for_own_listener(ev));  // a filter without a listener is fine under notify
  ev.args[0] = SECCOMP_SET_MODE_STRICT;
  ev.args[1] = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  CHECK_FALSE(asks_for_own_listener(ev));
  ev.args[0] = SECCOMP_SET_MODE_FILTER;
  ev.nr = SYS_prctl;  // prctl(PR_SET_SECCOMP) cannot ask for a listener
  CHECK_FALSE(asks_for_own_listener(ev));
#if defined(__x86_64__)
  ev.audit_arch = AUDIT_ARCH_I386;
  ev.nr = 354;  // seccomp on i386
  CHECK(asks_for_own_listener(ev));
#endif
}
