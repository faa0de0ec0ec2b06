// The OCI linux.seccomp the runtime gets on the agent path (runc bundles,
// calibrate) is to_oci_seccomp's, the same conversion `-f oci` writes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "profile/agent_profile.h"
#include "profile/emit/formats.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"

namespace sctrace {
namespace {

TEST_CASE("agent: the recording profile in OCI form keeps listenerPath, the arches and the notify rules", "[agent]") {
  const EvalContext ctx = EvalContext::docker_default();
  const SeccompProfile rec = recording_profile(docker_default_template(), "/run/x/agent.sock");
  const nlohmann::json oci = nlohmann::json(to_oci_seccomp(rec, ctx));
  CHECK(oci.at("listenerPath") == "/run/x/agent.sock");
  CHECK(oci.at("listenerMetadata") == "sctrace");
  CHECK(oci.at("defaultAction") == rec.default_action);
  std::set<std::string> arches;
  for (const auto& a : oci.at("architectures")) arches.insert(a.get<std::string>());
  if (ctx.native_arch == 0 || arch::scmp_name(ctx.native_arch) == "SCMP_ARCH_X86_64")
    CHECK(arches == std::set<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  std::set<std::string> notified, allowed;
  for (const auto& r : oci.at("syscalls")) {
    CHECK(!r.at("names").empty());
    for (const auto& n : r.at("names")) {
      if (r.at("action") == "SCMP_ACT_NOTIFY") notified.insert(n.get<std::string>());
      if (r.at("action") == "SCMP_ACT_ALLOW") allowed.insert(n.get<std::string>());
    }
  }
  CHECK(notified.count("read") == 1);
  CHECK(notified.count("execve") == 1);
  CHECK(notified.count("bpf") == 0);  // CAP_SYS_ADMIN / CAP_BPF rules do not apply
  // runc hands the listener over with these: never notified.
  for (const char* n : {"write", "rt_sigreturn", "restart_syscall"}) {
    CHECK(notified.count(n) == 0);
    CHECK(allowed.count(n) == 1);
  }
}

}  // namespace
}  // namespace sctrace
