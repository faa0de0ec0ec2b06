#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/arch.h"
#include "core/error.h"
#include "profile/filter.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"
#include "profile/verdict.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;

namespace {

constexpr uint32_t kRetEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kRetEnosys = SECCOMP_RET_ERRNO | ENOSYS;

int nr_of(uint32_t arch, const char* name) {
  auto nr = arch::syscall_nr(arch, name);
  REQUIRE(nr.has_value());
  return *nr;
}

seccomp_data make_data(uint32_t audit_arch, int nr, std::array<uint64_t, 6> args = {}) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = audit_arch;
  d.instruction_pointer = 0x401000;
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

uint32_t eval(const std::vector<sock_filter>& prog, const char* name, std::array<uint64_t, 6> args = {},
              uint32_t arch = SCMP_ARCH_X86_64) {
  return run_filter(prog, make_data(arch, nr_of(arch, name), args));
}

SyscallRule rule(std::vector<std::string> names, std::string action, std::vector<ArgCond> args = {},
                 std::optional<unsigned> errno_ret = std::nullopt) {
  SyscallRule r;
  r.names = std::move(names);
  r.action = std::move(action);
  r.args = std::move(args);
  r.errno_ret = errno_ret;
  return r;
}

// A profile for this machine's arches (x86_64, x86, x32), default EPERM.
SeccompProfile base_profile() {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.arch_map = {{"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}}};
  return p;
}

const EvalContext& docker_ctx() {
  static const EvalContext ctx = EvalContext::docker_default();
  return ctx;
}

}  // namespace

TEST_CASE("the Docker default profile compiles with runc's verdicts", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  const auto prog = compile_filter(docker_default_template(), docker_ctx(), FilterMode::enforce);
  REQUIRE(prog.size() > 10);
  REQUIRE(prog.size() <= BPF_MAXINSNS);

  CHECK(eval(prog, "read") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "write") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
  // Only with CAP_SYS_ADMIN, which Docker does not grant by default.
  CHECK(eval(prog, "mount") == kRetEperm);
  CHECK(eval(prog, "unshare") == kRetEperm);
  // Its own rule: errnoRet 38 so that glibc falls back to clone.
  CHECK(eval(prog, "clone3") == kRetEnosys);
  // socket: every family but 38 and AF_VSOCK (40).
  CHECK(eval(prog, "socket", {2, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {39, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {40, 1, 0}) == kRetEperm);
  CHECK(eval(prog, "socket", {38, 1, 0}) == kRetEperm);
  // personality: the listed personas only.
  CHECK(eval(prog, "personality", {0xffffffff}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "personality", {8}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "personality", {1}) == kRetEperm);

  // The archMap entry of x86_64 brings x86 and x32.
  CHECK(eval(prog, "getpid", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mount", {}, SCMP_ARCH_X86) == kRetEperm);
  CHECK(eval(prog, "socketcall", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, nr_of(SCMP_ARCH_X32, "getpid"))) == SECCOMP_RET_ALLOW);
  REQUIRE((static_cast<uint32_t>(nr_of(SCMP_ARCH_X32, "getpid")) & arch::kX32SyscallBit) != 0);
  // A recorded x32 call (its libseccomp token and number) is judged the same.
  const arch::AuditNr k = arch::to_audit(SCMP_ARCH_X32, nr_of(SCMP_ARCH_X32, "getpid"));
  CHECK(k.audit_arch == SCMP_ARCH_X86_64);
  CHECK(arch::from_audit(k.audit_arch, k.nr).arch == SCMP_ARCH_X32);
  CHECK(arch::from_audit(k.audit_arch, k.nr).nr == nr_of(SCMP_ARCH_X32, "getpid"));
  CHECK(recorded_call_verdict(prog, SCMP_ARCH_X32, nr_of(SCMP_ARCH_X32, "getpid"), {}) == SECCOMP_RET_ALLOW);
  CHECK(recorded_call_verdict(prog, SCMP_ARCH_X32, nr_of(SCMP_ARCH_X32, "mount"), {}) == kRetEperm);
  CHECK(recorded_call_verdict(prog, SCMP_ARCH_X86, nr_of(SCMP_ARCH_X86, "getpid"), {}) == SECCOMP_RET_ALLOW);

  // An arch the profile does not cover: libseccomp's default bad-arch action
  // (runc never sets one), kill the thread.
  CHECK(run_filter(prog, make_data(SCMP_ARCH_AARCH64, 63)) == SECCOMP_RET_KILL_THREAD);

  // runc's patchbpf stub: above the largest number the profile names, ENOSYS.
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 1000)) == kRetEnosys);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86, 1000)) == kRetEnosys);
  // A hole below it (x86_64 has no numbers 335..423): the default action.
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 400)) == kRetEperm);
}

TEST_CASE("notify_denials turns every denial into SECCOMP_RET_USER_NOTIF", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  const auto prog = compile_filter(docker_default_template(), docker_ctx(), FilterMode::notify_denials);
  CHECK(eval(prog, "read") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {2, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mount") == SECCOMP_RET_USER_NOTIF);
  CHECK(eval(prog, "clone3") == SECCOMP_RET_USER_NOTIF);
  CHECK(eval(prog, "socket", {40, 1, 0}) == SECCOMP_RET_USER_NOTIF);
  CHECK(eval(prog, "personality", {1}) == SECCOMP_RET_USER_NOTIF);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 1000)) == SECCOMP_RET_USER_NOTIF);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_AARCH64, 63)) == SECCOMP_RET_USER_NOTIF);
}

