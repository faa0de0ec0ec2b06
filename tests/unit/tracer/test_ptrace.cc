// The ptrace backend against real processes (these need ptrace, as root here),
// plus the state machine against a scripted fake kernel for the orderings that
// are hard to provoke for real.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/arch.h"
#include "core/error.h"
#include "tracer/interrupt.h"
#include "tracer/ptrace_tracer.h"
#include "tracer/tracer.h"
#include "tests/unit/unit_helpers.h"

using namespace std::chrono_literals;
using sctrace::ExitStatus;
using sctrace::SyscallEvent;

namespace {

struct CollectSink : sctrace::EventSink {
  std::vector<SyscallEvent> events;
  std::vector<std::pair<pid_t, std::string>> execs;
  std::vector<std::pair<pid_t, int>> exits;
  void on_syscall(const SyscallEvent& ev) override { events.push_back(ev); }
  void on_exec(pid_t pid, std::string_view path) override { execs.emplace_back(pid, std::string(path)); }
  void on_exit(pid_t pid, int status) override { exits.emplace_back(pid, status); }

  std::vector<SyscallEvent> named(long nr) const {
    std::vector<SyscallEvent> out;
    for (const auto& e : events)
      if (e.audit_arch == AUDIT_ARCH_X86_64 && e.nr == nr) out.push_back(e);
    return out;
  }
};

using sctrace::PtraceStops;

const char* stops_name(PtraceStops s) {
  return s == PtraceStops::one ? "one" : s == PtraceStops::two ? "two" : "auto";
}

// Every traced run in these tests has a safety timeout so a bug shows up as a
// failed assertion, not as a hung test binary.
ExitStatus trace(const std::vector<std::string>& argv, CollectSink& sink, std::chrono::milliseconds timeout = 20s,
                 PtraceStops stops = PtraceStops::automatic) {
  sctrace::LaunchSpec spec;
  spec.argv = argv;
  spec.timeout = timeout;
  return sctrace::make_ptrace_tracer(stops)->run(spec, sink);
}

// One-stop results: per (arch, nr), in delivery order, every call has its
// result up to and including the first success, and none after it.
void check_one_stop_results(const std::vector<SyscallEvent>& events) {
  std::set<std::pair<uint32_t, int32_t>> succeeded;
  for (const auto& e : events) {
    const auto key = std::make_pair(e.audit_arch, e.nr);
    INFO("nr " << e.nr << " arch " << e.audit_arch);
    if (succeeded.count(key) != 0) {
      CHECK_FALSE(e.result.has_value());
      continue;
    }
    // exit_group and a launcher's failed execve report never return.
    if (!e.result) {
      CHECK((e.nr == SYS_exit_group || e.nr == SYS_exit));
      continue;
    }
    if (*e.result >= 0 || *e.result < -4095) succeeded.insert(key);
  }
}

// A C program compiled at test time into a private temp dir.
class Program {
 public:
  Program(const std::string& name, const std::string& source, const std::string& flags = "") {
    std::string src = dir_.str() + "/" + name + ".c";
    path_ = dir_.str() + "/" + name;
    std::ofstream(src) << source;
    std::string cmd = "cc -O1 -o " + path_ + " " + src + " " + flags + " 2>&1";
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  const std::string& path() const { return path_; }

 private:
  sctrace::test::TempDir dir_;
  std::string path_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST_CASE("ptrace: caps", "[ptrace]") {
  auto caps = sctrace::make_ptrace_tracer()->caps();
  CHECK(caps.results);
  CHECK(caps.follows_children);
  CHECK_FALSE(caps.sees_pre_exec);
}

TEST_CASE("ptrace: exit code passes through", "[ptrace]") {
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "exit 7"}, sink);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 7);
  CHECK(st.shell_code() == 7);
  REQUIRE(sink.exits.size() == 1);
  CHECK(WIFEXITED(sink.exits[0].second));
}

TEST_CASE("ptrace: death by signal passes through", "[ptrace]") {
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "kill -TERM $$"}, sink);
  CHECK(st.signaled);
  CHECK(st.signal == SIGTERM);
  CHECK(st.shell_code() == 128 + SIGTERM);
}

TEST_CASE("ptrace: pre-exec syscalls are not delivered, the first event is the execve", "[ptrace]") {
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({"/bin/true"}, sink, 20s, stops);
  CHECK(st.code == 0);
  REQUIRE_FALSE(sink.events.empty());
  const SyscallEvent& first = sink.events.front();
  CHECK(first.audit_arch == AUDIT_ARCH_X86_64);
  CHECK(first.nr == SYS_execve);
  CHECK(first.result == 0);
  CHECK(first.tid == first.pid);
  // Only one execve at all: the launcher's barrier read and the like came
  // before it and were not reported.
  CHECK(sink.named(SYS_execve).size() == 1);
  REQUIRE(sink.execs.size() == 1);
  CHECK(ends_with(sink.execs[0].second, "/true"));
  // The last syscall, exit_group, never returns: delivered without a result.
  CHECK(sink.events.back().nr == SYS_exit_group);
  CHECK_FALSE(sink.events.back().result.has_value());
  if (stops == PtraceStops::two) {
    for (size_t i = 0; i + 1 < sink.events.size(); ++i) CHECK(sink.events[i].result.has_value());
  } else {
    check_one_stop_results(sink.events);
  }
}

TEST_CASE("ptrace: children and their execs are followed", "[ptrace]") {
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "/bin/true; /bin/echo hi >/dev/null"}, sink, 20s, stops);
  CHECK(st.code == 0);
  const pid_t sh = sink.events.at(0).pid;
  int ok_execs = 0;
  for (const auto& e : sink.named(SYS_execve)) ok_execs += e.result == 0;
  CHECK(ok_execs >= (stops == PtraceStops::two ? 3 : 1));
  CHECK(sink.execs.size() >= 3);
  std::set<pid_t> pids;
  for (const auto& e : sink.events) pids.insert(e.pid);
  CHECK(pids.size() >= 2);  // at least /bin/true ran in a forked child
  bool echo_write = false;
  for (const auto& e : sink.named(SYS_write))
    echo_write |= e.args[0] == 1 && e.args[2] == 3 && (stops == PtraceStops::one || e.result == 3);
  CHECK(echo_write);
  if (stops == PtraceStops::one) check_one_stop_results(sink.events);
  // One exit per process, the shell's among them.
  std::set<pid_t> exited;
  for (const auto& [pid, status] : sink.exits) exited.insert(pid);
  CHECK(exited.size() == sink.exits.size());
  CHECK(exited.count(sh) == 1);
}

TEST_CASE("ptrace: threads are followed and attributed to their process", "[ptrace]") {
  Program prog("threads", R"(
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
static void* run(void* a) { (void)a; for (int i = 0; i < 3; i++) syscall(SYS_sched_yield); return 0; }
int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, run, 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  return 0;
}
)",
               "-pthread");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink, 20s, stops);
  CHECK(st.code == 0);
  const pid_t pid = sink.events.at(0).pid;
  auto yields = sink.named(SYS_sched_yield);
  CHECK(yields.size() == 12);
  std::set<pid_t> tids;
  int results = 0;
  for (const auto& e : yields) {
    CHECK(e.pid == pid);
    CHECK(e.tid != pid);
    if (e.result) CHECK(*e.result == 0);
    results += e.result.has_value();
    tids.insert(e.tid);
  }
  // One-stop: results only until one sched_yield has succeeded; at most each
  // thread's first call can be waiting for it (they run concurrently).
  if (stops == PtraceStops::two) {
    CHECK(results == 12);
  } else {
    CHECK(results >= 1);
    CHECK(results <= 4);
  }
  CHECK(tids.size() == 4);
  // Threads are not processes: one exit, the leader's.
  REQUIRE(sink.exits.size() == 1);
  CHECK(sink.exits[0].first == pid);
}

