// `sctrace verify` and `sctrace enforce`: options in, session/verify.h's runs out.
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "cli/commands.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/verdict.h"
#include "session/verify.h"
#include "session/workload.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"

namespace sctrace::cli {

int cmd_verify(const Options& o) {
  if (parse_workload(o.workload).container_line()) return cmd_verify_container(o);
  // Each denial is named through a seccomp listener; ptrace has no part here
  // (check --enforce --backend ptrace is the ptrace way to the same answer).
  if (o.backend == RequestedBackend::ptrace)
    fail(ErrorKind::usage, "verify --backend ptrace: a local verify names denials through seccomp user notification "
                           "(--backend applies to container lines; `check --enforce --backend ptrace` enforces "
                           "through ptrace)");
  return verify_local({o.workload, load_profile_file(o.profile), o.timeout_sec}, say);
}

int cmd_verify_container(const Options& o) {
  // podman: runc loads the profile with sctrace's seccomp agent as its
  // listener; each call the profile refuses is answered with the profile's
  // errno and named. That is `check --enforce`, whose report this prints.
  if (is_podman_line(o.workload)) {
    Options c = o;
    c.enforce = true;
    VerifyResult r;
    r.kind = VerifyKind::agent;
    r.check_code = cmd_check(c);
    r.interrupted = interrupt_count() > 0;
    return judge_verify(r, say);
  }
  LoadedProfile loaded = load_profile_input(o.profile);
  // Docker reads its own schema only: a Docker-shaped file goes as it is,
  // the other shapes (OCI, config.json, a SeccompProfile) as the same model
  // in Docker JSON.
  const bool as_is = loaded.input.shape == ProfileShape::docker && !loaded.input.yaml;
  DockerVerifyRequest req{session_options(o), loaded.input.profile,
                          as_is ? loaded.text : to_docker_json(loaded.input.profile)};
  return verify_docker(req, say);
}

int cmd_enforce(const Options& o) {
  SeccompProfile profile = load_profile_file(o.profile);
  std::vector<sock_filter> prog = compile_filter(profile, EvalContext::docker_default(), FilterMode::enforce);
  std::string exe = resolve_command(o.workload.at(0));
  // Once the filter is in, this process cannot report a failed execve if the
  // profile also refuses write or exit_group (it crashed there): ask first.
  if (auto ret = refused_natively(prog, "execve"))
    fail(ErrorKind::not_exec, "{}: the profile refuses execve ({}): nothing can start under it", o.workload[0],
         refusal_text(*ret));
  std::vector<char*> argv;
  for (const auto& a : o.workload) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (::geteuid() != 0 && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail_errno(ErrorKind::runtime, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
    fail_errno(ErrorKind::runtime, errno, "installing the seccomp filter");
  ::execv(exe.c_str(), argv.data());
  // execve itself may be what the profile denies.
  fail_errno(errno == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, errno,
             fmt::format("cannot execute {} under the profile", o.workload[0]));
}

}  // namespace sctrace::cli