TEST_CASE("errnoRet: rules default to EPERM, defaultErrnoRet only sets the default action", "[filter]") {
  SeccompProfile p = base_profile();
  p.default_errno_ret = ENOSYS;
  p.syscalls = {rule({"getppid", "getpid", "read"}, "SCMP_ACT_ALLOW"), rule({"mount"}, "SCMP_ACT_ERRNO"),
                rule({"umount2"}, "SCMP_ACT_ERRNO", {}, EACCES)};
  const auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mount") == kRetEperm);
  CHECK(eval(prog, "umount2") == (SECCOMP_RET_ERRNO | EACCES));
  CHECK(eval(prog, "chroot") == kRetEnosys);
}

TEST_CASE("actions map like runc's getAction", "[filter]") {
  SeccompProfile p = base_profile();
  p.syscalls = {rule({"getppid"}, "SCMP_ACT_KILL"),         rule({"getpid"}, "SCMP_ACT_KILL_PROCESS"),
                rule({"gettid"}, "SCMP_ACT_TRAP"),          rule({"getuid"}, "SCMP_ACT_LOG"),
                rule({"getgid"}, "SCMP_ACT_TRACE"),         rule({"geteuid"}, "SCMP_ACT_TRACE", {}, 5),
                rule({"getegid"}, "SCMP_ACT_KILL_THREAD"),  rule({"getpgrp"}, "SCMP_ACT_ALLOW")};
  const auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_KILL_THREAD);
  CHECK(eval(prog, "getpid") == SECCOMP_RET_KILL_PROCESS);
  CHECK(eval(prog, "gettid") == SECCOMP_RET_TRAP);
  CHECK(eval(prog, "getuid") == SECCOMP_RET_LOG);
  CHECK(eval(prog, "getgid") == (SECCOMP_RET_TRACE | EPERM));
  CHECK(eval(prog, "geteuid") == (SECCOMP_RET_TRACE | 5));
  CHECK(eval(prog, "getegid") == SECCOMP_RET_KILL_THREAD);
  CHECK(eval(prog, "getpgrp") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "chroot") == kRetEperm);

  const auto notify = compile_filter(p, docker_ctx(), FilterMode::notify_denials);
  for (const char* n : {"getppid", "getpid", "gettid", "getgid", "geteuid", "getegid", "chroot"})
    CHECK(eval(notify, n) == SECCOMP_RET_USER_NOTIF);
  CHECK(eval(notify, "getuid") == SECCOMP_RET_LOG);  // LOG runs the syscall: not a denial
  CHECK(eval(notify, "getpgrp") == SECCOMP_RET_ALLOW);
}

TEST_CASE("argument conditions: AND across indexes, one rule per condition on the same index", "[filter]") {
  SeccompProfile p = base_profile();
  p.syscalls = {
      // Same index twice: runc adds one rule per condition, so either matches.
      rule({"personality"}, "SCMP_ACT_ALLOW", {{0, 0, 0, "SCMP_CMP_EQ"}, {0, 8, 0, "SCMP_CMP_EQ"}}),
      // Different indexes: one rule, both must hold.
      rule({"kill"}, "SCMP_ACT_ALLOW", {{0, 100, 0, "SCMP_CMP_GE"}, {1, 15, 0, "SCMP_CMP_EQ"}}),
      // MASKED_EQ: value is the mask, valueTwo the expected bits.
      rule({"clone"}, "SCMP_ACT_ALLOW", {{0, 0x10000000, 0, "SCMP_CMP_MASKED_EQ"}}),
      rule({"mmap"}, "SCMP_ACT_ALLOW", {{2, 0x4, 0x4, "SCMP_CMP_MASKED_EQ"}}),
      rule({"setuid"}, "SCMP_ACT_ALLOW", {{0, 0, 0, "SCMP_CMP_NE"}}),
  };
  const auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "personality", {0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "personality", {8}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "personality", {5}) == kRetEperm);
  CHECK(eval(prog, "kill", {150, 15}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "kill", {150, 9}) == kRetEperm);
  CHECK(eval(prog, "kill", {50, 15}) == kRetEperm);
  CHECK(eval(prog, "clone", {0x01200011}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "clone", {0x10000000 | 0x11}) == kRetEperm);
  CHECK(eval(prog, "mmap", {0, 4096, 0x7}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mmap", {0, 4096, 0x3}) == kRetEperm);
  CHECK(eval(prog, "setuid", {1000}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "setuid", {0}) == kRetEperm);
  // 64-bit comparisons on x86 (32-bit registers) are libseccomp's business:
  // the upper half is zero there.
  CHECK(eval(prog, "personality", {8}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
}

TEST_CASE("includes/excludes are evaluated against the context", "[filter]") {
  SeccompProfile p = base_profile();
  SyscallRule admin = rule({"mount"}, "SCMP_ACT_ALLOW");
  admin.includes.caps = {"CAP_SYS_ADMIN"};
  SyscallRule not_admin = rule({"clone3"}, "SCMP_ACT_ERRNO", {}, ENOSYS);
  not_admin.excludes.caps = {"CAP_SYS_ADMIN"};
  // futex_waitv (449) keeps the ENOSYS stub out of the way.
  p.syscalls = {admin, not_admin, rule({"futex_waitv"}, "SCMP_ACT_ALLOW")};

  EvalContext ctx = docker_ctx();
  auto prog = compile_filter(p, ctx, FilterMode::enforce);
  CHECK(eval(prog, "mount") == kRetEperm);
  CHECK(eval(prog, "clone3") == kRetEnosys);
  ctx.caps.insert("CAP_SYS_ADMIN");
  prog = compile_filter(p, ctx, FilterMode::enforce);
  CHECK(eval(prog, "mount") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "clone3") == kRetEperm);
}

TEST_CASE("arches: only the listed ones, native always kept", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.architectures = {"SCMP_ARCH_X86_64"};
  p.syscalls = {rule({"getpid", "socketcall"}, "SCMP_ACT_ALLOW")};
  auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getpid") == SECCOMP_RET_ALLOW);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86, 20)) == SECCOMP_RET_KILL_THREAD);
  // x32 is not listed either: libseccomp kills x32 calls made on x86_64.
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, nr_of(SCMP_ARCH_X32, "getpid"))) == SECCOMP_RET_KILL_THREAD);

  // A profile that lists only x86 still keeps the native arch (runc never
  // removes it), and "socketcall" only lands where it exists.
  p.architectures = {"SCMP_ARCH_X86"};
  prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getpid") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getpid", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socketcall", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
}