TEST_CASE("ptrace: vfork children are followed", "[ptrace]") {
  Program prog("vfork", R"(
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t p = vfork();
  if (p == 0) { execl("/bin/true", "true", (char*)0); _exit(9); }
  int st;
  if (waitpid(p, &st, 0) != p) return 2;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
)");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink, 20s, stops);
  CHECK(st.code == 0);
  const pid_t parent = sink.events.at(0).pid;
  auto vforks = sink.named(SYS_vfork);
  REQUIRE(vforks.size() == 1);
  REQUIRE(vforks[0].result.has_value());
  const auto child = static_cast<pid_t>(*vforks[0].result);
  CHECK(child > 0);
  bool child_exec = false;
  for (const auto& [pid, path] : sink.execs) child_exec |= pid == child && ends_with(path, "/true");
  CHECK(child_exec);
  bool child_execve_event = false;
  for (const auto& e : sink.named(SYS_execve))
    child_execve_event |= e.pid == child && (stops == PtraceStops::one || e.result == 0);
  CHECK(child_execve_event);
  CHECK(child != parent);
}

TEST_CASE("ptrace: int 0x80 from a 64-bit process is reported as i386", "[ptrace]") {
  if (sctrace::test::int80_refused()) return;
  Program prog("int80", R"(
#include <unistd.h>
int main(void) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
  return r == getpid() ? 0 : 1;
}
)");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink, 20s, stops);
  CHECK(st.code == 0);
  const pid_t pid = sink.events.at(0).pid;
  auto x86 = sctrace::arch::from_scmp_name("SCMP_ARCH_X86");
  REQUIRE(x86.has_value());
  auto getpid32 = sctrace::arch::syscall_nr(*x86, "getpid");
  REQUIRE(getpid32 == 20);
  int found = 0;
  for (const auto& e : sink.events) {
    if (e.audit_arch != AUDIT_ARCH_I386) continue;
    ++found;
    CHECK(e.nr == *getpid32);
    CHECK(e.result == pid);
  }
  CHECK(found == 1);
}

TEST_CASE("ptrace: SIGSTOP really stops a tracee and SIGCONT resumes it", "[ptrace]") {
  // The parent sees its child stopped (waitpid WUNTRACED), sees it stay
  // stopped for 100 ms, continues it and sees it finish.
  Program prog("groupstop", R"(
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t c = fork();
  if (c == 0) { raise(SIGSTOP); _exit(3); }
  int st;
  if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) return 10;
  usleep(100000);
  if (waitpid(c, &st, WNOHANG) != 0) return 11;
  kill(c, SIGCONT);
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 3) return 12;
  return 0;
}
)");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = trace({prog.path()}, sink, 10s, stops);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("ptrace: a stopped shell job is continued by its sibling", "[ptrace]") {
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  // SIGCONT is repeated until the job is gone: a CONT that lands before the
  // STOP must not hang the test.
  ExitStatus st = trace({"sh", "-c",
                         "sh -c 'kill -STOP $$; exit 4' & p=$!; "
                         "until ! kill -0 $p 2>/dev/null || grep -q '^State:.Z' /proc/$p/status 2>/dev/null; "
                         "do sleep 0.05; kill -CONT $p 2>/dev/null; done; wait $p"},
                        sink, 10s, stops);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 4);
}

TEST_CASE("ptrace: signals are delivered to the tracee", "[ptrace]") {
  // A handled SIGUSR1 must reach the handler (not be swallowed at the
  // signal-delivery-stop).
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "trap 'exit 5' USR1; kill -USR1 $$; sleep 5; exit 1"}, sink, 10s, stops);
  CHECK(st.code == 5);
}

TEST_CASE("ptrace: execve from a non-leader thread", "[ptrace]") {
  Program prog("thread_exec", R"(
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
static void* spin(void* a) { (void)a; for (;;) syscall(SYS_sched_yield); return 0; }
static void* do_exec(void* a) {
  (void)a;
  usleep(50000);
  char* argv[] = {"true", 0};
  execv("/bin/true", argv);
  _exit(99);
}
int main(int argc, char** argv) {
  (void)argv;
  pthread_t a, b;
  pthread_create(&a, 0, spin, 0);
  pthread_create(&b, 0, do_exec, 0);
  if (argc > 1) pthread_exit(0);  /* the leader is a zombie when the exec comes */
  for (;;) syscall(SYS_pause);
}
)",
               "-pthread");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  for (bool leader_exits : {false, true}) {
    DYNAMIC_SECTION("leader " << (leader_exits ? "exited" : "blocked in pause")) {
      CollectSink sink;
      std::vector<std::string> argv{prog.path()};
      if (leader_exits) argv.push_back("x");
      ExitStatus st = trace(argv, sink, 10s, stops);
      CHECK_FALSE(st.signaled);
      CHECK(st.code == 0);
      const pid_t pid = sink.events.at(0).pid;
      REQUIRE(sink.execs.size() == 2);
      CHECK(sink.execs[1].first == pid);
      CHECK(ends_with(sink.execs[1].second, "/true"));
      // The thread's execve, reported under the tid it took over.
      auto execves = sink.named(SYS_execve);
      REQUIRE(execves.size() == 2);
      // Two stops report the execve at its exit, under the tid it took over;
      // one stop at its seccomp stop, under the thread's own tid.
      if (stops == PtraceStops::two) CHECK(execves[1].tid == pid);
      CHECK(execves[1].pid == pid);
      if (stops == PtraceStops::two) CHECK(execves[1].result == 0);
      if (!leader_exits) {
        // The leader's pause was wiped out by the exec: no result.
        auto pauses = sink.named(SYS_pause);
        REQUIRE(pauses.size() == 1);
        CHECK(pauses[0].tid == pid);
        CHECK_FALSE(pauses[0].result.has_value());
      }
      // /bin/true ran in the same process and its syscalls were seen.
      bool after_exec = false;
      for (const auto& e : sink.named(SYS_exit_group)) after_exec |= e.pid == pid;
      CHECK(after_exec);
      REQUIRE(sink.exits.size() == 1);
      CHECK(sink.exits[0].first == pid);
    }
  }
}

TEST_CASE("ptrace: the run lasts until the last tracee is gone", "[ptrace]") {
  CollectSink sink;
  auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = trace({"sh", "-c", "(sleep 0.3; /bin/true) & exit 3"}, sink, 10s);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(st.code == 3);
  CHECK_FALSE(st.timed_out);
  CHECK(elapsed >= 250ms);
  int trues = 0;
  for (const auto& [pid, path] : sink.execs) trues += ends_with(path, "/true");
  CHECK(trues == 1);
}

TEST_CASE("ptrace: the timeout kills every tracee", "[ptrace]") {
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = trace({"sh", "-c", "sleep 30 & sleep 30; exit 0"}, sink, 300ms, stops);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(st.timed_out);
  CHECK(st.signaled);
  CHECK(st.signal == SIGKILL);
  CHECK(elapsed >= 300ms);
  CHECK(elapsed < 1500ms);
  // Both sleeps are dead too: the run only returns when all are gone.
  CHECK(sink.exits.size() == 3);
}

TEST_CASE("ptrace: a missing command is not_found", "[ptrace]") {
  CollectSink sink;
  for (std::string cmd : {"/nonexistent/sctrace-cmd", "sctrace-no-such-command"}) {
    try {
      trace({cmd}, sink);
      FAIL("no error for " << cmd);
    } catch (const sctrace::Error& e) {
      CHECK(e.kind() == sctrace::ErrorKind::not_found);
    }
  }
  CHECK(sink.events.empty());
}

TEST_CASE("ptrace: a file that execve refuses is not_exec", "[ptrace]") {
  // Executable, but neither ELF nor #!: execve fails with ENOEXEC in the child.
  sctrace::test::TempDir dir;
  std::string path = dir.str() + "/junk";
  std::ofstream(path) << "\x7f\x01\x02 not a program\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  CollectSink sink;
  try {
    trace({path}, sink);
    FAIL("no error");
  } catch (const sctrace::Error& e) {
    CHECK(e.kind() == sctrace::ErrorKind::not_exec);
  }
}

TEST_CASE("ptrace: SECCOMP_RET_TRACE stops are recorded once and the syscall still runs", "[ptrace]") {
  // getppid traps to the tracer, everything else is allowed. Without
  // PTRACE_O_TRACESECCOMP the kernel would fail getppid with ENOSYS.
  Program prog("getppid3", R"(
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 3; i++)
    if (syscall(SYS_getppid) <= 0) return 1;
  return 0;
}
)");
  sctrace::LaunchSpec spec;
  spec.argv = {prog.path()};
  spec.timeout = 10s;
  spec.seccomp_filter = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  ExitStatus st = sctrace::make_ptrace_tracer(stops)->run(spec, sink);
  CHECK(st.code == 0);
  REQUIRE_FALSE(sink.events.empty());
  CHECK(sink.events.front().nr == SYS_execve);
  auto ev = sink.named(SYS_getppid);
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].result > 0);
  for (const auto& e : ev)
    if (stops == PtraceStops::two) CHECK(e.result > 0);
}

