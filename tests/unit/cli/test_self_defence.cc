// Which process a call aims at (pure), and the tracer's decision over a
// scripted view of /proc (tracer/self_defence.h).
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <utility>

#include "core/arch.h"
#include "profile/recording.h"
#include "tracer/self_defence.h"

using namespace sctrace;

namespace {

using K = AimedAt::Kind;

std::array<uint64_t, 6> args(std::initializer_list<int64_t> v) {
  std::array<uint64_t, 6> a{};
  size_t i = 0;
  for (int64_t x : v) a[i++] = static_cast<uint64_t>(x);
  return a;
}

constexpr pid_t kTracer = 500;
constexpr pid_t kTracerThread = 501;
constexpr pid_t kWorkload = 600;

// The tracer is pid 500 (thread 501); the workload 600 is its child, in its
// process group (500), with fd 7 a pidfd of the tracer and fd 8 one of its own
// child 601.
struct FakeView : ProcView {
  bool same_ns = true;
  pid_t workload_pgid = kTracer;
  pid_t tgid_of(pid_t tid) override { return tid == kTracerThread ? kTracer : tid; }
  pid_t pgid_of(pid_t pid) override { return pid == kWorkload ? workload_pgid : pid == kTracer ? kTracer : 0; }
  pid_t ppid_of(pid_t pid) override { return pid == kWorkload ? kTracer : 1; }
  pid_t fd_target(pid_t pid, int fd) override {
    if (pid != kWorkload) return 0;
    return fd == 7 ? kTracer : fd == 8 ? 601 : 0;
  }
  bool shares_pid_ns(pid_t) override { return same_ns; }
};

SyscallEvent call(const char* name, std::initializer_list<int64_t> a) {
  SyscallEvent ev;
  ev.tid = ev.pid = kWorkload;
  ev.audit_arch = arch::native();
  ev.nr = *arch::syscall_nr(arch::native(), name);
  ev.args = args(a);
  return ev;
}

}  // namespace

TEST_CASE("self_defence: what ptrace and process_vm_* aim at", "[self_defence]") {
  AimedAt a = aimed_at("ptrace", args({PTRACE_ATTACH, 42}), true);
  CHECK(a.kind == K::process);
  CHECK(a.id == 42);
  CHECK(a.call == "ptrace(PTRACE_ATTACH)");
  CHECK(aimed_at("ptrace", args({PTRACE_SEIZE, 42}), true).call == "ptrace(PTRACE_SEIZE)");
  CHECK(aimed_at("ptrace", args({PTRACE_TRACEME}), true).kind == K::parent);
  // A 32-bit ABI reads the low half of the request only.
  CHECK(aimed_at("ptrace", args({0x100000000 | PTRACE_ATTACH, 42}), false).call == "ptrace(PTRACE_ATTACH)");
  CHECK(aimed_at("ptrace", args({0x100000000 | PTRACE_ATTACH, 42}), true).call != "ptrace(PTRACE_ATTACH)");
  // pid arguments are 32 bits everywhere.
  CHECK(aimed_at("process_vm_readv", args({-4294967296 + 42}), true).id == 42);
  CHECK(aimed_at("process_vm_writev", args({42}), true).kind == K::process);
  CHECK(aimed_at("pidfd_open", args({42, 0}), true).kind == K::process);
  CHECK(aimed_at("pidfd_getfd", args({7, 1, 0}), true).kind == K::pidfd);
  CHECK(aimed_at("getpid", args({42}), true).kind == K::none);
}

TEST_CASE("self_defence: what signals aim at", "[self_defence]") {
  AimedAt a = aimed_at("kill", args({42, SIGSTOP}), true);
  CHECK(a.kind == K::process);
  CHECK(a.call == "kill(SIGSTOP)");
  CHECK(aimed_at("kill", args({42, SIGTERM}), true).kind == K::process);
  CHECK(aimed_at("kill", args({42, 0}), true).kind == K::none);  // an existence check
  // Groups and broadcasts: only what the tracer could not catch.
  CHECK(aimed_at("kill", args({0, SIGSTOP}), true).kind == K::caller_group);
  CHECK(aimed_at("kill", args({0, SIGTERM}), true).kind == K::none);
  CHECK(aimed_at("kill", args({-1, SIGKILL}), true).kind == K::everyone);
  CHECK(aimed_at("kill", args({-1, SIGHUP}), true).kind == K::none);
  a = aimed_at("kill", args({-77, SIGTSTP}), true);
  CHECK(a.kind == K::group);
  CHECK(a.id == 77);
  a = aimed_at("tgkill", args({42, 43, SIGSTOP}), true);
  CHECK(a.kind == K::thread);
  CHECK(a.id == 43);
  CHECK(a.tgid == 42);
  CHECK(aimed_at("tkill", args({43, SIGSTOP}), true).kind == K::thread);
  CHECK(aimed_at("rt_sigqueueinfo", args({42, SIGUSR1, 0}), true).kind == K::process);
  CHECK(aimed_at("rt_tgsigqueueinfo", args({42, 43, SIGUSR1, 0}), true).tgid == 42);
  a = aimed_at("pidfd_send_signal", args({7, SIGSTOP, 0, 0}), true);
  CHECK(a.kind == K::pidfd);
  CHECK(a.call == "pidfd_send_signal(SIGSTOP)");
  CHECK(aimed_at("pidfd_send_signal", args({7, 0, 0, 0}), true).kind == K::none);
  CHECK(stops_or_kills(SIGKILL));
  CHECK_FALSE(stops_or_kills(SIGTERM));
}