TEST_CASE("the ENOSYS stub follows runc's rules", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  SeccompProfile p = base_profile();
  // Largest x86_64 number named: getppid (110); x86: getppid is 64.
  p.syscalls = {rule({"read", "getppid"}, "SCMP_ACT_ALLOW")};
  auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "open") == kRetEperm);     // 2 < 110: the default action
  CHECK(eval(prog, "mount") == kRetEnosys);   // 165 > 110
  CHECK(eval(prog, "openat") == kRetEnosys);  // 257 > 110
  CHECK(eval(prog, "openat", {}, SCMP_ARCH_X86) == kRetEnosys);  // 295 > 64 on x86
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, nr_of(SCMP_ARCH_X32, "openat"))) == kRetEnosys);

  // Rules that are skipped still count for the stub (runc scans every name).
  p.syscalls.push_back(rule({"mount"}, "SCMP_ACT_ERRNO"));
  prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "mount") == kRetEperm);
  CHECK(eval(prog, "umount2") == kRetEnosys);  // 166 > 165

  // Rules that do not apply to the container do not count (Docker drops
  // them before runc computes the stub).
  SyscallRule admin = rule({"open_tree"}, "SCMP_ACT_ALLOW");
  admin.includes.caps = {"CAP_SYS_ADMIN"};
  p.syscalls.push_back(admin);
  prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "open_tree") == kRetEnosys);
  CHECK(eval(prog, "umount2") == kRetEnosys);
  EvalContext admin_ctx = docker_ctx();
  admin_ctx.caps.insert("CAP_SYS_ADMIN");
  prog = compile_filter(p, admin_ctx, FilterMode::enforce);
  CHECK(eval(prog, "open_tree") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "umount2") == kRetEperm);  // 166 < 428 now

  // No stub with a permissive default action.
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = {rule({"read"}, "SCMP_ACT_ERRNO")};
  prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "read") == kRetEperm);
  CHECK(eval(prog, "openat") == SECCOMP_RET_ALLOW);

  // No arch listed at all: Docker passes no architectures, runc builds no stub.
  SeccompProfile bare;
  bare.syscalls = {rule({"read"}, "SCMP_ACT_ALLOW")};
  prog = compile_filter(bare, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "read") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "openat") == kRetEperm);
}

TEST_CASE("names libseccomp does not know are skipped, bad input is an input error", "[filter]") {
  SeccompProfile p = base_profile();
  p.syscalls = {rule({"no_such_syscall_xyz", "getppid"}, "SCMP_ACT_ALLOW")};
  auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);

  // A rule with the default action is redundant and skipped, not an error.
  p.syscalls = {rule({"getppid"}, "SCMP_ACT_ERRNO")};
  CHECK_NOTHROW(compile_filter(p, docker_ctx(), FilterMode::enforce));

  auto input_error = [](const SeccompProfile& bad, const std::string& needle) {
    try {
      compile_filter(bad, docker_ctx(), FilterMode::enforce);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::input);
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  p.syscalls = {rule({"getppid"}, "SCMP_ACT_ALLOW"), rule({"getpid"}, "SCMP_ACT_BOGUS")};
  input_error(p, "syscalls[1]");
  p.syscalls = {rule({"getpid"}, "SCMP_ACT_ALLOW", {{6, 0, 0, "SCMP_CMP_EQ"}})};
  input_error(p, "syscalls[0].args[0]");
  p.syscalls = {rule({"getpid"}, "SCMP_ACT_ALLOW", {{0, 0, 0, "SCMP_CMP_LIKE"}})};
  input_error(p, "SCMP_CMP_LIKE");
  p.syscalls = {};
  p.default_action = "SCMP_ACT_NOPE";
  input_error(p, "defaultAction");
}