// Interrupts touch process-wide state (handlers, the interrupt counter), so
// each scenario runs in a forked copy of the test binary and reports through
// its exit code.
namespace {

int run_interrupted(const std::vector<std::string>& argv, int signals_to_send) {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    sctrace::install_interrupt_handlers();
    const pid_t self = ::getpid();
    std::thread sender([self, signals_to_send] {
      for (int i = 0; i < signals_to_send; ++i) {
        std::this_thread::sleep_for(300ms);
        ::kill(self, SIGTERM);
      }
    });
    int code = 0;
    try {
      CollectSink sink;
      sctrace::LaunchSpec spec;
      spec.argv = argv;
      spec.timeout = 10s;
      auto t0 = std::chrono::steady_clock::now();
      ExitStatus st = sctrace::make_ptrace_tracer()->run(spec, sink);
      if (std::chrono::steady_clock::now() - t0 > 5s) code = 50;  // took the safety timeout
      else if (sctrace::interrupt_count() != signals_to_send) code = 51;
      else if (st.timed_out) code = 53;
      else if (st.killed_on_interrupt != (signals_to_send >= 2)) code = 54;  // the exit code reads 128+SIGTERM
      else code = st.signaled ? st.signal : 100 + st.code;
    } catch (...) {
      code = 52;
    }
    sender.join();
    ::_exit(code);
  }
  int st = 0;
  REQUIRE(::waitpid(child, &st, 0) == child);
  REQUIRE(WIFEXITED(st));
  return WEXITSTATUS(st);
}

}  // namespace

TEST_CASE("ptrace: the first interrupt is forwarded to the workload", "[ptrace]") {
  CHECK(run_interrupted({"sleep", "30"}, 1) == SIGTERM);
}

TEST_CASE("ptrace: the second interrupt kills every tracee", "[ptrace]") {
  // The shell ignores SIGTERM (and so does its sleep), so only SIGKILL ends it.
  CHECK(run_interrupted({"sh", "-c", "trap '' TERM; sleep 30; exit 0"}, 2) == SIGKILL);
}

TEST_CASE("ptrace: the recorded syscalls match strace's for a static program", "[ptrace]") {
  Program prog("static_prog", R"(
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  int fd = open("/dev/null", O_WRONLY);
  write(fd, "x", 1);
  close(fd);
  syscall(SYS_getppid);
  syscall(SYS_uname, 0);
  return 0;
}
)",
               "-static");
  const PtraceStops stops = GENERATE(PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  CollectSink sink;
  REQUIRE(trace({prog.path()}, sink, 20s, stops).code == 0);
  std::multiset<int> ours;
  for (const auto& e : sink.events) ours.insert(e.nr);

  std::string out = prog.path() + ".strace";
  std::string cmd = "strace -f -qq -n -e trace=all -o " + out + " " + prog.path();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  std::multiset<int> theirs;
  for (std::string line; std::getline(in, line);) {
    // "[  59] execve(..." with -n
    auto lb = line.find('[');
    if (lb == std::string::npos) continue;
    theirs.insert(std::stoi(line.substr(lb + 1)));
  }
  CHECK(ours == theirs);
}


TEST_CASE("ptrace: one and two stops see the same syscalls", "[ptrace]") {
  // Threads, a fork, an exec, an int 0x80 and failing calls in one program:
  // the multiset of (arch, nr) and the error results must not depend on how
  // the tracee is stopped. An argument leaves the int 0x80 out, for a kernel
  // that refuses it (the rest must still run: the fault would end it there).
  Program prog("mixed", R"(
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void* run(void* a) { (void)a; syscall(SYS_getppid); return 0; }
int main(int argc, char** argv) {
  (void)argv;
  pthread_t t;
  pthread_create(&t, 0, run, 0);
  pthread_join(t, 0);
  for (int i = 0; i < 3; i++) syscall(SYS_rmdir, "/nonexistent/x");
  for (int i = 0; i < 2; i++) syscall(1000);
  long r;
  if (argc < 2) __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
  pid_t c = fork();
  if (c == 0) { execl("/bin/true", "true", (char*)0); _exit(9); }
  int st;
  waitpid(c, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
)",
               "-pthread");
  std::vector<std::string> argv = {prog.path()};
  if (sctrace::test::int80_refused()) argv.push_back("no-int80");
  std::map<PtraceStops, std::multiset<std::pair<uint32_t, int32_t>>> seen;
  std::map<PtraceStops, std::vector<int64_t>> failing;
  for (PtraceStops stops : {PtraceStops::one, PtraceStops::two}) {
    CollectSink sink;
    const ExitStatus st = trace(argv, sink, 20s, stops);
    REQUIRE_FALSE(st.signaled);
    REQUIRE(st.code == 0);
    // futex is left out: whether pthread_join waits (and how often) depends
    // on whether the thread has already exited, in either mode.
    for (const auto& e : sink.events)
      if (e.nr != SYS_futex) seen[stops].emplace(e.audit_arch, e.nr);
    for (long nr : {long(SYS_rmdir), 1000L})
      for (const auto& e : sink.named(nr)) failing[stops].push_back(e.result.value_or(0));
    if (stops == PtraceStops::one) check_one_stop_results(sink.events);
  }
  CHECK(seen[PtraceStops::one] == seen[PtraceStops::two]);
  // Calls that never succeed keep their results with one stop too: they
  // decide SyscallRecord::only_enosys.
  CHECK(failing[PtraceStops::one] == failing[PtraceStops::two]);
  CHECK(failing[PtraceStops::two] == std::vector<int64_t>{-ENOENT, -ENOENT, -ENOENT, -ENOSYS, -ENOSYS});
}

TEST_CASE("ptrace: auto is one stop when sctrace may install filters", "[ptrace]") {
  if (::geteuid() != 0) return;  // root has CAP_SYS_ADMIN: no no_new_privs needed
  CollectSink sink;
  Program prog("yield4", R"(
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { for (int i = 0; i < 4; i++) syscall(SYS_sched_yield); return 0; }
)");
  REQUIRE(trace({prog.path()}, sink, 20s, PtraceStops::automatic).code == 0);
  auto y = sink.named(SYS_sched_yield);
  REQUIRE(y.size() == 4);
  // Only one-stop leaves results out once the call has succeeded.
  CHECK(y[0].result == 0);
  CHECK_FALSE(y[3].result.has_value());
}

TEST_CASE("ptrace: a syscall the user's filter answers ERRNO is not seen with one stop", "[ptrace]") {
  // ERRNO takes precedence over TRACE: the kernel fails the call without a
  // seccomp stop. Two stops still see its entry (and the error).
  Program prog("denied_getppid", R"(
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return syscall(SYS_getppid) == -1 && errno == EPERM ? 0 : 1; }
)");
  for (PtraceStops stops : {PtraceStops::one, PtraceStops::two}) {
    CAPTURE(stops_name(stops));
    sctrace::LaunchSpec spec;
    spec.argv = {prog.path()};
    spec.timeout = 10s;
    spec.seccomp_filter = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    CollectSink sink;
    REQUIRE(sctrace::make_ptrace_tracer(stops)->run(spec, sink).code == 0);
    auto ev = sink.named(SYS_getppid);
    if (stops == PtraceStops::one) {
      CHECK(ev.empty());
    } else {
      REQUIRE(ev.size() == 1);
      CHECK(ev[0].result == -EPERM);
    }
    CHECK(sink.named(SYS_exit_group).size() == 1);
  }
}

