// `check` through the OCI seccomp agent: the profile the runtime loads
// (profile/agent_profile.h check_runtime_profile) against the compiled watch
// program of the checked profile.
#include <linux/audit.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "profile/agent_profile.h"
#include "core/arch.h"
#include "profile/filter.h"
#include "profile/templates.h"

using namespace sctrace;

namespace {

constexpr const char* kSock = "/tmp/sctrace-agent-x/agent.sock";

std::set<std::string> names_with(const SeccompProfile& p, const std::string& action) {
  std::set<std::string> out;
  for (const auto& r : p.syscalls) {
    CHECK(r.args.empty());
    CHECK(r.includes.empty());
    CHECK(r.excludes.empty());
    if (r.action == action) out.insert(r.names.begin(), r.names.end());
  }
  return out;
}

uint32_t verdict(const std::vector<sock_filter>& prog, const std::string& name, uint64_t arg = 0) {
  auto nr = arch::syscall_nr(arch::native(), name);
  REQUIRE(nr);
  seccomp_data d{};
  d.nr = *nr;
  d.arch = arch::native();
  for (auto& a : d.args) a = arg;
  return run_filter(prog, d) & SECCOMP_RET_ACTION_FULL;
}

}  // namespace

TEST_CASE("check runtime profile: Docker's default splits into unconditional allows and notified names") {
  const SeccompProfile& p = docker_default_template();
  const EvalContext ctx = EvalContext::docker_default();
  std::vector<std::string> unwatchable;
  SeccompProfile c = check_runtime_profile(p, ctx, kSock, &unwatchable);
  CHECK(c.default_action == p.default_action);
  CHECK(c.default_errno_ret == p.default_errno_ret);
  CHECK(c.listener_path == kSock);
  CHECK(c.arch_map.empty());
  CHECK(std::find(c.architectures.begin(), c.architectures.end(), arch::scmp_name(arch::native())) !=
        c.architectures.end());
  CHECK(unwatchable.empty());  // Docker's default allows write, rt_sigreturn, restart_syscall

  const auto allow = names_with(c, "SCMP_ACT_ALLOW");
  const auto notify = names_with(c, "SCMP_ACT_NOTIFY");
  for (const auto& n : allow) CHECK(notify.count(n) == 0);
  for (const char* n : {"write", "rt_sigreturn", "restart_syscall", "read", "getpid", "openat", "uname"})
    CHECK(allow.count(n) == 1);
  // Conditional (clone's flags, personality's persona), ENOSYS (clone3) and
  // denied (keyctl, add_key) names are notified: the watch program decides.
  for (const char* n : {"clone", "personality", "clone3", "keyctl", "add_key", "bpf"}) CHECK(notify.count(n) == 1);

  // Every name libseccomp knows on the native arch is named (NOTIFY cannot be
  // the default), and the kernel's shortcut agrees with the watch program:
  // what stays allowed is allowed whatever the arguments.
  const auto prog = compile_watch_filter(p, ctx, SECCOMP_RET_USER_NOTIF);
  int named = 0;
  for (int nr = 0; nr < 1024; ++nr) {
    auto name = arch::syscall_name(arch::native(), nr);
    if (!name) continue;
    ++named;
    INFO(*name);
    CHECK(allow.count(*name) + notify.count(*name) == 1);
    if (allow.count(*name)) {
      CHECK(verdict(prog, *name, 0) == SECCOMP_RET_ALLOW);
      CHECK(verdict(prog, *name, ~0ull) == SECCOMP_RET_ALLOW);
    } else {
      // Something other than a plain allow somewhere.
      const bool any_stop = verdict(prog, *name, 0) != SECCOMP_RET_ALLOW ||
                            verdict(prog, *name, ~0ull) != SECCOMP_RET_ALLOW ||
                            verdict(prog, *name, 0x7e020000) != SECCOMP_RET_ALLOW;
      const bool conditional_rule = std::any_of(p.syscalls.begin(), p.syscalls.end(), [&](const SyscallRule& r) {
        return !r.args.empty() && std::find(r.names.begin(), r.names.end(), *name) != r.names.end();
      });
      CHECK((any_stop || conditional_rule));
    }
  }
  CHECK(named > 300);
}

