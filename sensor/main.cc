// sctrace-sensor: the static ptrace tracer that runs inside a container as its
// entrypoint (or under `docker exec`), traces the original command and all it
// spawns, and writes the recording to a file the host collects.
//
//   sctrace-sensor (--out FILE | --channel SOCKET --key-env NAME) [--flush-ms N] [--stack-depth N]
//                  [--watch-filter FILE [--deny-errno N]] [--container-main] -- COMMAND...
//   (%p in --out: the sensor's pid)
//
// --channel: in a container, the recording goes to the host's recording
// channel (tracer/container/channel.h), a unix socket, as frames
// authenticated with the key in environment variable NAME (64 hex digits).
// Every SCTRACE_SENSOR_KEY* variable is wiped from the environment's memory
// and removed before anything else, the sensor makes itself non-dumpable (so
// the workload can read neither its memory nor /proc/PID/environ), and the
// key lives in memory a fork does not copy (MADV_WIPEONFORK).
//
// --watch-filter: a raw array of struct sock_filter (8 bytes each, host byte
// order) whose SECCOMP_RET_TRACE answers pick the syscalls recorded
// (LaunchSpec::watch_filter); --deny-errno N makes each of them fail with N.
// Its stops marked kSelfDefenceData (tracer/self_defence.h) are calls the
// checked profile lets run: refused when aimed at the sensor, else let run,
// neither recorded nor denied.
//
// --container-main: COMMAND is the container's main process (the sensor is
// the entrypoint, not an exec or a healthcheck): the recording ends when it
// exits, and every process left is killed then, as the kernel kills the rest
// of the PID namespace when the main process of a container without the
// sensor exits (LaunchSpec::ends_with_first_process). Without it the sensor
// traces until the last process of COMMAND's tree has exited.
//
// As PID 1 it forwards every termination signal to the workload (docker stop
// sends SIGTERM to PID 1 only) and reaps orphans (the tracer's wait loop reaps
// every process, traced or adopted). The recording is flushed every
// --flush-ms so that a SIGKILL after docker stop's grace period loses little.
#include <linux/filter.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/record_frame.h"
#include "core/unique_fd.h"
#include "profile/recording.h"
#include "session/recording_sink.h"
#include "tracer/interrupt.h"
#include "tracer/self_defence.h"
#include "tracer/tracer.h"

namespace {

struct Args {
  std::string out;
  std::string channel;  // socket path
  std::string key_env;
  int flush_ms = 1000;
  int stack_depth = 16;  // frames per call stack (run's --stack-depth); 0: none
  std::string watch_filter;  // path
  std::optional<int> deny_errno;
  bool container_main = false;
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
    } else if (s == "--channel" && i + 1 < argc) {
      a.channel = argv[++i];
    } else if (s == "--key-env" && i + 1 < argc) {
      a.key_env = argv[++i];
    } else if (s == "--flush-ms" && i + 1 < argc) {
      a.flush_ms = std::atoi(argv[++i]);
    } else if (s == "--stack-depth" && i + 1 < argc) {
      const std::string v = argv[++i];
      const std::optional<long> n = whole_number(v, 0, 256);
      if (!n) sctrace::fail(sctrace::ErrorKind::usage, "--stack-depth '{}' is not a number from 0 to 256", v);
      a.stack_depth = static_cast<int>(*n);
    } else if (s == "--container-main") {
      a.container_main = true;
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
  if (a.out.empty() == a.channel.empty() || a.channel.empty() != a.key_env.empty() || a.command.empty())
    sctrace::fail(sctrace::ErrorKind::usage,
                  "usage: sctrace-sensor (--out FILE | --channel SOCKET --key-env NAME) [--flush-ms N] "
                  "[--stack-depth N] [--watch-filter FILE [--deny-errno N]] [--container-main] -- COMMAND...");
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

// The key, out of the environment: its bytes there are overwritten (that
// memory is what /proc/PID/environ shows) and every SCTRACE_SENSOR_KEY*
// variable is removed, so neither the workload nor a probe inherits one.
// Returned in a page a fork leaves zero-filled and a core dump leaves out.
std::string_view take_key(const std::string& name) {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) sctrace::fail_errno(sctrace::ErrorKind::runtime, errno, "mmap");
  if (::madvise(page, 4096, MADV_WIPEONFORK) != 0 || ::madvise(page, 4096, MADV_DONTDUMP) != 0)
    sctrace::fail_errno(sctrace::ErrorKind::runtime, errno, "madvise");
  auto* key = static_cast<char*>(page);
  bool found = false;
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    char* eq = std::strchr(*e, '=');
    if (eq == nullptr || std::strncmp(*e, "SCTRACE_SENSOR_KEY", 18) != 0) continue;
    std::string n(*e, eq);
    const std::string_view value(eq + 1);
    if (n == name && value.size() == 64) {
      // key_from_hex, without leaving a copy on the heap.
      found = true;
      for (size_t i = 0; i < 32 && found; ++i) {
        int v = 0;
        for (size_t j = 2 * i; j < 2 * i + 2; ++j) {
          const char c = value[j];
          const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
          if (d < 0) found = false;
          v = v * 16 + d;
        }
        key[i] = static_cast<char>(v);
      }
    }
    std::memset(eq + 1, 0, std::strlen(eq + 1));
    names.push_back(std::move(n));
  }
  for (const auto& n : names) ::unsetenv(n.c_str());
  if (!found) sctrace::fail(sctrace::ErrorKind::usage, "{} holds no sensor key (64 hex digits)", name);
  return {key, 32};
}