namespace {

// Answers SECCOMP_RET_TRACE (or whatever action the backend waits on) for
// getppid from x86_64 and getpid through int 0x80 (i386 20); ALLOW otherwise.
std::vector<sock_filter> watch_getppid(uint32_t action) {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 20, 3, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
}

// getppid three times and getpid once through int 0x80 (left out when the
// program has an argument: for a kernel that refuses int 0x80). Exit code: 0
// when all of them succeeded, 3 when all failed with EACCES, something else
// otherwise.
const char* const kWatchProg = R"(
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char** argv) {
  (void)argv;
  const int calls = argc < 2 ? 4 : 3;
  int ok = 0, eacces = 0;
  for (int i = 0; i < 3; i++) {
    long r = syscall(SYS_getppid);
    ok += r > 0;
    eacces += r == -1 && errno == EACCES;
  }
  if (argc < 2) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
    ok += r == getpid();
    eacces += r == -EACCES;
  }
  if (ok == calls) return 0;
  if (eacces == calls) return 3;
  return 10 + ok * 5 + eacces;
}
)";

// kWatchProg's argv: without the int 0x80 when this kernel refuses it.
std::vector<std::string> watch_argv(const std::string& path) {
  if (sctrace::test::int80_refused()) return {path, "no-int80"};
  return {path};
}

}  // namespace

TEST_CASE("ptrace: watch_filter reports only what it answers TRACE", "[ptrace]") {
  Program prog("watch", kWatchProg);
  // Whatever the choice of stops, the watch filter decides.
  const PtraceStops stops = GENERATE(PtraceStops::automatic, PtraceStops::one, PtraceStops::two);
  CAPTURE(stops_name(stops));
  sctrace::LaunchSpec spec;
  spec.argv = watch_argv(prog.path());
  const bool int80 = spec.argv.size() == 1;
  spec.timeout = 10s;
  uint32_t asked = 0;
  spec.watch_filter = [&](uint32_t action) {
    asked = action;
    return watch_getppid(action);
  };
  CollectSink sink;
  ExitStatus st = sctrace::make_ptrace_tracer(stops)->run(spec, sink);
  CHECK(asked == SECCOMP_RET_TRACE);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 0);
  REQUIRE(sink.events.size() == (int80 ? 4u : 3u));
  for (size_t i = 0; i < 3; ++i) {
    CHECK(sink.events[i].audit_arch == AUDIT_ARCH_X86_64);
    CHECK(sink.events[i].nr == SYS_getppid);
    CHECK_FALSE(sink.events[i].result.has_value());
  }
  if (int80) {
    CHECK(sink.events[3].audit_arch == AUDIT_ARCH_I386);
    CHECK(sink.events[3].nr == 20);
  }
  // Execs and exits are still reported.
  REQUIRE(sink.execs.size() == 1);
  CHECK(ends_with(sink.execs[0].second, "/watch"));
  CHECK(sink.exits.size() == 1);
}

TEST_CASE("ptrace: watch_filter follows children (they inherit the filter)", "[ptrace]") {
  // A child that inherits a TRACE filter without a tracer would get ENOSYS
  // for every watched call: it must be traced too.
  Program prog("watch_child", R"(
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t c = fork();
  if (c == 0) _exit(syscall(SYS_getppid) == getppid() && syscall(SYS_getppid) > 0 ? 0 : 1);
  int st;
  if (waitpid(c, &st, 0) != c) return 2;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}
)");
  sctrace::LaunchSpec spec;
  spec.argv = {prog.path()};
  spec.timeout = 10s;
  spec.watch_filter = watch_getppid;
  CollectSink sink;
  ExitStatus st = sctrace::make_ptrace_tracer()->run(spec, sink);
  CHECK(st.code == 0);
  REQUIRE(sink.events.size() == 3);  // glibc's getppid() is the syscall too
  for (const auto& e : sink.events) CHECK(e.nr == SYS_getppid);
  CHECK(sink.exits.size() == 2);
}

TEST_CASE("ptrace: deny_errno fails each watched syscall with that errno", "[ptrace]") {
  Program prog("deny", kWatchProg);
  sctrace::LaunchSpec spec;
  spec.argv = watch_argv(prog.path());
  const bool int80 = spec.argv.size() == 1;
  spec.timeout = 10s;
  spec.watch_filter = watch_getppid;
  spec.deny_errno = EACCES;
  CollectSink sink;
  ExitStatus st = sctrace::make_ptrace_tracer()->run(spec, sink);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 3);  // all failed with EACCES, int 0x80 included when run
  REQUIRE(sink.events.size() == (int80 ? 4u : 3u));
  for (const auto& e : sink.events) CHECK(e.result == -EACCES);
}

TEST_CASE("ptrace: deny_errno needs a watch_filter", "[ptrace]") {
  sctrace::LaunchSpec spec;
  spec.argv = {"/bin/true"};
  spec.deny_errno = EPERM;
  CollectSink sink;
  CHECK_THROWS_AS(sctrace::make_ptrace_tracer()->run(spec, sink), sctrace::Error);
  CHECK(sink.events.empty());
}

TEST_CASE("ptrace: ptrace_stops_from_name", "[ptrace]") {
  CHECK(sctrace::ptrace_stops_from_name("auto") == PtraceStops::automatic);
  CHECK(sctrace::ptrace_stops_from_name("one") == PtraceStops::one);
  CHECK(sctrace::ptrace_stops_from_name("two") == PtraceStops::two);
  CHECK_THROWS_AS(sctrace::ptrace_stops_from_name("three"), sctrace::Error);
}

// ---------------------------------------------------------------------------
// The state machine against a fake kernel.

namespace {

struct FakeSys : sctrace::SysIface {
  std::map<pid_t, std::deque<__ptrace_syscall_info>> infos;
  std::map<pid_t, unsigned long> msgs;
  std::map<pid_t, pid_t> tgids;  // what /proc would say
  std::vector<std::tuple<int, pid_t, int>> resumes;
  std::vector<std::pair<pid_t, int>> kills;
  std::set<pid_t> gone;
  std::vector<std::pair<pid_t, __ptrace_syscall_info>> sets;
  std::vector<std::pair<pid_t, int64_t>> skips;
  std::vector<std::pair<pid_t, unsigned>> options_set;
  int set_info_errno = 0;  // what PTRACE_SET_SYSCALL_INFO answers (EIO: an old kernel)
  int skip_errno = 0;

  int resume(int request, pid_t tid, int sig) override {
    if (gone.count(tid)) return ESRCH;
    resumes.emplace_back(request, tid, sig);
    return 0;
  }
  int syscall_info(pid_t tid, __ptrace_syscall_info& out) override {
    auto& q = infos[tid];
    if (q.empty()) return ESRCH;
    out = q.front();
    q.pop_front();
    return 0;
  }
  int set_syscall_info(pid_t tid, const __ptrace_syscall_info& in) override {
    if (gone.count(tid)) return ESRCH;
    if (set_info_errno != 0) return set_info_errno;
    sets.emplace_back(tid, in);
    return 0;
  }
  int skip_syscall(pid_t tid, int64_t rval) override {
    if (gone.count(tid)) return ESRCH;
    if (skip_errno != 0) return skip_errno;
    skips.emplace_back(tid, rval);
    return 0;
  }
  int event_msg(pid_t tid, unsigned long& out) override {
    if (!msgs.count(tid)) return ESRCH;
    out = msgs[tid];
    return 0;
  }
  int set_options(pid_t tid, unsigned options) override {
    options_set.emplace_back(tid, options);
    return 0;
  }
  int kill(pid_t pid, int sig) override {
    kills.emplace_back(pid, sig);
    return 0;
  }
  std::map<uint64_t, uint64_t> memory;  // the tracee's, 8 bytes at a time
  std::vector<std::tuple<pid_t, uint32_t, unsigned, uint64_t>> arg_sets;
  int read_errno = 0;  // what process_vm_readv answers for every address (0: memory decides)
  int read_u64(pid_t, uint64_t addr, uint64_t& out) override {
    if (read_errno != 0) return read_errno;
    if (!memory.count(addr)) return EFAULT;
    out = memory[addr];
    return 0;
  }
  int set_syscall_arg(pid_t tid, uint32_t audit_arch, unsigned index, uint64_t value) override {
    if (gone.count(tid)) return ESRCH;
    arg_sets.emplace_back(tid, audit_arch, index, value);
    return 0;
  }
  pid_t tgid_of(pid_t tid) override { return tgids.count(tid) ? tgids[tid] : 0; }
  std::string exe_of(pid_t pid) override { return "/exe/" + std::to_string(pid); }