TEST_CASE("check runtime profile: handover syscalls the profile does not allow are kept and reported") {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  SyscallRule r;
  r.action = "SCMP_ACT_ALLOW";
  r.names = {"read", "exit_group", "rt_sigreturn"};
  p.syscalls.push_back(r);
  SyscallRule w;
  w.action = "SCMP_ACT_ALLOW";
  w.names = {"write"};
  w.args = {ArgCond{0, 1, 0, "SCMP_CMP_EQ"}};  // stdout only: conditional
  p.syscalls.push_back(w);
  std::vector<std::string> unwatchable;
  SeccompProfile c = check_runtime_profile(p, EvalContext::docker_default(), kSock, &unwatchable);
  std::sort(unwatchable.begin(), unwatchable.end());
  CHECK(unwatchable == std::vector<std::string>{"restart_syscall", "write"});
  const auto allow = names_with(c, "SCMP_ACT_ALLOW");
  CHECK(allow == std::set<std::string>{"read", "exit_group", "rt_sigreturn", "write", "restart_syscall"});
  CHECK(names_with(c, "SCMP_ACT_NOTIFY").count("getpid") == 1);
}

TEST_CASE("check runtime profile: an allowing default lists only what the profile restricts") {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ALLOW";
  SyscallRule r;
  r.action = "SCMP_ACT_ERRNO";
  r.names = {"keyctl"};
  p.syscalls.push_back(r);
  std::vector<std::string> unwatchable;
  SeccompProfile c = check_runtime_profile(p, EvalContext::docker_default(), kSock, &unwatchable);
  CHECK(c.default_action == "SCMP_ACT_ALLOW");
  CHECK(unwatchable.empty());
  CHECK(names_with(c, "SCMP_ACT_NOTIFY") == std::set<std::string>{"keyctl"});
  CHECK(names_with(c, "SCMP_ACT_ALLOW") == std::set<std::string>{"write", "rt_sigreturn", "restart_syscall"});
}

TEST_CASE("check runtime profile: the always-watched names are notified where the profile lets them run") {
  // The self-defence calls: the agent must see them to refuse those aimed at sctrace.
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  SyscallRule r;
  r.action = "SCMP_ACT_ALLOW";
  r.names = {"read", "kill", "ptrace", "write"};
  p.syscalls.push_back(r);
  const std::vector<std::string> always = {"kill", "ptrace", "tgkill", "write"};
  SeccompProfile c = check_runtime_profile(p, EvalContext::docker_default(), kSock, nullptr, always);
  const auto notify = names_with(c, "SCMP_ACT_NOTIFY");
  const auto allow = names_with(c, "SCMP_ACT_ALLOW");
  for (const char* n : {"kill", "ptrace", "tgkill"}) {
    INFO(n);
    CHECK(notify.count(n) == 1);
    CHECK(allow.count(n) == 0);
  }
  // runc's hand-over stays allowed whatever the list says; the rest as before.
  CHECK(allow == std::set<std::string>{"read", "write", "rt_sigreturn", "restart_syscall"});
  // Without the list, kill and ptrace run in the kernel, unseen.
  const auto plain = names_with(check_runtime_profile(p, EvalContext::docker_default(), kSock), "SCMP_ACT_ALLOW");
  CHECK(plain.count("kill") == 1);

  // An allowing default lists them too.
  SeccompProfile open;
  open.default_action = "SCMP_ACT_ALLOW";
  const auto listed = names_with(check_runtime_profile(open, EvalContext::docker_default(), kSock, nullptr, always),
                                 "SCMP_ACT_NOTIFY");
  CHECK(listed == std::set<std::string>{"kill", "ptrace", "tgkill"});
}
