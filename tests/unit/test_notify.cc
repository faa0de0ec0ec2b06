#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
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

#include "cli/backend.h"
#include "core/arch.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/templates.h"
#include "profile/seccomp_profile.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"
#include "tracer/notify.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using sctrace::test::slurp;
using sctrace::test::TempDir;

namespace {

// default ALLOW, SCMP_ACT_NOTIFY for `names`, straight from libseccomp.
std::vector<sock_filter> notify_on(std::vector<std::string> names) {
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  REQUIRE(ctx);
  for (const auto& n : names) REQUIRE(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(n.c_str()), 0) == 0);
  int fd = ::memfd_create("test-bpf", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(seccomp_export_bpf(ctx.get(), fd) == 0);
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  REQUIRE(::pread(fd, prog.data(), static_cast<size_t>(size), 0) == size);
  ::close(fd);
  return prog;
}

struct Counter : NotifyHandler {
  NotifyDecision answer;
  std::vector<SyscallEvent> events;
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    events.push_back(ev);
    return answer;
  }
};

LaunchSpec spec_for(std::vector<std::string> argv, std::vector<sock_filter> filter) {
  LaunchSpec s;
  s.argv = std::move(argv);
  s.seccomp_filter = std::move(filter);
  s.no_new_privs = true;
  return s;
}


int uname_nr() { return *arch::syscall_nr(arch::native(), "uname"); }

}  // namespace

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

TEST_CASE("a notify_denials filter from a profile, answered with the enforce verdict", "[notify]") {
  if (!probe_notify_caps().flag_continue) {
    WARN("skipped: no seccomp user notification with CONTINUE");
    return;
  }
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ALLOW";
  SyscallRule r;
  r.names = {"uname"};
  r.action = "SCMP_ACT_ERRNO";
  r.errno_ret = EACCES;
  p.syscalls = {r};
  const EvalContext ctx = EvalContext::docker_default();
  const auto enforce = compile_filter(p, ctx, FilterMode::enforce);

  // What `verify` does: the kernel notifies denials, the enforce program says
  // which errno runc's filter would have returned.
  struct Verifier : NotifyHandler {
    const std::vector<sock_filter>* prog = nullptr;
    int denials = 0;
    NotifyDecision on_notify(const SyscallEvent& ev) override {
      seccomp_data d{};
      d.nr = ev.nr;
      d.arch = ev.audit_arch;
      d.instruction_pointer = ev.ip;
      for (size_t i = 0; i < 6; ++i) d.args[i] = ev.args[i];
      uint32_t v = run_filter(*prog, d);
      if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
        ++denials;
        return {false, static_cast<int>(v & SECCOMP_RET_DATA)};
      }
      return {true, 0};
    }
  } h;
  h.prog = &enforce;
  TempDir tmp;
  auto spec = spec_for({"/bin/sh", "-c", "uname 2>" + tmp.str() + "/err; exit 4"},
                       compile_filter(p, ctx, FilterMode::notify_denials));
  ExitStatus st = run_with_notify(spec, h);
  CHECK(st.code == 4);
  CHECK(h.denials == 1);
  CHECK_THAT(slurp(tmp.path / "err"), Catch::Contains("Permission denied"));
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

TEST_CASE("backend auto: notify where the kernel can continue notified syscalls, else ptrace", "[notify][backend]") {
  const NotifyCaps full{true, true, true};
  const NotifyCaps no_sync{true, true, false};
  const NotifyCaps no_continue{true, false, false};
  const NotifyCaps none{};

  auto c = cli::decide_local_backend("auto", full, true);
  CHECK(c.name == "notify");
  CHECK_THAT(c.why, Catch::StartsWith("auto: ") && Catch::Contains("synchronous wake-up"));
  c = cli::decide_local_backend("auto", no_sync, true);
  CHECK(c.name == "notify");  // one stop per syscall still beats ptrace's two
  CHECK_THAT(c.why, Catch::Contains("no synchronous wake-up"));
  c = cli::decide_local_backend("auto", full, false);
  CHECK_THAT(c.why, Catch::Contains("no_new_privs"));
  CHECK(cli::decide_local_backend("auto", no_continue, true).name == "ptrace");
  // --ptrace-stops belongs to the ptrace backend: with notify asked for, it is refused, not ignored.
  CHECK_THROWS_AS(cli::decide_local_backend("notify", full, true, "two"), Error);
  CHECK(cli::decide_local_backend("auto", full, true, "two").name == "ptrace");
  CHECK(cli::decide_local_backend("auto", none, true).name == "ptrace");
  CHECK_THAT(cli::decide_local_backend("auto", none, true).why, Catch::Contains("no seccomp user notification"));
  // Asking for ptrace stops is asking for ptrace.
  c = cli::decide_local_backend("auto", full, true, "one");
  CHECK(c.name == "ptrace");
  CHECK_THAT(c.why, Catch::Contains("--ptrace-stops one"));

  CHECK(cli::decide_local_backend("ptrace", full, true).name == "ptrace");
  CHECK(cli::decide_local_backend("notify", no_sync, true).name == "notify");
  try {
    cli::decide_local_backend("notify", no_continue, true);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
  }
  try {
    cli::decide_local_backend("seccomp", full, true);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
  }
}