TEST_CASE("run_filter interprets classic BPF like the kernel", "[filter]") {
  const seccomp_data d = make_data(SCMP_ARCH_X86_64, 7, {5, 0x100000003ull, 0, 0, 0, 0});
  auto ret = [&](std::vector<sock_filter> p) { return run_filter(p, d); };
  const uint32_t nr_off = offsetof(seccomp_data, nr);
  const uint32_t arg1_lo = offsetof(seccomp_data, args) + 8;
  const uint32_t arg1_hi = arg1_lo + 4;

  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, nr_off), BPF_STMT(BPF_RET | BPF_A, 0)}) == 7);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg1_hi), BPF_STMT(BPF_RET | BPF_A, 0)}) == 1);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg1_lo), BPF_STMT(BPF_RET | BPF_A, 0)}) == 3);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_RET | BPF_A, 0)}) == sizeof(seccomp_data));
  // ALU with K and X, scratch memory, TAX/TXA.
  CHECK(ret({BPF_STMT(BPF_LD | BPF_IMM, 6), BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 7), BPF_STMT(BPF_ST, 3),
             BPF_STMT(BPF_LDX | BPF_IMM, 2), BPF_STMT(BPF_LD | BPF_MEM, 3), BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
             BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 1), BPF_STMT(BPF_RET | BPF_A, 0)}) == 20);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_IMM, 9), BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_IMM, 1),
             BPF_STMT(BPF_STX, 0), BPF_STMT(BPF_LDX | BPF_MEM, 0), BPF_STMT(BPF_MISC | BPF_TXA, 0),
             BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 0x30), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3c),
             BPF_STMT(BPF_ALU | BPF_XOR | BPF_K, 1), BPF_STMT(BPF_RET | BPF_A, 0)}) == 0x39);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_IMM, 1), BPF_STMT(BPF_ALU | BPF_NEG, 0), BPF_STMT(BPF_RET | BPF_A, 0)}) ==
        0xffffffffu);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_IMM, 17), BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 5),
             BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 4), BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 8),
             BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), BPF_STMT(BPF_RET | BPF_A, 0)}) == 5);
  // Division by zero through X ends the program with 0.
  CHECK(ret({BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_LD | BPF_IMM, 4), BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
             BPF_STMT(BPF_RET | BPF_K, 99)}) == 0);
  // Jumps: JEQ/JGT/JGE/JSET with K and X, JA.
  std::vector<sock_filter> jumps = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, nr_off),     // A = 7
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 7, 1, 0),   // -> 3
      BPF_STMT(BPF_RET | BPF_K, 1),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 7, 0, 1),   // not > 7 -> 5
      BPF_STMT(BPF_RET | BPF_K, 2),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 7, 1, 0),   // >= 7 -> 7
      BPF_STMT(BPF_RET | BPF_K, 3),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 8, 0, 1),  // 7 & 8 == 0 -> 9
      BPF_STMT(BPF_RET | BPF_K, 4),
      BPF_STMT(BPF_LDX | BPF_IMM, 7),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 3),   // A == X -> 11
      BPF_STMT(BPF_JMP | BPF_JA, 1),                  // -> 13
      BPF_STMT(BPF_RET | BPF_K, 5),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0),  // 7 & 7 -> 15
      BPF_STMT(BPF_RET | BPF_K, 6),
      BPF_STMT(BPF_RET | BPF_K, 42),
  };
  CHECK(ret(jumps) == 42);

  // Programs the kernel would refuse never read or jump out of bounds.
  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_A, 0)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_A, 0)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_A, 0)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_MEM, 16), BPF_STMT(BPF_RET | BPF_A, 0)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_STMT(BPF_JMP | BPF_JA, 5), BPF_STMT(BPF_RET | BPF_K, 1)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 0), BPF_STMT(BPF_RET | BPF_K, 1)}) ==
        SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({BPF_STMT(BPF_LD | BPF_IMM, 1)}) == SECCOMP_RET_KILL_PROCESS);
  CHECK(ret({}) == SECCOMP_RET_KILL_PROCESS);
}

namespace {

struct Probe {
  uint32_t audit_arch;  // SCMP_ARCH_X86_64 or SCMP_ARCH_X86 (int $0x80)
  int nr;
  std::array<uint64_t, 6> args;
};
struct Outcome {
  long ret;
  int err;
};

// Makes each probe syscall under `prog`, enforced by the kernel, in a child.
std::vector<Outcome> run_under_kernel(const std::vector<sock_filter>& prog, const std::vector<Probe>& probes) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::vector<Outcome> out(probes.size());
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    sock_fprog fp{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(90);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) ::_exit(91);
    for (size_t i = 0; i < probes.size(); ++i) {
      const Probe& p = probes[i];
      if (p.audit_arch == SCMP_ARCH_X86_64) {
        errno = 0;
        long r = ::syscall(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5]);
        out[i] = {r, r == -1 ? errno : 0};
      } else {
#if defined(__x86_64__)
        long r;
        asm volatile("int $0x80"
                     : "=a"(r)
                     : "a"(p.nr), "b"(p.args[0]), "c"(p.args[1]), "d"(p.args[2])
                     : "memory", "r8", "r9", "r10", "r11");
        out[i] = {r, r < 0 && r > -4096 ? static_cast<int>(-r) : 0};
#endif
      }
    }
    const char* b = reinterpret_cast<const char*>(out.data());
    size_t left = out.size() * sizeof(Outcome);
    while (left > 0) {
      ssize_t n = ::write(fds[1], b, left);
      if (n <= 0) ::_exit(92);
      b += n;
      left -= static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  char* b = reinterpret_cast<char*>(out.data());
  size_t left = out.size() * sizeof(Outcome);
  while (left > 0) {
    ssize_t n = ::read(fds[0], b, left);
    if (n <= 0) break;
    b += n;
    left -= static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  INFO("child wait status " << st);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 0);
  REQUIRE(left == 0);
  return out;
}

}  // namespace

