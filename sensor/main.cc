// sctrace-sensor: the static ptrace tracer that runs inside a container as its
// entrypoint (or under `docker exec`), traces the original command and all it
// spawns, and writes the recording to a file the host collects.
//
//   sctrace-sensor --out FILE [--flush-ms N] [--stack-depth N] [--watch-filter FILE [--deny-errno N]] -- COMMAND...
//   (%p in --out: the sensor's pid)
//
// --watch-filter: a raw array of struct sock_filter (8 bytes each, host byte
// order) whose SECCOMP_RET_TRACE answers pick the syscalls recorded
// (LaunchSpec::watch_filter); --deny-errno N makes each of them fail with N.
//
// As PID 1 it forwards every termination signal to the workload (docker stop
// sends SIGTERM to PID 1 only) and reaps orphans (the tracer's wait loop reaps
// every process, traced or adopted). The recording is flushed every
// --flush-ms so that a SIGKILL after docker stop's grace period loses little.
#include <linux/filter.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/recording.h"
#include "session/recording_sink.h"
#include "tracer/interrupt.h"
#include "tracer/self_defence.h"
#include "tracer/tracer.h"

namespace {

struct Args {
  std::string out;
  int flush_ms = 1000;
  int stack_depth = 16;  // frames per call stack (run's --stack-depth); 0: none
  std::string watch_filter;  // path
  std::optional<int> deny_errno;
  std::vector<std::string> command;
};

// A whole decimal number from lo to hi, or nothing.
std::optional<long> whole_number(const std::string& v, long lo, long hi) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi) return std::nullopt;
  return n;
}

Args parse(int argc, char** argv) {
  Args a;
  int i = 1;
  for (; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--") {
      ++i;
      break;
    }
    if (s == "--out" && i + 1 < argc) {
      a.out = argv[++i];
    } else if (s == "--flush-ms" && i + 1 < argc) {
      a.flush_ms = std::atoi(argv[++i]);
    } else if (s == "--stack-depth" && i + 1 < argc) {
      const std::string v = argv[++i];
      const std::optional<long> n = whole_number(v, 0, 256);
      if (!n) sctrace::fail(sctrace::ErrorKind::usage, "--stack-depth '{}' is not a number from 0 to 256", v);
      a.stack_depth = static_cast<int>(*n);
    } else if (s == "--watch-filter" && i + 1 < argc) {
      a.watch_filter = argv[++i];
    } else if (s == "--deny-errno" && i + 1 < argc) {
      const std::string v = argv[++i];
      const std::optional<long> n = whole_number(v, 1, 4095);
      if (!n) sctrace::fail(sctrace::ErrorKind::usage, "--deny-errno '{}' is not an errno value", v);
      a.deny_errno = static_cast<int>(*n);
    } else {
      sctrace::fail(sctrace::ErrorKind::usage, "unknown argument '{}'", s);
    }
  }
  for (; i < argc; ++i) a.command.emplace_back(argv[i]);
  // "%p" in the output name becomes the sensor's pid, so repeated runs of
  // the same healthcheck each leave their own recording.
  if (auto pos = a.out.find("%p"); pos != std::string::npos) a.out.replace(pos, 2, std::to_string(::getpid()));
  if (a.out.empty() || a.command.empty())
    sctrace::fail(sctrace::ErrorKind::usage,
                  "usage: sctrace-sensor --out FILE [--flush-ms N] [--stack-depth N] "
                  "[--watch-filter FILE [--deny-errno N]] -- COMMAND...");
  if (a.deny_errno && a.watch_filter.empty())
    sctrace::fail(sctrace::ErrorKind::usage, "--deny-errno needs --watch-filter");
  return a;
}

// The host wrote the program for SECCOMP_RET_TRACE already; it is installed
// as it is, whatever action the tracer asks for.
std::vector<sock_filter> load_filter(const std::string& path) {
  const std::string raw = sctrace::read_regular_file(path, BPF_MAXINSNS * sizeof(sock_filter));
  if (raw.empty() || raw.size() % sizeof(sock_filter) != 0)
    sctrace::fail(sctrace::ErrorKind::input, "{}: {} bytes is not an array of struct sock_filter", path, raw.size());
  std::vector<sock_filter> prog(raw.size() / sizeof(sock_filter));
  std::memcpy(prog.data(), raw.data(), raw.size());
  return prog;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sctrace;
  try {
    Args args = parse(argc, argv);
    // Before the flusher thread starts: a bad filter file is a plain error.
    LaunchSpec spec;
    spec.argv = args.command;
    if (!args.watch_filter.empty()) {
      std::vector<sock_filter> prog = load_filter(args.watch_filter);
      spec.watch_filter = [prog](uint32_t) { return prog; };
      spec.deny_errno = args.deny_errno;
    }

    Recording rec;
    rec.backend = "ptrace-sensor";
    rec.commands.push_back(args.command);
    // Call-site attribution as deep as the host's --stack-depth says: the
    // ptrace tracer keeps the task stopped while the sink runs.
    RecordingSink sink(rec, AttributionOptions{args.stack_depth, true});

    auto write_now = [&](bool final_write) {
      std::string text = sink.with_recording([&](const Recording& r) {
        Recording copy = r;
        // Until the workload has exited the recording is a snapshot.
        copy.complete = final_write && r.complete;
        return recording_to_json(copy);
      });
      write_file_atomic(args.out, text);
    };

    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread flusher([&] {
      std::unique_lock lock(mu);
      uint64_t last = ~0ull;
      while (!cv.wait_for(lock, std::chrono::milliseconds(args.flush_ms), [&] { return done; })) {
        uint64_t now = sink.events();
        if (now == last) continue;
        last = now;
        try {
          write_now(false);
        } catch (const Error& e) {
          std::fprintf(stderr, "sctrace-sensor: %s\n", e.what());
        }
      }
    });

    set_tracer_description("the sensor");
    set_interrupt_policy(InterruptPolicy::forward_always);
    install_interrupt_handlers();
    ExitStatus st;
    try {
      st = make_ptrace_tracer()->run(spec, sink);
    } catch (...) {
      {
        std::lock_guard lock(mu);
        done = true;
      }
      cv.notify_all();
      flusher.join();
      throw;
    }
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    flusher.join();
    write_now(true);
    return st.shell_code();
  } catch (const Error& e) {
    std::fprintf(stderr, "sctrace-sensor: error: %s\n", e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sctrace-sensor: internal error: %s\n", e.what());
    return 2;
  }
}
