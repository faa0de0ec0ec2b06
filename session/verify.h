#pragma once
// `sctrace verify`: a workload under a profile, every call the profile
// refuses named, and one verdict. Three ways to run it, one judge:
// - a local command (verify_local): the profile compiled with every
//   non-allow action turned into a notification; each one is answered with
//   what the real filter would answer, and remembered.
// - a `docker run` line (verify_docker): pass 1 under the profile enforced by
//   Docker, pass 2 traced by the sensor with every recorded call checked
//   against the profile (profile/verdict.h denials_of).
// - a podman line: `check --enforce` (cli), whose code judge_verify reads.
// cli/cmd_verify.cc turns options into these requests.
#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/exit_status.h"
#include "profile/seccomp_profile.h"
#include "session/agent_container.h"
#include "tracer/container/session.h"

namespace sctrace {

// One refused syscall: errno answered, or kKilledBySigsys, and how often.
inline constexpr int kKilledBySigsys = -1;  // the profile kills (SECCOMP_RET_KILL_*, TRAP)
struct VerifyDenial {
  std::string arch;  // short name ("x86_64")
  std::string name;
  int err = 0;
  uint64_t count = 0;
};

enum class VerifyKind { local, docker, agent };

// What a verify run saw; judge_verify turns it into lines and a code.
struct VerifyResult {
  VerifyKind kind = VerifyKind::local;
  std::vector<VerifyDenial> denials;
  // local: how the workload ended; the profile's answer to execve when it
  // refused it (nothing ran); the command; whether sctrace was interrupted.
  ExitStatus status;
  bool ended_gracefully = false;
  bool interrupted = false;
  std::optional<uint32_t> execve_refused;
  std::string command;
  // docker: pass 1 (enforced) and pass 2 (traced).
  int enforced_exit = 0;
  int traced_exit = 0;
  bool probes_ok = true;
  std::vector<std::string> probe_failures;  // pass 1's
  bool both_planned = false;  // sctrace stopped the service in both passes
  // agent: the exit code `check --enforce` returned.
  int check_code = 0;
};

// The one place a verify's lines and exit code come from: the denials, then
// the verdict "verify passed|FAILED: ...". 0 passed, 1 failed, 128+signal
// when interrupted before anything could be judged.
int judge_verify(const VerifyResult& r, const SayFn& say);

struct LocalVerifyRequest {
  std::vector<std::string> argv;
  SeccompProfile profile;
  double timeout_sec = 0;
};
// Runs the command under the profile (seccomp user notification) and judges it.
int verify_local(const LocalVerifyRequest& req, const SayFn& say);

struct DockerVerifyRequest {
  container::SessionOptions session;  // the line, its probes, --duration, --timeout
  SeccompProfile profile;
  std::string profile_json;  // what Docker loads in pass 1 (Docker's own schema)
};
// The two passes, judged.
int verify_docker(const DockerVerifyRequest& req, const SayFn& say);

}  // namespace sctrace
