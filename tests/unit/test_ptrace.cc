// The ptrace backend against real processes (these need ptrace, as root here),
// plus the state machine against a scripted fake kernel for the orderings that
// are hard to provoke for real.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
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

// Every traced run in these tests has a safety timeout so a bug shows up as a
// failed assertion, not as a hung test binary.
ExitStatus trace(const std::vector<std::string>& argv, CollectSink& sink, std::chrono::milliseconds timeout = 20s) {
  sctrace::LaunchSpec spec;
  spec.argv = argv;
  spec.timeout = timeout;
  return sctrace::make_ptrace_tracer()->run(spec, sink);
}

// A C program compiled at test time into a private temp dir.
class Program {
 public:
  Program(const std::string& name, const std::string& source, const std::string& flags = "") {
    char tmpl[] = "/tmp/sctrace-ptrace-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    std::string src = dir_ + "/" + name + ".c";
    path_ = dir_ + "/" + name;
    std::ofstream(src) << source;
    std::string cmd = "cc -O1 -o " + path_ + " " + src + " " + flags + " 2>&1";
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~Program() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
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
  CollectSink sink;
  ExitStatus st = trace({"/bin/true"}, sink);
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
  for (size_t i = 0; i + 1 < sink.events.size(); ++i) CHECK(sink.events[i].result.has_value());
}

TEST_CASE("ptrace: children and their execs are followed", "[ptrace]") {
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "/bin/true; /bin/echo hi >/dev/null"}, sink);
  CHECK(st.code == 0);
  const pid_t sh = sink.events.at(0).pid;
  int ok_execs = 0;
  for (const auto& e : sink.named(SYS_execve)) ok_execs += e.result == 0;
  CHECK(ok_execs >= 3);
  CHECK(sink.execs.size() >= 3);
  std::set<pid_t> pids;
  for (const auto& e : sink.events) pids.insert(e.pid);
  CHECK(pids.size() >= 2);  // at least /bin/true ran in a forked child
  bool echo_write = false;
  for (const auto& e : sink.named(SYS_write)) echo_write |= e.args[0] == 1 && e.args[2] == 3 && e.result == 3;
  CHECK(echo_write);
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
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink);
  CHECK(st.code == 0);
  const pid_t pid = sink.events.at(0).pid;
  auto yields = sink.named(SYS_sched_yield);
  CHECK(yields.size() == 12);
  std::set<pid_t> tids;
  for (const auto& e : yields) {
    CHECK(e.pid == pid);
    CHECK(e.tid != pid);
    CHECK(e.result == 0);
    tids.insert(e.tid);
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
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink);
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
  for (const auto& e : sink.named(SYS_execve)) child_execve_event |= e.pid == child && e.result == 0;
  CHECK(child_execve_event);
  CHECK(child != parent);
}

TEST_CASE("ptrace: int 0x80 from a 64-bit process is reported as i386", "[ptrace]") {
  Program prog("int80", R"(
#include <unistd.h>
int main(void) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
  return r == getpid() ? 0 : 1;
}
)");
  CollectSink sink;
  ExitStatus st = trace({prog.path()}, sink);
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
  CollectSink sink;
  auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = trace({prog.path()}, sink, 10s);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("ptrace: a stopped shell job is continued by its sibling", "[ptrace]") {
  CollectSink sink;
  // SIGCONT is repeated until the job is gone: a CONT that lands before the
  // STOP must not hang the test.
  ExitStatus st = trace({"sh", "-c",
                         "sh -c 'kill -STOP $$; exit 4' & p=$!; "
                         "until ! kill -0 $p 2>/dev/null || grep -q '^State:.Z' /proc/$p/status 2>/dev/null; "
                         "do sleep 0.05; kill -CONT $p 2>/dev/null; done; wait $p"},
                        sink, 10s);
  CHECK_FALSE(st.signaled);
  CHECK(st.code == 4);
}

TEST_CASE("ptrace: signals are delivered to the tracee", "[ptrace]") {
  // A handled SIGUSR1 must reach the handler (not be swallowed at the
  // signal-delivery-stop).
  CollectSink sink;
  ExitStatus st = trace({"sh", "-c", "trap 'exit 5' USR1; kill -USR1 $$; sleep 5; exit 1"}, sink, 10s);
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
  for (bool leader_exits : {false, true}) {
    DYNAMIC_SECTION("leader " << (leader_exits ? "exited" : "blocked in pause")) {
      CollectSink sink;
      std::vector<std::string> argv{prog.path()};
      if (leader_exits) argv.push_back("x");
      ExitStatus st = trace(argv, sink, 10s);
      CHECK_FALSE(st.signaled);
      CHECK(st.code == 0);
      const pid_t pid = sink.events.at(0).pid;
      REQUIRE(sink.execs.size() == 2);
      CHECK(sink.execs[1].first == pid);
      CHECK(ends_with(sink.execs[1].second, "/true"));
      // The thread's execve, reported under the tid it took over.
      auto execves = sink.named(SYS_execve);
      REQUIRE(execves.size() == 2);
      CHECK(execves[1].tid == pid);
      CHECK(execves[1].pid == pid);
      CHECK(execves[1].result == 0);
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
  CollectSink sink;
  auto t0 = std::chrono::steady_clock::now();
  ExitStatus st = trace({"sh", "-c", "sleep 30 & sleep 30; exit 0"}, sink, 300ms);
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
  char tmpl[] = "/tmp/sctrace-ptrace-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/junk";
  std::ofstream(path) << "\x7f\x01\x02 not a program\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  CollectSink sink;
  try {
    trace({path}, sink);
    FAIL("no error");
  } catch (const sctrace::Error& e) {
    CHECK(e.kind() == sctrace::ErrorKind::not_exec);
  }
  std::filesystem::remove_all(tmpl);
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
  CollectSink sink;
  ExitStatus st = sctrace::make_ptrace_tracer()->run(spec, sink);
  CHECK(st.code == 0);
  REQUIRE_FALSE(sink.events.empty());
  CHECK(sink.events.front().nr == SYS_execve);
  auto ev = sink.named(SYS_getppid);
  REQUIRE(ev.size() == 3);
  for (const auto& e : ev) CHECK(e.result > 0);
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
  CollectSink sink;
  REQUIRE(trace({prog.path()}, sink).code == 0);
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
  int event_msg(pid_t tid, unsigned long& out) override {
    if (!msgs.count(tid)) return ESRCH;
    out = msgs[tid];
    return 0;
  }
  int kill(pid_t pid, int sig) override {
    kills.emplace_back(pid, sig);
    return 0;
  }
  int read_u64(pid_t, uint64_t, uint64_t&) override { return EFAULT; }
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