TEST_CASE("run_filter agrees with the kernel enforcing the same program", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: probes are written for x86_64");
    return;
  }
  const auto prog = compile_filter(docker_default_template(), docker_ctx(), FilterMode::enforce);
  auto nr = [](const char* n, uint32_t a = SCMP_ARCH_X86_64) { return nr_of(a, n); };

  // Allowed calls that cannot fail with EPERM, and denied ones (the kernel
  // never runs a denied call, so zero arguments are harmless).
  std::vector<Probe> probes = {
      {SCMP_ARCH_X86_64, nr("getppid"), {}},
      {SCMP_ARCH_X86_64, nr("personality"), {0xffffffff}},
      {SCMP_ARCH_X86_64, nr("socket"), {40, 1, 0}},
      {SCMP_ARCH_X86_64, nr("keyctl"), {}},
      {SCMP_ARCH_X86_64, nr("io_uring_setup"), {}},
      {SCMP_ARCH_X86_64, nr("clone3"), {}},
      {SCMP_ARCH_X86_64, nr("mount"), {}},
      {SCMP_ARCH_X86_64, nr("personality"), {1}},
      {SCMP_ARCH_X86_64, 1000, {}},
      {SCMP_ARCH_X86, nr("getpid", SCMP_ARCH_X86), {}},
      {SCMP_ARCH_X86, nr("mount", SCMP_ARCH_X86), {}},
      {SCMP_ARCH_X86, nr("clone3", SCMP_ARCH_X86), {}},
      {SCMP_ARCH_X86, 1000, {}},
  };
  // The i386 probes go through int $0x80, which faults before seccomp when
  // the kernel has 32-bit emulation off: only they are left out then.
  if (test::int80_refused())
    std::erase_if(probes, [](const Probe& p) { return p.audit_arch == SCMP_ARCH_X86; });
  // Every number up to 460 that the interpreter says is denied with an errno.
  const std::set<std::string> never = {"vhangup", "reboot", "exit", "exit_group"};
  for (int n = 0; n < 460; ++n) {
    // uretprobe (335, Linux 6.11) and uprobe (336, 6.16) bypass seccomp
    // altogether; uretprobe raises SIGILL outside a uretprobe trampoline.
    if (n == 335 || n == 336) continue;
    auto name = arch::syscall_name(SCMP_ARCH_X86_64, n);
    if (name && never.count(*name) != 0) continue;
    uint32_t v = run_filter(prog, make_data(SCMP_ARCH_X86_64, n));
    if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) probes.push_back({SCMP_ARCH_X86_64, n, {}});
  }
  REQUIRE(probes.size() > 60);

  const auto got = run_under_kernel(prog, probes);
  size_t denied = 0;
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    const uint32_t v = run_filter(prog, make_data(p.audit_arch, p.nr, p.args));
    INFO("arch " << std::hex << p.audit_arch << std::dec << " nr " << p.nr << " arg0 " << p.args[0] << " -> "
                 << std::hex << v << std::dec << ", kernel ret " << got[i].ret << " errno " << got[i].err);
    if ((v & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
      ++denied;
      CHECK(got[i].err == static_cast<int>(v & SECCOMP_RET_DATA));
      CHECK(got[i].ret == (p.audit_arch == SCMP_ARCH_X86 ? -static_cast<long>(v & SECCOMP_RET_DATA) : -1));
    } else {
      REQUIRE(v == SECCOMP_RET_ALLOW);
      CHECK(got[i].err != EPERM);
    }
  }
  CHECK(denied > 50);
}

TEST_CASE("watch filters: what the profile allows passes, every other verdict is the watch action", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  for (uint32_t watch : {static_cast<uint32_t>(SECCOMP_RET_TRACE), static_cast<uint32_t>(SECCOMP_RET_USER_NOTIF)}) {
    INFO("watch action " << std::hex << watch);
    const auto prog = compile_watch_filter(docker_default_template(), docker_ctx(), watch);
    CHECK(eval(prog, "read") == SECCOMP_RET_ALLOW);
    CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
    CHECK(eval(prog, "socket", {2, 1, 0}) == SECCOMP_RET_ALLOW);
    CHECK(eval(prog, "personality", {8}) == SECCOMP_RET_ALLOW);
    // The default action, argument conditions that fail.
    CHECK(eval(prog, "mount") == watch);
    // ENOSYS is the profile's designed answer (libc falls back): kept.
    CHECK(eval(prog, "clone3") == kRetEnosys);
    CHECK(eval(prog, "socket", {40, 1, 0}) == watch);
    CHECK(eval(prog, "personality", {1}) == watch);
    // x86 is covered by the archMap; an uncovered arch and the ENOSYS stub are watched.
    CHECK(eval(prog, "getpid", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
    CHECK(eval(prog, "mount", {}, SCMP_ARCH_X86) == watch);
    CHECK(run_filter(prog, make_data(SCMP_ARCH_AARCH64, 63)) == watch);
    CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 1000)) == kRetEnosys);
    CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 400)) == watch);
  }
}

