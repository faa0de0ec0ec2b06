#pragma once
// Command-line parsing: returns a value tests can check; no side effects.
#include <string>
#include <vector>

#include "profile/static_completion.h"
#include "session/agent_container.h"
#include "session/backend.h"

namespace sctrace::cli {

enum class Command { help, version, run, merge, verify, enforce, check, explain, diff, calibrate, harvest };

struct Options {
  Command command = Command::help;
  std::string help_text;  // for Command::help

  // run
  std::string output = "seccomp-profile.json";
  std::string recording;
  std::string template_path;
  bool no_new_privileges = false;
  double timeout_sec = 0;
  RequestedBackend backend = RequestedBackend::automatic;  // run/verify/check --backend (session/backend.h)
  std::vector<std::string> workload;  // after "--"

  // container mode (run and verify on a `docker run` / `podman run` line)
  using Probe = ProbeOption;  // kind "http", "cmd" or "exec", and its text
  std::vector<Probe> probes;  // in the order given on the command line
  std::vector<std::string> wait_ports;
  double ready_timeout_sec = 30;
  double duration_sec = 0;

  // run, container mode: the hardening report (advice/hardening.h)
  std::string report_json;     // --report-json FILE
  std::string sarif;           // --sarif FILE
  std::string fail_on;         // --fail-on high|medium|low ("" = never)
  bool verify_hardening = false;  // --verify-hardening: re-run with the hardened flags

  // run: output shape and speed
  std::string format = "docker";     // --format docker|oci|k8s|podman (cli/cmd_format.cc)
  std::string baseline;              // --baseline OLD.json: stop only on what OLD does not cover
  PtraceStops ptrace_stops = PtraceStops::automatic;  // --ptrace-stops (one: SECCOMP_RET_TRACE stops only)
  int stack_depth = 16;              // --stack-depth N: frames per captured call stack, 0 = no stacks
  std::string runtime_baseline;      // --runtime-baseline FILE (from `sctrace calibrate`)
  std::string unlisted = "errno";    // --unlisted errno|log (profile/minimizer.h Unlisted)
  StaticMode static_mode = StaticMode::benign;  // --static off|benign|all (profile/static_completion.h)

  // check (also uses profile, probes, backend, timeout, sarif, report_json)
  bool enforce = false;  // --enforce: violations fail with the profile's errno instead of running
  std::string junit;     // --junit FILE

  // explain SYSCALL [--recording FILE]; diff OLD NEW [--json]
  std::string syscall_name;
  bool json = false;

  // calibrate
  std::string runtime = "podman";  // --runtime runc|crun|podman|docker
  int starts = 5;                  // --starts N
  std::string calibrate_output = "runtime-baseline.json";

  // merge
  std::string merge_profile;
  std::vector<std::string> inputs;

  // harvest [--since D] [--container C] [--exe PATH] -o REC (session/harvest.h)
  std::string since, container, exe;

  // verify / enforce
  std::string profile;
};

// Throws sctrace::Error(ErrorKind::usage) with a one-line message.
Options parse_args(int argc, const char* const* argv);

}  // namespace sctrace::cli