  void entry(pid_t tid, long nr, uint64_t arg0 = 0) {
    __ptrace_syscall_info i{};
    i.op = PTRACE_SYSCALL_INFO_ENTRY;
    i.arch = AUDIT_ARCH_X86_64;
    i.entry.nr = static_cast<uint64_t>(nr);
    i.entry.args[0] = arg0;
    infos[tid].push_back(i);
  }
  void exit(pid_t tid, int64_t rval) {
    __ptrace_syscall_info i{};
    i.op = PTRACE_SYSCALL_INFO_EXIT;
    i.arch = AUDIT_ARCH_X86_64;
    i.exit.rval = rval;
    infos[tid].push_back(i);
  }
};

constexpr int kSyscallStop = (SIGTRAP | 0x80) << 8 | 0x7f;
constexpr int event_stop(int event, int sig = SIGTRAP) { return (event << 16) | (sig << 8) | 0x7f; }
constexpr int exited(int code) { return code << 8; }

// Drives the engine through the launcher's execve so events are delivered.
struct Harness {
  FakeSys sys;
  CollectSink sink;
  sctrace::PtraceEngine engine{sys, sink, 100};
  Harness() {
    syscall(100, SYS_execve);
    sys.msgs[100] = 100;
    engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
    sysret(100, 0);
  }
  void syscall(pid_t tid, long nr, uint64_t arg0 = 0) {
    sys.entry(tid, nr, arg0);
    engine.handle(tid, kSyscallStop);
  }
  void sysret(pid_t tid, int64_t rval) {
    sys.exit(tid, rval);
    engine.handle(tid, kSyscallStop);
  }
};

}  // namespace

TEST_CASE("ptrace engine: a thread's first stop before its creator's clone event", "[ptrace]") {
  Harness h;
  h.syscall(100, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
  // The new thread 101 reports first: the engine asks /proc who it belongs to
  // and lets it run at once.
  h.sys.tgids[101] = 100;
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  CHECK(h.sys.resumes.back() == std::make_tuple(int(PTRACE_SYSCALL), pid_t(101), 0));
  h.syscall(101, SYS_getpid);
  h.sysret(101, 100);
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.sysret(100, 101);
  CHECK(h.engine.task_count() == 2);
  h.engine.handle(101, exited(0));
  h.engine.handle(100, exited(0));
  CHECK(h.engine.done());
  auto gp = h.sink.named(SYS_getpid);
  REQUIRE(gp.size() == 1);
  CHECK(gp[0].tid == 101);
  CHECK(gp[0].pid == 100);
  REQUIRE(h.sink.exits.size() == 1);  // the thread's death is not a process exit
  CHECK(h.sink.exits[0].first == 100);
}

TEST_CASE("ptrace engine: a child that died before its creator's fork event is not waited for", "[ptrace]") {
  Harness h;
  h.syscall(100, SYS_fork);
  h.sys.tgids[200] = 200;
  h.engine.handle(200, event_stop(PTRACE_EVENT_STOP));
  h.engine.handle(200, exited(0));
  h.sys.msgs[100] = 200;
  h.engine.handle(100, event_stop(PTRACE_EVENT_FORK));
  h.sysret(100, 200);
  CHECK(h.engine.task_count() == 1);
  h.engine.handle(100, exited(0));
  CHECK(h.engine.done());
}

TEST_CASE("ptrace engine: clone flags decide thread or process", "[ptrace]") {
  Harness h;
  h.syscall(100, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.syscall(100, SYS_clone, SIGUSR1);  // a process with an unusual exit signal
  h.sys.msgs[100] = 300;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  h.engine.handle(300, event_stop(PTRACE_EVENT_STOP));
  h.syscall(101, SYS_gettid);
  h.syscall(300, SYS_gettid);
  h.engine.handle(101, exited(0));
  h.engine.handle(300, exited(0));
  auto ev = h.sink.named(SYS_gettid);
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].pid == 100);
  CHECK(ev[1].pid == 300);
  // The process's exit is reported, the thread's is not.
  REQUIRE(h.sink.exits.size() == 1);
  CHECK(h.sink.exits[0].first == 300);
}