TEST_CASE("watch filters: LOG runs the syscall, KILL/TRAP/TRACE rules and an allow default", "[filter]") {
  SeccompProfile p = base_profile();
  p.syscalls = {rule({"getppid", "read"}, "SCMP_ACT_ALLOW"), rule({"getpid"}, "SCMP_ACT_LOG"),
                rule({"kill"}, "SCMP_ACT_KILL"), rule({"tkill"}, "SCMP_ACT_TRAP"), rule({"tgkill"}, "SCMP_ACT_TRACE"),
                rule({"getuid"}, "SCMP_ACT_ERRNO", {}, ENOSYS)};
  const uint32_t w = SECCOMP_RET_USER_NOTIF;
  auto prog = compile_watch_filter(p, docker_ctx(), w);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getpid") == SECCOMP_RET_LOG);
  for (const char* n : {"kill", "tkill", "tgkill", "write", "uname"}) {
    INFO(n);
    CHECK(eval(prog, n) == w);
  }
  CHECK(eval(prog, "getuid") == kRetEnosys);
  // An allow-by-default profile: only its denials are watched.
  p.default_action = "SCMP_ACT_ALLOW";
  prog = compile_watch_filter(p, docker_ctx(), SECCOMP_RET_TRACE);
  CHECK(eval(prog, "uname") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getuid") == kRetEnosys);
  CHECK(eval(prog, "kill") == SECCOMP_RET_TRACE);
  // Conditions: only the allowed combination passes.
  p = base_profile();
  p.syscalls = {rule({"socket"}, "SCMP_ACT_ALLOW", {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 1, 0, "SCMP_CMP_EQ"}})};
  prog = compile_watch_filter(p, docker_ctx(), SECCOMP_RET_TRACE);
  CHECK(eval(prog, "socket", {1, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {1, 2, 0}) == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "socket", {2, 1, 0}) == SECCOMP_RET_TRACE);
  // Anything but TRACE and USER_NOTIF is refused.
  CHECK_THROWS_AS(compile_watch_filter(p, docker_ctx(), SECCOMP_RET_KILL_PROCESS), Error);
  CHECK_THROWS_AS(compile_watch_filter(p, docker_ctx(), SECCOMP_RET_ERRNO | EPERM), Error);
}

TEST_CASE("baseline_profile: recorded names pass, classified arguments only with recorded values", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  Recording old;
  auto add = [&](uint32_t a, const char* name, std::map<unsigned, std::set<uint64_t>> args = {}) {
    SyscallRecord& r = old.syscalls[a][name];
    r.nr = *arch::syscall_nr(a, name);
    r.count = 1;
    for (auto& [idx, vals] : args)
      for (uint64_t v : vals) r.args[idx].add(v);
  };
  add(SCMP_ARCH_X86_64, "read");
  add(SCMP_ARCH_X86_64, "getppid");
  add(SCMP_ARCH_X86_64, "socket", {{0, {1, 2}}, {1, {1}}, {2, {0}}});
  add(SCMP_ARCH_X86_64, "clock_gettime", {{0, {1, 0xfffffffffffffffaull}}});
  add(SCMP_ARCH_X86_64, "__nr_999");
  // mmap: one argument overflowed, the other one constrains.
  add(SCMP_ARCH_X86_64, "mmap", {{2, {3}}});
  old.syscalls[SCMP_ARCH_X86_64]["mmap"].args[3].overflow = true;
  // ioctl: more combinations than the limit, always stops.
  for (uint64_t v = 0; v <= kMaxBaselineCombinations; ++v) add(SCMP_ARCH_X86_64, "ioctl", {{1, {v}}});

  const SeccompProfile p = baseline_profile(old);
  REQUIRE(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
  const auto prog = compile_watch_filter(p, docker_ctx(), SECCOMP_RET_TRACE);
  CHECK(eval(prog, "read") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getppid") == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "getpid") == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "socket", {1, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {2, 1, 0}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "socket", {2, 2, 0}) == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "socket", {10, 1, 0}) == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "clock_gettime", {1}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "clock_gettime", {0xfffffffffffffffaull}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "clock_gettime", {0}) == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "mmap", {0, 4096, 3, 0x22}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mmap", {0, 4096, 3, 0x12345}) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog, "mmap", {0, 4096, 7, 0x22}) == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "ioctl", {0, 1}) == SECCOMP_RET_TRACE);
  CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 999)) == SECCOMP_RET_TRACE);
  // Numbered above everything OLD made: no ENOSYS stub, it stops.
  CHECK(eval(prog, "clone3") == SECCOMP_RET_TRACE);
  CHECK(eval(prog, "clone3", {}, SCMP_ARCH_X86) == SECCOMP_RET_TRACE);
  // x86 was not in the recording: any 32-bit call stops.
  CHECK(eval(prog, "read", {}, SCMP_ARCH_X86) == SECCOMP_RET_TRACE);

  // With an x86 call recorded, that arch is covered.
  add(SCMP_ARCH_X86, "getpid");
  const SeccompProfile p2 = baseline_profile(old);
  CHECK(p2.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
  const auto prog2 = compile_watch_filter(p2, docker_ctx(), SECCOMP_RET_USER_NOTIF);
  CHECK(eval(prog2, "getpid", {}, SCMP_ARCH_X86) == SECCOMP_RET_ALLOW);
  CHECK(eval(prog2, "uname", {}, SCMP_ARCH_X86) == SECCOMP_RET_USER_NOTIF);
  CHECK(eval(prog2, "clock_gettime", {1}) == SECCOMP_RET_ALLOW);
}

