#pragma once
// One traced (or enforced) container run: let the user's own `docker run`
// line create the container, read its full configuration back through the
// Engine API, re-create it with the in-container sensor as entrypoint, start
// it, run the probes, stop it, collect the recordings and remove everything
// it created.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tracer/probes.h"

namespace sctrace::container {

struct SessionOptions {
  std::vector<std::string> argv;  // docker run ... / podman run ...
  std::vector<ProbeSpec> probes;  // in the order given (http, cmd, exec)
  std::vector<int> wait_ports;
  double ready_timeout_sec = 30;
  double duration_sec = 0;   // keep the service up this long after the probes
  double timeout_sec = 0;    // stop the container after this long (0 = none)
  bool with_sensor = true;   // record through the sensor
  std::string seccomp_json;  // when set: enforce this profile (--security-opt seccomp=...; "unconfined": none)
  std::string sensor_path;   // host path of sctrace-sensor; empty = next to sctrace
  bool write_cidfile = true;  // the line's --cidfile gets this session's container ID
  // `check`: a cBPF program (raw struct sock_filter array, host byte order)
  // compiled for SECCOMP_RET_TRACE. Written into the out dir and passed to
  // every sensor (entrypoint, exec probes, healthcheck) as --watch-filter:
  // their recordings then hold only what it traced.
  std::string watch_filter_bpf;
  std::optional<int> deny_errno;  // --deny-errno for the sensors (check --enforce)
  int stack_depth = 16;           // --stack-depth for the sensors: frames per call stack, 0 = none
};

struct SessionResult {
  std::vector<std::string> recordings;  // JSON texts from the sensor(s)
  int exit_code = 0;                    // the container's
  bool probes_ok = true;
  std::vector<std::string> probe_failures;
  bool interrupted = false;
  bool timed_out = false;
  // sctrace stopped the running service itself once its probes (and
  // --duration) were done: exit_code is the container's answer to that stop,
  // reported, not sctrace's status.
  bool planned_stop = false;
  nlohmann::json config;
  // Regular files with the setuid/setgid bit in the container's filesystem
  // (recording runs only; unset when the scan was not made or failed).
  std::optional<std::vector<std::string>> setid_files;  // the container's configuration as the user's line made it (inspect)
  // GET /containers/ID/changes after the run ([{Path, Kind}], like `docker diff`); null when the daemon
  // could not say.
  nlohmann::json changes;
};

// Throws sctrace::Error for a bad line, a missing image, an unreachable daemon.
SessionResult run_session(const SessionOptions& opts);

// True when argv is a `docker run` / `podman run` line.
bool is_container_run(const std::vector<std::string>& argv);

// Where sctrace-sensor is: $SCTRACE_SENSOR, else beside the running binary.
std::string default_sensor_path();

// A short command's outcome (docker create, podman inspect/stop/rm, runc
// spec, ...).
struct Captured {
  int status = -1;  // wait status
  std::string out, err;
  bool timed_out = false;  // killed at the limit
  bool ok() const;         // exited 0
};

// Runs argv (no shell; argv[0] resolved through PATH) with stdin /dev/null and
// stdout and stderr captured. limit > 0: SIGKILLed after that long. The child
// ignores SIGINT: a Ctrl-C at the terminal reaches the whole foreground
// process group, and sctrace, not the helper it is waiting for, decides what
// an interrupt stops (a `podman stop` cut short would leave the container).
// stop_on_interrupt: a Ctrl-C or SIGTERM to sctrace while it runs sends the
// command SIGTERM when it is still running 2 s later (a `docker create`
// pulling an image gives up) instead of waiting for it to the end (the
// command itself ignores SIGINT, so that the clean-up commands of an
// interrupted run finish).
Captured run_capture(const std::vector<std::string>& argv,
                     std::chrono::milliseconds limit = std::chrono::milliseconds(0), bool stop_on_interrupt = false);

}  // namespace sctrace::container