TEST_CASE("ptrace engine: execve from a thread takes over the leader's tid", "[ptrace]") {
  Harness h;
  h.syscall(100, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  h.sysret(100, 101);
  h.syscall(100, SYS_pause);
  h.syscall(101, SYS_execve);
  // Kernel: 101 becomes 100, the old leader vanishes without a death report,
  // PTRACE_EVENT_EXEC is reported for 100 with the former tid as message.
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  h.sysret(100, 0);
  CHECK(h.engine.task_count() == 1);
  auto pauses = h.sink.named(SYS_pause);
  REQUIRE(pauses.size() == 1);
  CHECK_FALSE(pauses[0].result.has_value());
  auto execs = h.sink.named(SYS_execve);
  REQUIRE(execs.size() == 2);
  CHECK(execs[1].tid == 100);
  CHECK(execs[1].result == 0);
  REQUIRE(h.sink.execs.size() == 2);
  CHECK(h.sink.execs[1] == std::make_pair(pid_t(100), std::string("/exe/100")));
}

TEST_CASE("ptrace engine: group-stops are listened to, signals injected", "[ptrace]") {
  Harness h;
  h.engine.handle(100, (SIGUSR1 << 8) | 0x7f);  // signal-delivery-stop
  CHECK(h.sys.resumes.back() == std::make_tuple(int(PTRACE_SYSCALL), pid_t(100), int(SIGUSR1)));
  h.engine.handle(100, (SIGSTOP << 8) | 0x7f);
  CHECK(h.sys.resumes.back() == std::make_tuple(int(PTRACE_SYSCALL), pid_t(100), int(SIGSTOP)));
  h.engine.handle(100, event_stop(PTRACE_EVENT_STOP, SIGSTOP));
  CHECK(h.sys.resumes.back() == std::make_tuple(int(PTRACE_LISTEN), pid_t(100), 0));
  h.engine.handle(100, event_stop(PTRACE_EVENT_STOP, SIGTRAP));  // SIGCONT ended it
  CHECK(h.sys.resumes.back() == std::make_tuple(int(PTRACE_SYSCALL), pid_t(100), 0));
}

TEST_CASE("ptrace engine: a task killed in a syscall delivers it without result", "[ptrace]") {
  Harness h;
  h.syscall(100, SYS_nanosleep);
  h.sys.gone.insert(100);
  h.engine.kill_all();
  CHECK(h.sys.kills == std::vector<std::pair<pid_t, int>>{{100, SIGKILL}});
  h.engine.handle(100, SIGKILL);  // WIFSIGNALED
  CHECK(h.engine.done());
  auto ev = h.sink.named(SYS_nanosleep);
  REQUIRE(ev.size() == 1);
  CHECK_FALSE(ev[0].result.has_value());
  REQUIRE(h.engine.initial_status().has_value());
  CHECK(WTERMSIG(*h.engine.initial_status()) == SIGKILL);
}

// ---------------------------------------------------------------------------
// One stop per syscall and watch mode against the fake kernel.

namespace {

using Mode = sctrace::PtraceEngine::Mode;

constexpr int kSeccompStop = event_stop(PTRACE_EVENT_SECCOMP);

void seccomp_info(FakeSys& sys, pid_t tid, long nr, uint64_t arg0 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
  __ptrace_syscall_info i{};
  i.op = PTRACE_SYSCALL_INFO_SECCOMP;
  i.arch = arch;
  i.instruction_pointer = 0x1000;
  i.stack_pointer = 0x2000;
  i.seccomp.nr = static_cast<uint64_t>(nr);
  i.seccomp.args[0] = arg0;
  sys.infos[tid].push_back(i);
}

std::tuple<int, pid_t, int> last_resume(const FakeSys& sys) { return sys.resumes.back(); }
std::tuple<int, pid_t, int> cont(pid_t tid, int sig = 0) { return {PTRACE_CONT, tid, sig}; }
std::tuple<int, pid_t, int> sysc(pid_t tid, int sig = 0) { return {PTRACE_SYSCALL, tid, sig}; }

// Drives an engine in one_stop or watch mode through the launcher's execve.
struct OneStop {
  FakeSys sys;
  CollectSink sink;
  sctrace::PtraceEngine engine;
  explicit OneStop(Mode mode = Mode::one_stop, std::optional<int> deny = std::nullopt)
      : engine(sys, sink, 100, mode, deny) {}
  void start() {
    seccomp(100, SYS_execve);
    sys.msgs[100] = 100;
    engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
    sysret(100, 0);
  }
  void seccomp(pid_t tid, long nr, uint64_t arg0 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
    seccomp_info(sys, tid, nr, arg0, arch);
    engine.handle(tid, kSeccompStop);
  }
  void sysret(pid_t tid, int64_t rval) {
    sys.exit(tid, rval);
    engine.handle(tid, kSyscallStop);
  }
};

}  // namespace

TEST_CASE("ptrace engine one stop: results are asked for until the first success", "[ptrace]") {
  OneStop h;
  h.start();
  // The launcher's execve: its exit was asked for through the exec event.
  REQUIRE(h.sink.events.size() == 1);
  CHECK(h.sink.events[0].result == 0);
  CHECK(last_resume(h.sys) == cont(100));

  h.seccomp(100, SYS_openat);
  CHECK(h.sink.events.size() == 1);  // waits for the result
  CHECK(last_resume(h.sys) == sysc(100));
  h.sysret(100, -ENOENT);
  CHECK(h.sink.events.back().result == -ENOENT);
  CHECK(last_resume(h.sys) == cont(100));

  h.seccomp(100, SYS_openat);  // an error is not a success: asked again
  CHECK(last_resume(h.sys) == sysc(100));
  h.sysret(100, 3);
  CHECK(h.sink.events.back().result == 3);

  h.seccomp(100, SYS_openat);  // now known to work: delivered at once
  CHECK(h.sink.events.size() == 4);
  CHECK_FALSE(h.sink.events.back().result.has_value());
  CHECK(h.sink.events.back().ip == 0x1000);
  CHECK(last_resume(h.sys) == cont(100));

  // Success is per arch: i386 openat (295) still wants its result.
  h.seccomp(100, 295, 0, AUDIT_ARCH_I386);
  CHECK(last_resume(h.sys) == sysc(100));
  h.sysret(100, -ENOSYS);
  CHECK(h.sink.events.back().audit_arch == AUDIT_ARCH_I386);
  CHECK(h.sink.events.back().result == -ENOSYS);

  // A huge positive or small negative value (an mmap address) is a success.
  h.seccomp(100, SYS_mmap);
  h.sysret(100, static_cast<int64_t>(0xffffffffff600000ull));
  h.seccomp(100, SYS_mmap);
  CHECK_FALSE(h.sink.events.back().result.has_value());
}

TEST_CASE("ptrace engine one stop: nothing before the launcher's execve", "[ptrace]") {
  OneStop h;
  h.seccomp(100, SYS_read);  // not expected (the filter comes last), but ignored
  CHECK(last_resume(h.sys) == cont(100));
  CHECK(h.sink.events.empty());
  h.start();
  CHECK(h.sink.events.size() == 1);
  CHECK(h.sink.events[0].nr == SYS_execve);
}

TEST_CASE("ptrace engine one stop: a waited-for exit survives fork and exec events", "[ptrace]") {
  OneStop h;
  h.start();
  h.seccomp(100, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
  CHECK(last_resume(h.sys) == sysc(100));
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  // Still waiting for clone's result: PTRACE_CONT here would lose it.
  CHECK(last_resume(h.sys) == sysc(100));
  // The new thread's first stop: no syscall of its own pending.
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  CHECK(last_resume(h.sys) == cont(101));
  h.sysret(100, 101);
  CHECK(last_resume(h.sys) == cont(100));
  // Thread or process came from the seccomp stop's flags, not /proc.
  h.seccomp(101, SYS_gettid);
  h.sysret(101, 101);
  CHECK(h.sink.named(SYS_gettid).at(0).pid == 100);

  // A signal arriving while an exit is awaited is injected with PTRACE_SYSCALL.
  h.seccomp(100, SYS_nanosleep);
  h.engine.handle(100, (SIGUSR1 << 8) | 0x7f);
  CHECK(last_resume(h.sys) == sysc(100, SIGUSR1));
  h.sysret(100, -EINTR);
  h.engine.handle(100, (SIGUSR2 << 8) | 0x7f);
  CHECK(last_resume(h.sys) == cont(100, SIGUSR2));

  // A group-stop ending (listened to) goes back to PTRACE_CONT.
  h.engine.handle(100, event_stop(PTRACE_EVENT_STOP, SIGSTOP));
  CHECK(last_resume(h.sys) == std::make_tuple(int(PTRACE_LISTEN), pid_t(100), 0));
  h.engine.handle(100, event_stop(PTRACE_EVENT_STOP, SIGTRAP));
  CHECK(last_resume(h.sys) == cont(100));
}

TEST_CASE("ptrace engine one stop: clone flags are taken from the seccomp stop", "[ptrace]") {
  OneStop h;
  h.start();
  // clone already known to work: no exit stop, but its flags still count.
  h.seccomp(100, SYS_clone, SIGCHLD);
  h.sysret(100, 200);
  h.seccomp(100, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
  CHECK(last_resume(h.sys) == cont(100));
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.seccomp(100, SYS_clone, SIGUSR1);
  h.sys.msgs[100] = 300;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  h.engine.handle(300, event_stop(PTRACE_EVENT_STOP));
  h.seccomp(101, SYS_getuid);
  h.sysret(101, 0);
  h.seccomp(300, SYS_getuid);
  auto ev = h.sink.named(SYS_getuid);
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].pid == 100);
  CHECK(ev[1].pid == 300);
}

TEST_CASE("ptrace engine one stop: a lost exit stop does not count a syscall twice", "[ptrace]") {
  OneStop h;
  h.start();
  h.seccomp(100, SYS_pause);
  // Not expected: an entry stop, then the next seccomp stop.
  h.sys.entry(100, SYS_getpid);
  h.engine.handle(100, kSyscallStop);
  h.seccomp(100, SYS_getpid);
  h.sysret(100, 100);
  CHECK(h.sink.named(SYS_pause).size() == 1);
  CHECK_FALSE(h.sink.named(SYS_pause)[0].result.has_value());
  CHECK(h.sink.named(SYS_getpid).size() == 1);
  // exit_group's exit never comes: delivered at death without a result.
  h.seccomp(100, SYS_exit_group);
  h.engine.handle(100, exited(0));
  REQUIRE(h.sink.named(SYS_exit_group).size() == 1);
  CHECK_FALSE(h.sink.named(SYS_exit_group)[0].result.has_value());
  CHECK(h.engine.done());
}

TEST_CASE("ptrace engine watch: stops report at once and run with PTRACE_CONT", "[ptrace]") {
  OneStop h(Mode::watch);
  // The launcher's execve is not watched: the exec event starts the run.
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  CHECK(last_resume(h.sys) == cont(100));
  CHECK(h.engine.started());
  REQUIRE(h.sink.execs.size() == 1);
  h.seccomp(100, SYS_getppid);
  CHECK(last_resume(h.sys) == cont(100));
  REQUIRE(h.sink.events.size() == 1);
  CHECK_FALSE(h.sink.events[0].result.has_value());
  h.seccomp(100, SYS_getppid);
  CHECK(h.sink.events.size() == 2);
  CHECK(h.sys.sets.empty());
  // Threads and processes are followed; the thread/process question goes to
  // /proc (the last reported syscall need not be the clone).
  h.sys.tgids[101] = 100;
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  CHECK(last_resume(h.sys) == cont(100));
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  CHECK(last_resume(h.sys) == cont(101));
  h.seccomp(101, SYS_getppid);
  CHECK(h.sink.events.back().pid == 100);
}

TEST_CASE("ptrace engine watch: exec events end at the workload's first exec", "[ptrace]") {
  OneStop h(Mode::watch);
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  // Asked once, on the launcher, before it runs again: what it creates inherits.
  REQUIRE(h.sys.options_set.size() == 1);
  CHECK(h.sys.options_set[0].first == 100);
  CHECK((h.sys.options_set[0].second & PTRACE_O_TRACEEXEC) == 0);
  CHECK(h.sys.options_set[0].second == (sctrace::kPtraceOptions & ~unsigned(PTRACE_O_TRACEEXEC)));
  CHECK(h.sys.resumes.size() == 1);
  // A thread 101 execs: unannounced, it becomes 100 and 101 is never seen
  // again. The process's death still ends the run.
  h.sys.tgids[101] = 100;
  h.sys.msgs[100] = 101;
  h.engine.handle(100, event_stop(PTRACE_EVENT_CLONE));
  h.engine.handle(101, event_stop(PTRACE_EVENT_STOP));
  CHECK(h.engine.task_count() == 2);
  h.seccomp(100, SYS_getppid);
  h.engine.handle(100, exited(0));
  CHECK(h.engine.done());
  REQUIRE(h.sink.exits.size() == 1);
  CHECK(h.sink.exits[0].first == 100);
  CHECK(h.sys.options_set.size() == 1);
}

TEST_CASE("ptrace engine one stop: exec events stay on", "[ptrace]") {
  OneStop h;
  h.start();
  CHECK(h.sys.options_set.empty());
}

TEST_CASE("ptrace engine watch: deny_errno through PTRACE_SET_SYSCALL_INFO", "[ptrace]") {
  OneStop h(Mode::watch, EACCES);
  h.start();  // the execve was watched: denied like any other
  REQUIRE(h.sys.sets.size() == 2);
  h.sys.sets.clear();
  h.seccomp(100, SYS_getppid, 7);
  REQUIRE(h.sink.events.size() == 2);
  CHECK(h.sink.events.back().result == -EACCES);
  // Number -1 at the seccomp stop, the exit stop asked for.
  REQUIRE(h.sys.sets.size() == 1);
  CHECK(h.sys.sets[0].second.op == PTRACE_SYSCALL_INFO_SECCOMP);
  CHECK(h.sys.sets[0].second.seccomp.nr == static_cast<uint64_t>(-1));
  CHECK(h.sys.sets[0].second.instruction_pointer == 0x1000);
  CHECK(h.sys.sets[0].second.stack_pointer == 0x2000);
  CHECK(last_resume(h.sys) == sysc(100));
  // The return value at the exit stop.
  h.sysret(100, -ENOSYS);
  REQUIRE(h.sys.sets.size() == 2);
  CHECK(h.sys.sets[1].second.op == PTRACE_SYSCALL_INFO_EXIT);
  CHECK(h.sys.sets[1].second.exit.rval == -EACCES);
  CHECK(h.sys.sets[1].second.exit.is_error == 1);
  CHECK(last_resume(h.sys) == cont(100));
  CHECK(h.sink.events.size() == 2);  // the exit stop reports nothing
  CHECK(h.sys.skips.empty());
  CHECK_FALSE(h.engine.deny_failed());
}

TEST_CASE("ptrace engine watch: deny_errno falls back to the registers on old kernels", "[ptrace]") {
  OneStop h(Mode::watch, EPERM);
  h.sys.set_info_errno = EIO;  // Linux < 6.16
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  h.seccomp(100, SYS_getppid);
  REQUIRE(h.sys.skips.size() == 1);
  CHECK(h.sys.skips[0] == std::make_pair(pid_t(100), int64_t(-EPERM)));
  CHECK(last_resume(h.sys) == cont(100));  // no exit stop needed
  h.sys.set_info_errno = 0;  // EIO is remembered: not asked again
  h.seccomp(100, SYS_getppid);
  CHECK(h.sys.skips.size() == 2);
  CHECK(h.sys.sets.empty());
  CHECK_FALSE(h.engine.deny_failed());
}

TEST_CASE("ptrace engine watch: a syscall that cannot be denied kills the workload", "[ptrace]") {
  OneStop h(Mode::watch, EPERM);
  h.sys.set_info_errno = EIO;
  h.sys.skip_errno = ENOSYS;  // no register fallback for this arch
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  h.seccomp(100, SYS_getppid);
  CHECK(h.engine.deny_failed());
  CHECK(h.sys.kills == std::vector<std::pair<pid_t, int>>{{100, SIGKILL}});
}

TEST_CASE("ptrace engine watch: a call the profile lets run stops only for self-defence", "[ptrace]") {
  OneStop h(Mode::watch, EACCES);
  // The filter stops kill always (tracer/self_defence.h); the profile allows it.
  h.engine.set_watch_lets_run([](const SyscallEvent& ev) { return ev.nr == SYS_kill; });
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  h.seccomp(100, SYS_kill);  // kill(0, 0): aimed at nobody
  CHECK(h.sink.events.empty());  // not a violation: not reported, not denied
  CHECK(h.sys.sets.empty());
  CHECK(h.sys.skips.empty());
  CHECK(last_resume(h.sys) == cont(100));
  h.seccomp(100, SYS_getppid);  // outside the profile: as before
  REQUIRE(h.sink.events.size() == 1);
  CHECK(h.sink.events[0].result == -EACCES);
}

TEST_CASE("ptrace engine watch: a stop marked kSelfDefenceData is the profile's allowed call, not a violation", "[ptrace]") {
  // The sensor has only the host's program, no watch_lets_run: the mark says it.
  OneStop h(Mode::watch, EACCES);
  h.sys.msgs[100] = 100;
  h.engine.handle(100, event_stop(PTRACE_EVENT_EXEC));
  seccomp_info(h.sys, 100, SYS_kill);  // kill(0, 0): aimed at nobody
  h.sys.infos[100].back().seccomp.ret_data = sctrace::kSelfDefenceData;
  h.engine.handle(100, kSeccompStop);
  CHECK(h.sink.events.empty());  // not reported, not denied
  CHECK(h.sys.sets.empty());
  CHECK(h.sys.skips.empty());
  CHECK(last_resume(h.sys) == cont(100));
  h.seccomp(100, SYS_kill);  // the same call unmarked: the profile refuses it
  REQUIRE(h.sink.events.size() == 1);
  CHECK(h.sink.events[0].result == -EACCES);
}

TEST_CASE("ptrace engine: deny_errno is ignored outside watch mode", "[ptrace]") {
  OneStop h(Mode::one_stop, EPERM);
  h.start();
  h.seccomp(100, SYS_getppid);
  h.sysret(100, 1);
  CHECK(h.sink.events.back().result == 1);
  CHECK(h.sys.sets.empty());
  CHECK(h.sys.skips.empty());
}

TEST_CASE("ptrace: the register fallback for deny_errno skips a real syscall", "[ptrace]") {
  // What the engine uses when PTRACE_SET_SYSCALL_INFO is missing (Linux <
  // 6.16), driven by hand: a child traps getppid to us, we skip it with
  // -EACCES through the registers, the child checks what it got.
  int go[2];
  REQUIRE(::pipe(go) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(20);
    std::vector<sock_filter> prog = watch_getppid(SECCOMP_RET_TRACE);
    sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(21);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) ::_exit(22);
    long r = ::syscall(SYS_getppid);
    ::_exit(r == -1 && errno == EACCES ? 0 : 23);
  }
  ::close(go[0]);
  REQUIRE(::ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(long(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL))) == 0);
  REQUIRE(::write(go[1], "x", 1) == 1);
  ::close(go[1]);
  int st = 0;
  REQUIRE(::waitpid(child, &st, __WALL) == child);
  REQUIRE(WIFSTOPPED(st));
  CHECK((static_cast<unsigned>(st) >> 16) == PTRACE_EVENT_SECCOMP);
  CHECK(sctrace::real_sys().skip_syscall(child, -EACCES) == 0);
  REQUIRE(::ptrace(PTRACE_CONT, child, nullptr, nullptr) == 0);
  REQUIRE(::waitpid(child, &st, __WALL) == child);
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
}