TEST_CASE("docker passes listenerPath from API 1.42 (Docker 23) on", "[notify][backend]") {
  std::string why;
  CHECK_FALSE(cli::engine_passes_listener_path({{"Version", "20.10.24+dfsg1"}, {"ApiVersion", "1.41"}}, why));
  CHECK_THAT(why, Catch::Contains("20.10.24+dfsg1") && Catch::Contains("drops listenerPath"));
  CHECK(cli::engine_passes_listener_path({{"Version", "23.0.1"}, {"ApiVersion", "1.42"}}, why));
  CHECK_THAT(why, Catch::Contains("passes listenerPath"));
  CHECK(cli::engine_passes_listener_path({{"Version", "27.3.1"}, {"ApiVersion", "1.47"}}, why));
  CHECK(cli::engine_passes_listener_path({{"Version", "24.0.0"}}, why));
  CHECK_FALSE(cli::engine_passes_listener_path({{"Version", "19.03.1"}}, why));
  CHECK_FALSE(cli::engine_passes_listener_path(nlohmann::json::object(), why));
  CHECK_FALSE(cli::engine_passes_listener_path(nlohmann::json(), why));
}

TEST_CASE("a calibrated runtime baseline replaces the bundled one in the minimizer", "[notify][baseline]") {
  const std::string text = R"({"runtime": "runc test", "with_new_privs": ["uname", "capset"],
                               "with_no_new_privs": ["getpid"], "go_runtime": ["futex"]})";
  RuntimeBaseline b = parse_runtime_baseline(text, "test.json");
  CHECK(b.runtime == "runc test");
  CHECK(b.with_new_privs == std::set<std::string>{"capset", "futex", "uname"});
  CHECK(b.with_no_new_privs == std::set<std::string>{"futex", "getpid"});
  CHECK_THROWS_AS(parse_runtime_baseline(R"({"runtime": "x"})", "bad.json"), Error);
  // Each refusal names the file and the field, never nlohmann's exception text.
  auto message = [](const std::string& t) {
    try {
      parse_runtime_baseline(t, "b.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})") ==
        "b.json: not a runtime baseline (no \"runtime\" field; `sctrace calibrate` writes one)");
  CHECK(message(R"({"runtime": 5, "with_new_privs": [], "with_no_new_privs": []})") ==
        "b.json: \"runtime\": expected a string");
  CHECK(message(R"({"runtime": "r", "with_new_privs": [1], "with_no_new_privs": []})") ==
        "b.json: \"with_new_privs\"[0]: expected a syscall name");
  CHECK(message(R"({"runtime": "r",)").rfind("b.json: invalid JSON: parse error at line 1", 0) == 0);

  Recording rec;
  auto allowed = [](const SeccompProfile& p) {
    std::set<std::string> out;
    for (const auto& r : p.syscalls)
      if (r.action == "SCMP_ACT_ALLOW") out.insert(r.names.begin(), r.names.end());
    return out;
  };
  MinimizeOptions opts;
  auto bundled = allowed(minimize(rec, docker_default_template(), opts).profile);
  CHECK(bundled.count("setgroups") == 1);  // in the bundled runc baseline
  CHECK(bundled.count("uname") == 0);
  opts.runtime_baseline = &b;
  auto calibrated = allowed(minimize(rec, docker_default_template(), opts).profile);
  CHECK(calibrated.count("uname") == 1);
  CHECK(calibrated.count("setgroups") == 0);
  CHECK(calibrated.count("capset") == 1);
}