// The connection to the host's recording channel. Each write is one whole
// frame; close-on-exec, so the workload never inherits it.
class Channel {
 public:
  Channel(const std::string& path, std::string_view key) : key_(key) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) sctrace::fail(sctrace::ErrorKind::usage, "--channel path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_ = sctrace::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_) sctrace::fail_errno(sctrace::ErrorKind::runtime, errno, "socket");
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      sctrace::fail_errno(sctrace::ErrorKind::runtime, errno, "cannot connect to the recording channel " + path);
  }
  void send(std::string_view body, bool final_frame) {
    const std::string frame = sctrace::encode_frame(key_, seq_++, final_frame, body);
    std::string_view left = frame;
    while (!left.empty()) {
      const ssize_t n = ::send(fd_.get(), left.data(), left.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) sctrace::fail_errno(sctrace::ErrorKind::io, errno, "the recording channel");
      left.remove_prefix(static_cast<size_t>(n));
    }
  }

  void await_ack() {
    pollfd p{fd_.get(), POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, 60000)) < 0 && errno == EINTR) {
    }
    char c = 0;
    if (n <= 0 || ::recv(fd_.get(), &c, 1, 0) != 1 || c != sctrace::kFrameAck)
      sctrace::fail(sctrace::ErrorKind::runtime, "the recording channel did not accept this sensor");
  }

 private:
  std::string_view key_;
  sctrace::UniqueFd fd_;
  uint64_t seq_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace sctrace;
  try {
    Args args = parse(argc, argv);
    // Before anything else the workload could see: the key out of the
    // environment, the sensor out of reach of /proc/PID/mem and environ.
    std::string_view key;
    if (!args.key_env.empty()) key = take_key(args.key_env);
    if (::prctl(PR_SET_DUMPABLE, 0) != 0) fail_errno(ErrorKind::runtime, errno, "prctl(PR_SET_DUMPABLE)");
    // Connected before the workload starts: a workload cannot be first.
    std::optional<Channel> channel;
    if (!args.channel.empty()) {
      channel.emplace(args.channel, key);
      // The hello (an empty frame) authenticates the connection now: the host
      // cuts off a peer that has not within 2 s, and the first snapshot may
      // take longer (a healthcheck's sensor sends only at its end).
      channel->send("", false);
      // The host looks at who connected before it answers (a healthcheck's
      // key counts only from a process the engine started): still here then.
      channel->await_ack();
    }
    // Before the flusher thread starts: a bad filter file is a plain error.
    LaunchSpec spec;
    spec.argv = args.command;
    spec.ends_with_first_process = args.container_main;
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
      if (channel) {
        channel->send(text, final_write);
      } else {
        write_file_atomic(args.out, text);
      }
    };
    std::mutex write_mu;  // the flusher and the final write: one frame at a time, in sequence
    auto write_locked = [&](bool final_write) {
      std::lock_guard lock(write_mu);
      write_now(final_write);
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
          write_locked(false);
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
    write_locked(true);
    return st.shell_code();
  } catch (const Error& e) {
    std::fprintf(stderr, "sctrace-sensor: error: %s\n", e.what());
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sctrace-sensor: internal error: %s\n", e.what());
    return 2;
  }
}