TEST_CASE("ptrace engine: CLONE_UNTRACED is cleared from clone before the kernel reads it", "[ptrace]") {
  const uint64_t flags = CLONE_UNTRACED | SIGCHLD;
  {
    Harness h;
    h.syscall(100, SYS_clone, flags);
    REQUIRE(h.sys.sets.size() == 1);
    CHECK(h.sys.sets[0].second.op == PTRACE_SYSCALL_INFO_ENTRY);
    CHECK(h.sys.sets[0].second.entry.nr == SYS_clone);
    CHECK(h.sys.sets[0].second.entry.args[0] == SIGCHLD);
    h.sysret(100, 200);
    // The recording keeps the flags the workload passed.
    auto cl = h.sink.named(SYS_clone);
    REQUIRE(cl.size() == 1);
    CHECK(cl[0].args[0] == flags);
  }
  SECTION("without PTRACE_SET_SYSCALL_INFO (Linux < 6.16): through the register") {
    Harness h;
    h.sys.set_info_errno = EIO;
    h.syscall(100, SYS_clone, flags);
    REQUIRE(h.sys.arg_sets.size() == 1);
    CHECK(h.sys.arg_sets[0] == std::make_tuple(pid_t(100), uint32_t(AUDIT_ARCH_X86_64), 0u, uint64_t(SIGCHLD)));
    CHECK(!h.engine.untraced_failed());
  }
  SECTION("a clone without the flag is left alone") {
    Harness h;
    h.syscall(100, SYS_clone, SIGCHLD);
    CHECK(h.sys.sets.empty());
    CHECK(h.sys.arg_sets.empty());
  }
  SECTION("clone3 with the flag in clone_args is answered ENOSYS; without it, left alone") {
    Harness h;
    h.sys.set_info_errno = EIO;  // through the registers
    h.sys.memory[0x1000] = CLONE_UNTRACED;
    h.sys.memory[0x2000] = CLONE_PIDFD;
    h.syscall(100, SYS_clone3, 0x1000);
    REQUIRE(h.sys.skips.size() == 1);
    CHECK(h.sys.skips[0] == std::make_pair(pid_t(100), int64_t(-ENOSYS)));
    h.sysret(100, -ENOSYS);
    h.syscall(100, SYS_clone3, 0x2000);
    CHECK(h.sys.skips.size() == 2);  // the first one's exit stop, none for the second
    CHECK(!h.engine.untraced_failed());
  }
  SECTION("clone3: number -1 through PTRACE_SET_SYSCALL_INFO, like a watched denial") {
    Harness h;
    h.sys.memory[0x1000] = CLONE_UNTRACED;
    h.syscall(100, SYS_clone3, 0x1000);
    REQUIRE(h.sys.sets.size() == 1);
    CHECK(h.sys.sets[0].second.op == PTRACE_SYSCALL_INFO_ENTRY);
    CHECK(h.sys.sets[0].second.entry.nr == static_cast<uint64_t>(-1));
    CHECK(h.sys.sets[0].second.entry.args[0] == 0x1000);
    CHECK(h.sys.skips.empty());
    h.sysret(100, -ENOSYS);
    REQUIRE(h.sys.sets.size() == 2);
    CHECK(h.sys.sets[1].second.op == PTRACE_SYSCALL_INFO_EXIT);
    CHECK(h.sys.sets[1].second.exit.rval == -ENOSYS);
  }
}

