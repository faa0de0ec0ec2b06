// sctrace-sensor: the static ptrace tracer that runs inside a container as its
// entrypoint (or under `docker exec`), traces the original command and all it
// spawns, and writes the recording to a file the host collects.
//
//   sctrace-sensor --out FILE [--flush-ms N] -- COMMAND...   (%p in FILE: the sensor's pid)
//
// As PID 1 it forwards every termination signal to the workload (docker stop
// sends SIGTERM to PID 1 only) and reaps orphans (the tracer's wait loop reaps
// every process, traced or adopted). The recording is flushed every
// --flush-ms so that a SIGKILL after docker stop's grace period loses little.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "profile/recording.h"
#include "tracer/interrupt.h"
#include "tracer/recording_sink.h"
#include "tracer/tracer.h"

namespace {

struct Args {
  std::string out;
  int flush_ms = 1000;
  std::vector<std::string> command;
};

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
    } else {
      sctrace::fail(sctrace::ErrorKind::usage, "unknown argument '{}'", s);
    }
  }
  for (; i < argc; ++i) a.command.emplace_back(argv[i]);
  // "%p" in the output name becomes the sensor's pid, so repeated runs of
  // the same healthcheck each leave their own recording.
  if (auto pos = a.out.find("%p"); pos != std::string::npos) a.out.replace(pos, 2, std::to_string(::getpid()));
  if (a.out.empty() || a.command.empty())
    sctrace::fail(sctrace::ErrorKind::usage, "usage: sctrace-sensor --out FILE [--flush-ms N] -- COMMAND...");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sctrace;
  try {
    Args args = parse(argc, argv);
    Recording rec;
    rec.backend = "ptrace-sensor";
    rec.commands.push_back(args.command);
    RecordingSink sink(rec);

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

    set_interrupt_policy(InterruptPolicy::forward_always);
    install_interrupt_handlers();
    ExitStatus st;
    try {
      st = make_ptrace_tracer()->run(LaunchSpec{args.command, {}, false, {}}, sink);
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