TEST_CASE("self_defence: calls aimed at the tracer are refused", "[self_defence]") {
  FakeView view;
  SelfDefence d(view, kTracer);
  const auto note = d.check(call("ptrace", {PTRACE_ATTACH, kTracer}));
  REQUIRE(note);
  CHECK(*note == "refused the workload's ptrace(PTRACE_ATTACH) of sctrace itself (pid 500): EPERM");
  CHECK(d.check(call("ptrace", {PTRACE_SEIZE, kTracerThread, 0, 0})));  // one of its threads
  CHECK(d.check(call("ptrace", {PTRACE_TRACEME})));                     // its child asks to be traced by it
  CHECK(d.check(call("process_vm_readv", {kTracer})));
  CHECK(d.check(call("pidfd_open", {kTracer, 0})));
  CHECK(d.check(call("pidfd_getfd", {7, 1, 0})));
  CHECK(d.check(call("pidfd_send_signal", {7, SIGSTOP, 0, 0})));
  CHECK(d.check(call("kill", {kTracer, SIGSTOP})));
  CHECK(d.check(call("kill", {kTracer, SIGTERM})));
  CHECK(d.check(call("tgkill", {kTracer, kTracerThread, SIGSTOP})));
  CHECK(d.check(call("tkill", {kTracerThread, SIGSTOP})));
  CHECK(d.check(call("kill", {0, SIGSTOP})));       // its group holds the tracer
  CHECK(d.check(call("kill", {-kTracer, SIGKILL})));
  CHECK(d.check(call("kill", {-1, SIGSTOP})));
}

TEST_CASE("self_defence: the workload's calls at its own processes run", "[self_defence]") {
  FakeView view;
  SelfDefence d(view, kTracer);
  CHECK_FALSE(d.check(call("ptrace", {PTRACE_ATTACH, 601})));
  CHECK_FALSE(d.check(call("kill", {601, SIGSTOP})));
  CHECK_FALSE(d.check(call("kill", {kTracer, 0})));
  CHECK_FALSE(d.check(call("pidfd_getfd", {8, 1, 0})));
  CHECK_FALSE(d.check(call("pidfd_send_signal", {8, SIGKILL, 0, 0})));
  CHECK_FALSE(d.check(call("kill", {0, SIGTERM})));  // the tracer forwards what it catches
  CHECK_FALSE(d.check(call("kill", {-600, SIGSTOP})));
  CHECK_FALSE(d.check(call("getpid", {})));
  // A workload in a group of its own may stop that group.
  view.workload_pgid = kWorkload;
  CHECK_FALSE(d.check(call("kill", {0, SIGSTOP})));
  // In a pid namespace of its own, its numbers are not the tracer's.
  view.same_ns = false;
  CHECK_FALSE(d.check(call("kill", {kTracer, SIGSTOP})));
  // The sensor as PID 1: kill(-1) spares a namespace's init.
  FakeView v2;
  SelfDefence init(v2, 1);
  CHECK_FALSE(init.check(call("kill", {-1, SIGKILL})));
}

TEST_CASE("self_defence: refusals travel in the recording, bounded", "[self_defence]") {
  Recording rec;
  rec.add_refusal("refused a");
  rec.add_refusal("refused a");
  Recording back = recording_from_json(recording_to_json(rec), "test");
  REQUIRE(back.refusals.size() == 1);
  CHECK(back.refusals.at("refused a") == 2);
  Recording other;
  other.add_refusal("refused a", 3);
  back.merge(other);
  CHECK(back.refusals.at("refused a") == 5);
  for (int i = 0; i < 100; ++i) back.add_refusal("refused " + std::to_string(i));
  CHECK(back.refusals.size() <= kMaxRefusals + 1);
  // None: the recording's JSON is as it always was.
  CHECK(recording_to_json(Recording{}).find("refused") == std::string::npos);
}