TEST_CASE("ptrace engine: clone of i386 and x32 is found past the per-stop early-out", "[ptrace]") {
  const uint64_t flags = CLONE_UNTRACED | SIGCHLD;
  auto stop = [](Harness& h, uint32_t audit, long nr) {
    __ptrace_syscall_info i{};
    i.op = PTRACE_SYSCALL_INFO_ENTRY;
    i.arch = audit;
    i.entry.nr = static_cast<uint64_t>(nr);
    i.entry.args[0] = flags;
    h.sys.infos[100].push_back(i);
    h.engine.handle(100, kSyscallStop);
    h.sysret(100, 0);
  };
  Harness h;
  stop(h, AUDIT_ARCH_I386, 120);                  // i386 clone
  stop(h, AUDIT_ARCH_X86_64, 0x40000000L | 56);  // x32 clone
  stop(h, AUDIT_ARCH_X86_64, 120);                // i386 clone's number, not a clone on x86_64
  stop(h, AUDIT_ARCH_I386, 56);                   // i386 open, not a clone
  REQUIRE(h.sys.sets.size() == 2);
  CHECK(h.sys.sets[0].second.arch == AUDIT_ARCH_I386);
  CHECK(h.sys.sets[0].second.entry.args[0] == SIGCHLD);
  CHECK(h.sys.sets[1].second.entry.nr == (0x40000000UL | 56));
  CHECK(h.sys.sets[1].second.entry.args[0] == SIGCHLD);
}

TEST_CASE("ptrace engine: clone3 whose clone_args cannot be read is answered ENOSYS", "[ptrace]") {
  for (int read_errno : {EPERM, ENOMEM, EIO}) {
    Harness h;
    h.sys.set_info_errno = EIO;
    h.sys.read_errno = read_errno;
    h.syscall(100, SYS_clone3, 0x1000);
    REQUIRE(h.sys.skips.size() == 1);
    CHECK(h.sys.skips[0] == std::make_pair(pid_t(100), int64_t(-ENOSYS)));
  }
  // EFAULT: the kernel's copy of clone_args fails the same way, and the call with it.
  Harness h;
  h.sys.set_info_errno = EIO;
  h.syscall(100, SYS_clone3, 0x1000);
  CHECK(h.sys.skips.empty());
}

TEST_CASE("ptrace engine: two-stop sets clone3's ENOSYS again at the exit stop", "[ptrace]") {
  // At an entry stop, number -1 does not keep the kernel from running the
  // seccomp filters after the stop; a filter above sctrace that denies by
  // default overwrites the return value with its own errno.
  for (int set_info_errno : {0, EIO}) {
    Harness h;
    h.sys.set_info_errno = set_info_errno;
    h.sys.memory[0x1000] = CLONE_UNTRACED;
    h.syscall(100, SYS_clone3, 0x1000);
    h.sysret(100, -EPERM);  // what the outer filter answered
    if (set_info_errno == 0) {
      REQUIRE(h.sys.sets.size() == 2);
      CHECK(h.sys.sets[1].second.op == PTRACE_SYSCALL_INFO_EXIT);
      CHECK(h.sys.sets[1].second.exit.rval == -ENOSYS);
    } else {
      REQUIRE(h.sys.skips.size() == 2);
      CHECK(h.sys.skips[1] == std::make_pair(pid_t(100), int64_t(-ENOSYS)));
    }
    auto cl = h.sink.named(SYS_clone3);
    REQUIRE(cl.size() == 1);
    REQUIRE(cl[0].result.has_value());
    CHECK(*cl[0].result == -ENOSYS);
    CHECK(!h.engine.untraced_failed());
  }
}

// ---------------------------------------------------------------------------
// LaunchSpec::ends_with_first_process: the life of a container's main process.

namespace {

// 100 forks 200 (a daemon's child), then waits in a read.
void fork_child(OneStop& h) {
  h.start();
  h.seccomp(100, SYS_clone, SIGCHLD);
  h.sys.msgs[100] = 200;
  h.engine.handle(100, event_stop(PTRACE_EVENT_FORK));
  h.sysret(100, 200);
  h.engine.handle(200, event_stop(PTRACE_EVENT_STOP));
  h.seccomp(200, SYS_getppid);
  h.sysret(200, 100);
}

}  // namespace

TEST_CASE("ptrace engine: with ends_with_first_process the first process's death ends the life", "[ptrace]") {
  OneStop h;
  h.engine.set_ends_with_initial(true);
  fork_child(h);
  h.seccomp(200, SYS_read);  // entered while the parent lives; its result comes too late
  CHECK(last_resume(h.sys) == sysc(200));
  // The parent's death and the end of the orphan's read (its pipe's EOF),
  // reported together in the order waitpid(-1) happened to give them.
  h.sys.exit(200, 0);
  std::vector<std::pair<pid_t, int>> batch = {{200, kSyscallStop}, {100, exited(0)}};
  h.engine.handle_batch(batch);
  CHECK(h.sys.kills == std::vector<std::pair<pid_t, int>>{{200, SIGKILL}});
  h.seccomp(200, SYS_clock_nanosleep);  // what it does after: not reported
  h.engine.handle(200, SIGKILL);
  CHECK(h.engine.done());
  CHECK(h.sink.named(SYS_read).size() == 1);  // made during the life
  CHECK(h.sink.named(SYS_clock_nanosleep).empty());
  REQUIRE(h.engine.initial_status().has_value());
  CHECK(WIFEXITED(*h.engine.initial_status()));
}

TEST_CASE("ptrace engine: without ends_with_first_process an orphan is traced to its end", "[ptrace]") {
  OneStop h;
  fork_child(h);
  std::vector<std::pair<pid_t, int>> batch = {{100, exited(0)}};
  h.engine.handle_batch(batch);
  CHECK(h.sys.kills.empty());
  h.seccomp(200, SYS_clock_nanosleep);
  h.sysret(200, 0);
  h.engine.handle(200, exited(0));
  CHECK(h.engine.done());
  CHECK(h.sink.named(SYS_clock_nanosleep).size() == 1);
}
