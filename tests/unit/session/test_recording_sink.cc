#include <seccomp.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "core/arch.h"
#include "session/recording_sink.h"

using namespace sctrace;

namespace {
SyscallEvent getpid_event() {
  SyscallEvent ev;
  ev.tid = ev.pid = ::getpid();
  ev.audit_arch = SCMP_ARCH_X86_64;
  ev.nr = *arch::syscall_nr(SCMP_ARCH_X86_64, "getpid");
  ev.result = ::getpid();
  return ev;
}
}  // namespace

TEST_CASE("the recording sink counts events and processes into its recording", "[session]") {
  Recording rec;
  RecordingSink sink(rec);
  const SyscallEvent ev = getpid_event();
  sink.on_exec(ev.pid, "/bin/true");
  sink.on_syscall(ev);
  sink.on_syscall(ev);
  sink.on_exit(ev.pid, 0);
  CHECK(sink.events() == 2);
  CHECK(sink.processes() == 1);
  CHECK(rec.syscalls.at(SCMP_ARCH_X86_64).at("getpid").count == 2);
  CHECK(rec.execs.count("/bin/true") == 1);
}

// The sensor's flusher thread polls events() while the tracer thread is in
// on_syscall. Under ThreadSanitizer (build-tsan) this reported a data race
// while events() read the counter without the sink's lock.
TEST_CASE("the recording sink's counters can be read while another thread records", "[session][threads]") {
  Recording rec;
  RecordingSink sink(rec);
  const SyscallEvent ev = getpid_event();
  constexpr uint64_t kEvents = 20000;
  std::atomic<bool> done{false};
  uint64_t seen = 0;
  bool monotonic = true;
  std::thread flusher([&] {
    while (!done.load()) {
      const uint64_t now = sink.events();
      if (now < seen) monotonic = false;
      seen = now;
      sink.with_recording([](const Recording& r) { return recording_to_json(r).size(); });
      (void)sink.processes();
    }
  });
  for (uint64_t i = 0; i < kEvents; ++i) sink.on_syscall(ev);
  sink.on_exit(ev.pid, 0);
  done = true;
  flusher.join();
  CHECK(monotonic);
  CHECK(sink.events() == kEvents);
  CHECK(sink.processes() == 1);
}