TEST_CASE("denials_of: every recorded call against the program, worst errno, ENOSYS not a denial", "[verdict]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.arch_map = {{"SCMP_ARCH_X86_64", {}}};
  p.syscalls = {rule({"read", "exit_group"}, "SCMP_ACT_ALLOW"),
                rule({"personality"}, "SCMP_ACT_ALLOW", {{0, 0, 0, "SCMP_CMP_EQ"}}),
                rule({"clone3"}, "SCMP_ACT_ERRNO", {}, ENOSYS), rule({"getpid"}, "SCMP_ACT_KILL"),
                rule({"uname"}, "SCMP_ACT_ERRNO", {}, EACCES)};
  const auto prog = compile_filter(p, docker_ctx(), FilterMode::enforce);

  Recording rec;
  auto add = [&](const char* name, uint64_t count, std::vector<uint64_t> arg0 = {}) {
    SyscallRecord& r = rec.syscalls[SCMP_ARCH_X86_64][name];
    r.nr = *arch::syscall_nr(SCMP_ARCH_X86_64, name);
    r.count = count;
    for (uint64_t v : arg0) r.args[0].add(v);
  };
  add("read", 5);
  add("personality", 2, {0});        // allowed for the value it was called with
  add("clone3", 1);                  // ENOSYS: the profile's design
  add("getpid", 3);                  // KILL: EPERM
  add("uname", 1);                   // EACCES
  add("getppid", 4);                 // the default action
  rec.syscalls[SCMP_ARCH_X86_64]["__nr_999"].count = 1;  // unnamed: not judged

  const std::vector<RecordedDenial> d = denials_of(rec, prog);
  REQUIRE(d.size() == 3);
  CHECK(d[0].name == "getpid");
  CHECK(d[0].err == EPERM);
  CHECK(d[0].count == 3);
  CHECK(d[1].name == "getppid");
  CHECK(d[1].err == EPERM);
  CHECK(d[2].name == "uname");
  CHECK(d[2].err == EACCES);
  CHECK(d[2].arch_token == SCMP_ARCH_X86_64);

  // A recorded value the rule does not allow is a denial.
  add("personality", 2, {0, 0xffffffff});
  const std::vector<RecordedDenial> d2 = denials_of(rec, prog);
  REQUIRE(d2.size() == 4);
  CHECK(d2[2].name == "personality");
}

TEST_CASE("refused_natively and refusal_text", "[verdict]") {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = {rule({"execve"}, "SCMP_ACT_ERRNO", {}, EACCES)};
  const auto ret = refused_natively(compile_filter(p, docker_ctx(), FilterMode::enforce), "execve");
  REQUIRE(ret);
  CHECK(refusal_text(*ret) == "EACCES");
  CHECK_FALSE(refused_natively(compile_filter(p, docker_ctx(), FilterMode::enforce), "read"));
  CHECK(refusal_text(SECCOMP_RET_KILL_PROCESS) == "SIGSYS (the process is killed)");
  CHECK(refusal_text(SECCOMP_RET_TRACE) == "ENOSYS");
}

TEST_CASE("watch filters: always-watched calls reach the tracer where the profile lets them run, nothing else moves", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  SeccompProfile p = base_profile();
  p.syscalls = {rule({"getpid", "kill", "ptrace"}, "SCMP_ACT_ALLOW"), rule({"getppid", "tgkill"}, "SCMP_ACT_LOG"),
                rule({"tkill"}, "SCMP_ACT_ERRNO", {}, ENOSYS),
                rule({"pidfd_open"}, "SCMP_ACT_ALLOW", {{0, 7, 0, "SCMP_CMP_EQ"}})};
  const AlwaysWatched always = {"kill", "tkill", "tgkill", "ptrace", "pidfd_open", "process_vm_readv"};
  auto verdict = [](const std::vector<sock_filter>& prog, uint32_t token, const char* name,
                    std::array<uint64_t, 6> args = {}) { return recorded_call_verdict(prog, token, nr_of(token, name), args); };
  for (const uint32_t w : {SECCOMP_RET_TRACE, SECCOMP_RET_USER_NOTIF}) {
    INFO(w);
    const auto plain = compile_watch_filter(p, docker_ctx(), w);
    const auto prog = compile_watch_filter(p, docker_ctx(), w, always);
    CHECK(prog.size() > plain.size());
    for (const uint32_t token : std::initializer_list<uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32}) {
      INFO(arch::short_name(token));
      // Allowed or logged by the profile: watched all the same.
      for (const char* n : {"kill", "ptrace", "tgkill"}) {
        INFO(n);
        CHECK(verdict(plain, token, n) != w);
        CHECK(verdict(prog, token, n) == w);
      }
      CHECK(verdict(prog, token, "pidfd_open", {7}) == w);
      // The rest keeps its verdict: allowed, logged, watched, ENOSYS.
      CHECK(verdict(prog, token, "getpid") == SECCOMP_RET_ALLOW);
      CHECK(verdict(prog, token, "getppid") == SECCOMP_RET_LOG);
      CHECK(verdict(prog, token, "pidfd_open", {8}) == w);
      CHECK(verdict(prog, token, "process_vm_readv") == verdict(plain, token, "process_vm_readv"));
      CHECK(verdict(prog, token, "tkill") == kRetEnosys);
      CHECK(verdict(prog, token, "uname") == w);
    }
    // An arch outside the profile and the ENOSYS stub, as before.
    CHECK(run_filter(prog, make_data(SCMP_ARCH_AARCH64, 129)) == w);
    CHECK(run_filter(prog, make_data(SCMP_ARCH_X86_64, 1000)) == run_filter(plain, make_data(SCMP_ARCH_X86_64, 1000)));
  }
  // verify's notify filter: the same for SECCOMP_RET_USER_NOTIF; enforce ignores the list.
  const auto notify = compile_filter(p, docker_ctx(), FilterMode::notify_denials, always);
  CHECK(verdict(notify, SCMP_ARCH_X86_64, "kill") == SECCOMP_RET_USER_NOTIF);
  CHECK(verdict(notify, SCMP_ARCH_X86, "tgkill") == SECCOMP_RET_USER_NOTIF);
  CHECK(verdict(notify, SCMP_ARCH_X86_64, "getpid") == SECCOMP_RET_ALLOW);
  const auto enforce_always = compile_filter(p, docker_ctx(), FilterMode::enforce, always);
  const auto enforce = compile_filter(p, docker_ctx(), FilterMode::enforce);
  REQUIRE(enforce_always.size() == enforce.size());
  CHECK(std::memcmp(enforce_always.data(), enforce.data(), enforce.size() * sizeof(sock_filter)) == 0);
  // Docker's default profile stays far below the kernel's limit.
  const auto docker = compile_watch_filter(docker_default_template(), docker_ctx(), SECCOMP_RET_TRACE, always);
  CHECK(docker.size() < compile_watch_filter(docker_default_template(), docker_ctx(), SECCOMP_RET_TRACE).size() + 80);
}

TEST_CASE("watch filters: always_data marks the always-watched calls the profile lets run, and only those", "[filter]") {
  if (arch::native() != SCMP_ARCH_X86_64) {
    WARN("skipped: expectations are written for x86_64");
    return;
  }
  SeccompProfile p = base_profile();
  p.syscalls = {rule({"getpid", "kill"}, "SCMP_ACT_ALLOW"), rule({"tgkill"}, "SCMP_ACT_LOG"),
                rule({"pidfd_open"}, "SCMP_ACT_ALLOW", {{0, 7, 0, "SCMP_CMP_EQ"}})};
  const AlwaysWatched always = {"kill", "tgkill", "ptrace", "pidfd_open"};
  constexpr uint32_t kData = 0x1234;
  const auto prog = compile_watch_filter(p, docker_ctx(), SECCOMP_RET_TRACE, always, kData);
  auto verdict = [&](uint32_t token, const char* name, std::array<uint64_t, 6> args = {}) {
    return recorded_call_verdict(prog, token, nr_of(token, name), args);
  };
  for (const uint32_t token : std::initializer_list<uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    INFO(arch::short_name(token));
    // Let run by the profile: stopped, marked.
    CHECK(verdict(token, "kill") == (SECCOMP_RET_TRACE | kData));
    CHECK(verdict(token, "tgkill") == (SECCOMP_RET_TRACE | kData));
    CHECK(verdict(token, "pidfd_open", {7}) == (SECCOMP_RET_TRACE | kData));
    // Refused by the profile: the plain watch stop, a violation (x32's ptrace,
    // 521, lies above every number the profile lists there: the stub's ENOSYS).
    if (token != SCMP_ARCH_X32) CHECK(verdict(token, "ptrace") == SECCOMP_RET_TRACE);
    CHECK(verdict(token, "pidfd_open", {8}) == SECCOMP_RET_TRACE);
    CHECK(verdict(token, "uname") == SECCOMP_RET_TRACE);
    CHECK(verdict(token, "getpid") == SECCOMP_RET_ALLOW);
  }
  // A notification carries no data; the data is 16 bits.
  CHECK_THROWS_AS(compile_watch_filter(p, docker_ctx(), SECCOMP_RET_USER_NOTIF, always, kData), Error);
  CHECK_THROWS_AS(compile_watch_filter(p, docker_ctx(), SECCOMP_RET_TRACE, always, 0x10000), Error);
}
