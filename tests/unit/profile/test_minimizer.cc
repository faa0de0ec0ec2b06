#include <fmt/format.h>
#include <seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "profile/emit/summary.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/templates.h"

using namespace sctrace;

namespace {

constexpr arch::Token kX86_64 = SCMP_ARCH_X86_64;
constexpr arch::Token kX86 = SCMP_ARCH_X86;

SyscallRecord ok_call(arch::Token a, const std::string& name) {
  SyscallRecord r;
  r.nr = arch::syscall_nr(a, name).value_or(-1);
  r.count = 1;
  r.first_pid = 100;
  r.ok = 1;
  return r;
}

void add(Recording& rec, arch::Token a, std::initializer_list<const char*> names) {
  for (const char* n : names) rec.syscalls[a][n] = ok_call(a, n);
}

void add_args(Recording& rec, arch::Token a, const std::string& name, unsigned index,
              std::initializer_list<uint64_t> values) {
  auto [it, inserted] = rec.syscalls[a].try_emplace(name, ok_call(a, name));
  for (uint64_t v : values) it->second.args[index].add(v);
}

// Calls as the recorder classifies them: one argument class per tuple (over
// filtered_args(name)), counted once each.
void add_calls(Recording& rec, arch::Token a, const std::string& name,
               std::initializer_list<std::vector<uint64_t>> tuples) {
  auto [it, inserted] = rec.syscalls[a].try_emplace(name, ok_call(a, name));
  SyscallRecord& r = it->second;
  r.count = 0;
  const std::vector<unsigned>& idx = filtered_args(name);
  for (const auto& t : tuples) {
    REQUIRE(t.size() == idx.size());
    ArgClass c;
    for (size_t i = 0; i < idx.size(); ++i) {
      c.args[idx[i]] = t[i];
      r.args[idx[i]].add(t[i]);
    }
    c.count = 1;
    r.classes.push_back(std::move(c));
    ++r.count;
  }
  r.ok = r.count;
}

MinimizeOptions options(bool baseline = false) {
  MinimizeOptions o;
  o.ctx.native_arch = kX86_64;
  o.ctx.caps = docker_default_caps();
  o.ctx.kernel_release = "6.1.0";
  o.add_runtime_baseline = baseline;
  return o;
}

MinimizeResult run(const Recording& rec, MinimizeOptions o = options()) {
  return minimize(rec, docker_default_template(), o);
}

bool has_name(const SyscallRule& r, const std::string& name) {
  return std::find(r.names.begin(), r.names.end(), name) != r.names.end();
}

std::vector<const SyscallRule*> rules_for(const SeccompProfile& p, const std::string& name) {
  std::vector<const SyscallRule*> out;
  for (const auto& r : p.syscalls)
    if (has_name(r, name)) out.push_back(&r);
  return out;
}

bool allows(const SeccompProfile& p, const std::string& name) {
  for (const auto* r : rules_for(p, name))
    if (r->action == "SCMP_ACT_ALLOW") return true;
  return false;
}

bool answers_enosys(const SeccompProfile& p, const std::string& name) {
  auto rules = rules_for(p, name);
  return rules.size() == 1 && rules[0]->action == "SCMP_ACT_ERRNO" && rules[0]->errno_ret == unsigned{ENOSYS};
}

bool denied(const MinimizeResult& r, const std::string& arch, const std::string& name, const std::string& reason_part) {
  return std::any_of(r.template_denied.begin(), r.template_denied.end(), [&](const DeniedObservation& d) {
    return d.arch == arch && d.syscall == name && d.reason.find(reason_part) != std::string::npos;
  });
}

std::vector<uint64_t> eq_values(const SeccompProfile& p, const std::string& name) {
  std::vector<uint64_t> out;
  for (const auto* r : rules_for(p, name)) {
    REQUIRE(r->args.size() == 1);
    CHECK(r->args[0].op == "SCMP_CMP_EQ");
    CHECK(r->args[0].index == 0u);
    out.push_back(r->args[0].value);
  }
  return out;
}

// The argument conditions of every rule naming `name`, as (index, value) EQ pairs.
std::vector<std::vector<std::pair<unsigned, uint64_t>>> eq_tuples(const SeccompProfile& p, const std::string& name) {
  std::vector<std::vector<std::pair<unsigned, uint64_t>>> out;
  for (const auto* r : rules_for(p, name)) {
    std::vector<std::pair<unsigned, uint64_t>> t;
    for (const auto& c : r->args) {
      CHECK(c.op == "SCMP_CMP_EQ");
      t.emplace_back(c.index, c.value);
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

TEST_CASE("minimize keeps only what was observed, in the template's structure", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read", "write", "openat", "close", "mmap", "arch_prctl"});
  MinimizeResult r = run(rec);
  const SeccompProfile& p = r.profile;
  CHECK(p.default_action == "SCMP_ACT_ERRNO");
  CHECK(p.default_errno_ret == 1u);
  for (const char* n : {"read", "write", "openat", "close", "mmap", "arch_prctl"}) CHECK(allows(p, n));
  for (const char* n : {"chmod", "socket", "ptrace", "execve", "personality", "clone", "mount"})
    CHECK_FALSE(allows(p, n));
  CHECK(r.allowed_names == 10);  // six observed + exit, exit_group, rt_sigreturn, restart_syscall
  CHECK(r.template_names > 300);
  CHECK(r.template_denied.empty());
  CHECK(r.added_fallbacks.empty());
  // arch_prctl keeps the template's includes (rule applies to amd64/x32 only).
  auto ap = rules_for(p, "arch_prctl");
  REQUIRE(ap.size() == 1);
  CHECK(ap[0]->includes.arches == std::vector<std::string>{"amd64", "x32"});
  // Every rule is the template's, narrowed; names sorted.
  for (const auto& rule : p.syscalls) {
    CHECK(std::is_sorted(rule.names.begin(), rule.names.end()));
    CHECK_FALSE(rule.names.empty());
  }
  // The output is a valid profile.
  std::string out = to_docker_json(p);
  CHECK(to_docker_json(parse_profile(out, "out.json")) == out);
}

TEST_CASE("minimize narrows socket to the families observed", "[minimizer]") {
  Recording rec;
  SECTION("families the template allows become one EQ rule each") {
    add_args(rec, kX86_64, "socket", 0, {16, 1, 2, 39});
    add_args(rec, kX86_64, "socket", 1, {1, 2, 3});
    MinimizeResult r = run(rec);
    CHECK(eq_values(r.profile, "socket") == std::vector<uint64_t>{1, 2, 16, 39});
    CHECK(r.template_denied.empty());
  }
  SECTION("a family the template rejects is reported in hex and not added") {
    add_args(rec, kX86_64, "socket", 0, {1, 40});
    MinimizeResult r = run(rec);
    CHECK(eq_values(r.profile, "socket") == std::vector<uint64_t>{1});
    CHECK(denied(r, "SCMP_ARCH_X86_64", "socket", "0x28"));
    CHECK(r.template_denied.size() == 1);
  }
  SECTION("without recorded values the template's rules stay as they are") {
    add(rec, kX86_64, {"socket"});
    MinimizeResult r = run(rec);
    auto rules = rules_for(r.profile, "socket");
    REQUIRE(rules.size() == 3);
    CHECK(rules[0]->args[0].op == "SCMP_CMP_LT");
    CHECK(rules[1]->args[0].op == "SCMP_CMP_EQ");
    CHECK(rules[2]->args[0].op == "SCMP_CMP_GT");
  }
  SECTION("overflowed values are not narrowed on") {
    add_args(rec, kX86_64, "socket", 0, {1});
    rec.syscalls[kX86_64]["socket"].args[0].overflow = true;
    MinimizeResult r = run(rec);
    CHECK(rules_for(r.profile, "socket").size() == 3);
  }
}

TEST_CASE("minimize allows the uid/gid-setting calls only with the ids observed", "[minimizer]") {
  using T = std::vector<std::vector<std::pair<unsigned, uint64_t>>>;
  Recording rec;
  add(rec, kX86_64, {"read"});
  SECTION("setuid(33) only: setuid(0) matches no rule") {
    add_calls(rec, kX86_64, "setuid", {{33}});
    MinimizeResult r = run(rec);
    CHECK(eq_tuples(r.profile, "setuid") == T{{{0, 33}}});
    CHECK(r.template_denied.empty());
  }
  SECTION("setresuid keeps each recorded tuple, -1 (unchanged) included") {
    add_calls(rec, kX86_64, "setresuid", {{0xffffffff, 33, 0xffffffff}, {33, 33, 33}});
    MinimizeResult r = run(rec);
    CHECK(eq_tuples(r.profile, "setresuid") ==
          T{{{0, 33}, {1, 33}, {2, 33}}, {{0, 0xffffffff}, {1, 33}, {2, 0xffffffff}}});
  }
  SECTION("names with the same target share a rule") {
    add_calls(rec, kX86_64, "setgid", {{33}});
    add_calls(rec, kX86_64, "setuid", {{33}});
    MinimizeResult r = run(rec);
    auto rules = rules_for(r.profile, "setuid");
    REQUIRE(rules.size() == 1);
    CHECK(rules[0]->names == std::vector<std::string>{"setgid", "setuid"});
  }
  SECTION("i386's 32-bit-id calls are narrowed the same way") {
    add_calls(rec, kX86, "setuid32", {{33}});
    add_calls(rec, kX86, "setfsgid32", {{33}, {0xffffffff}});
    MinimizeResult r = run(rec);
    CHECK(eq_tuples(r.profile, "setuid32") == T{{{0, 33}}});
    CHECK(eq_tuples(r.profile, "setfsgid32") == T{{{0, 33}}, {{0, 0xffffffff}}});
  }
  SECTION("a recording without argument classes keeps the template's plain allow") {
    add(rec, kX86_64, {"setuid"});
    CHECK(eq_tuples(run(rec).profile, "setuid") == T{{}});
  }
  SECTION("calls past the class bound keep the plain allow") {
    add_calls(rec, kX86_64, "setuid", {{33}});
    rec.syscalls[kX86_64]["setuid"].classes_overflow = true;
    CHECK(eq_tuples(run(rec).profile, "setuid") == T{{}});
  }
  SECTION("calls not all classified (a harvested recording merged in) keep the plain allow") {
    add_calls(rec, kX86_64, "setuid", {{33}});
    rec.syscalls[kX86_64]["setuid"].count = 2;
    CHECK(eq_tuples(run(rec).profile, "setuid") == T{{}});
  }
  SECTION("runc's own setuid (runtime baseline without no-new-privileges) keeps the plain allow") {
    add_calls(rec, kX86_64, "setuid", {{33}});
    MinimizeOptions o = options(true);
    CHECK(eq_tuples(run(rec, o).profile, "setuid") == T{{}});
    o.no_new_privileges = true;
    CHECK(eq_tuples(run(rec, o).profile, "setuid") == T{{{0, 33}}});
  }
  SECTION("static completion's additions keep the plain allow") {
    add_calls(rec, kX86_64, "setuid", {{33}});
    rec.static_reach[kX86_64]["setuid"].added = true;
    CHECK(eq_tuples(run(rec).profile, "setuid") == T{{}});
  }
}

TEST_CASE("minimize keeps only the personality values observed", "[minimizer]") {
  Recording rec;
  add_args(rec, kX86_64, "personality", 0, {0xffffffff, 0});
  MinimizeResult r = run(rec);
  CHECK(eq_values(r.profile, "personality") == std::vector<uint64_t>{0, 0xffffffff});
  CHECK(r.template_denied.empty());
}

TEST_CASE("minimize keeps clone's flag mask rule as the template wrote it", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read"});
  SECTION("thread flags pass the mask") {
    add_args(rec, kX86_64, "clone", 0, {0x3d0f00, 0x1200011});
    MinimizeResult r = run(rec);
    auto rules = rules_for(r.profile, "clone");
    REQUIRE(rules.size() == 1);
    CHECK(rules[0]->args == std::vector<ArgCond>{ArgCond{0, 2114060288, 0, "SCMP_CMP_MASKED_EQ"}});
    CHECK(rules[0]->excludes.caps == std::vector<std::string>{"CAP_SYS_ADMIN"});
    CHECK(r.template_denied.empty());
  }
  SECTION("namespace flags are reported, not allowed") {
    add_args(rec, kX86_64, "clone", 0, {0x10000000});  // CLONE_NEWUSER
    MinimizeResult r = run(rec);
    CHECK_FALSE(allows(r.profile, "clone"));
    CHECK(denied(r, "SCMP_ARCH_X86_64", "clone", "value 0x10000000"));
  }
}

TEST_CASE("a syscall that only ever got ENOSYS keeps getting ENOSYS", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read"});
  SyscallRecord memfd = ok_call(kX86_64, "memfd_create");
  memfd.ok = 0;
  memfd.errors[ENOSYS] = 3;
  rec.syscalls[kX86_64]["memfd_create"] = memfd;
  MinimizeResult r = run(rec);
  CHECK_FALSE(allows(r.profile, "memfd_create"));
  CHECK(answers_enosys(r.profile, "memfd_create"));
  CHECK(r.template_denied.empty());
  // Another error besides ENOSYS means it worked at least as far as the kernel.
  rec.syscalls[kX86_64]["memfd_create"].errors[EINVAL] = 1;
  CHECK(allows(run(rec).profile, "memfd_create"));
}

TEST_CASE("clone3 answered ENOSYS by the template brings clone in as fallback", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read", "clone3"});
  MinimizeResult r = run(rec);
  CHECK(answers_enosys(r.profile, "clone3"));
  CHECK(allows(r.profile, "clone"));
  auto clone_rules = rules_for(r.profile, "clone");
  REQUIRE(clone_rules.size() == 1);
  CHECK(clone_rules[0]->args.at(0).op == "SCMP_CMP_MASKED_EQ");
  CHECK(r.added_fallbacks == std::vector<std::string>{"clone (fallback of clone3)"});
  CHECK(r.template_denied.empty());
  CHECK_THAT(summary_text(r), Catch::Contains("sctrace: fallbacks added: clone (fallback of clone3)\n"));
  // The workload made clone3 (not only to see ENOSYS): whether it falls back is not in the recording.
  CHECK(r.answered_enosys == std::vector<std::string>{"clone3"});
  CHECK_THAT(summary_text(r), Catch::Contains("the workload made clone3 and the profile answers ENOSYS"));

  add(rec, kX86_64, {"clone"});
  CHECK(run(rec).added_fallbacks.empty());
}

TEST_CASE("unobserved syscalls libc falls back from answer ENOSYS, the rest EPERM", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read"});
  MinimizeResult r = run(rec);
  const SyscallRule& last = r.profile.syscalls.back();
  CHECK(last.action == "SCMP_ACT_ERRNO");
  CHECK(last.errno_ret == unsigned{ENOSYS});
  CHECK(last.args.empty());
  CHECK(std::is_sorted(last.names.begin(), last.names.end()));
  for (const char* n : {"faccessat2", "openat2", "statx", "rseq", "close_range", "getrandom"}) CHECK(has_name(last, n));
  CHECK_FALSE(has_name(last, "clone3"));  // keeps the template's own ENOSYS rule
  CHECK(answers_enosys(r.profile, "clone3"));
  CHECK_FALSE(has_name(last, "io_uring_setup"));  // the template does not allow it: default EPERM
  CHECK(rules_for(r.profile, "io_uring_setup").empty());
  CHECK(rules_for(r.profile, "chmod").empty());
  // Observed policy names are allowed instead.
  add(rec, kX86_64, {"statx"});
  MinimizeResult r2 = run(rec);
  CHECK(allows(r2.profile, "statx"));
  CHECK_FALSE(has_name(r2.profile.syscalls.back(), "statx"));
}

TEST_CASE("observed syscalls the template denies are reported, not added", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read", "mount", "unshare"});
  rec.syscalls[kX86_64]["__nr_1000"] = SyscallRecord{1000, 1, 100, 1};
  MinimizeResult r = run(rec);
  CHECK_FALSE(allows(r.profile, "mount"));
  CHECK_FALSE(allows(r.profile, "unshare"));
  CHECK(denied(r, "SCMP_ARCH_X86_64", "mount", "not allowed by the template"));
  CHECK(denied(r, "SCMP_ARCH_X86_64", "unshare", "not allowed by the template"));
  CHECK(denied(r, "SCMP_ARCH_X86_64", "__nr_1000", "unknown to libseccomp"));
  CHECK(r.template_denied.size() == 3);
  std::string s = summary_text(r);
  CHECK_THAT(
      s, Catch::Contains("sctrace: observed but denied by the template: x86_64 mount (not allowed by the template)\n"));
  CHECK_THAT(s, Catch::Contains("x86_64 __nr_1000 (unknown to libseccomp)"));
  // With CAP_SYS_ADMIN the template's rule for mount applies and is kept with its includes.
  MinimizeOptions o = options();
  o.ctx.caps.insert("CAP_SYS_ADMIN");
  MinimizeResult admin = run(rec, o);
  CHECK(allows(admin.profile, "mount"));
  CHECK(rules_for(admin.profile, "mount").at(0)->includes.caps == std::vector<std::string>{"CAP_SYS_ADMIN"});
  CHECK_FALSE(denied(admin, "SCMP_ARCH_X86_64", "mount", ""));
}

TEST_CASE("the runtime baseline is added by variant", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read"});
  MinimizeOptions o = options(true);
  MinimizeResult with = run(rec, o);
  for (const char* n : {"capset", "setuid", "execve", "futex", "nanosleep", "sigaltstack"})
    CHECK(allows(with.profile, n));
  o.no_new_privileges = true;
  MinimizeResult nnp = run(rec, o);
  CHECK_FALSE(allows(nnp.profile, "capset"));
  CHECK_FALSE(allows(nnp.profile, "setuid"));
  CHECK(allows(nnp.profile, "execve"));
  CHECK(allows(nnp.profile, "sigaltstack"));  // Go runtime: both variants
  CHECK(nnp.allowed_names < with.allowed_names);
  MinimizeResult none = run(rec, options(false));
  CHECK_FALSE(allows(none.profile, "execve"));
  CHECK_FALSE(allows(none.profile, "futex"));
}

TEST_CASE("exit paths are always allowed", "[minimizer]") {
  Recording rec;
  MinimizeResult r = run(rec);
  for (const char* n : {"exit", "exit_group", "rt_sigreturn", "restart_syscall"}) CHECK(allows(r.profile, n));
  CHECK(r.allowed_names == 4);
}

TEST_CASE("archMap keeps the native arch and only the sub-arches seen", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read"});
  SECTION("native only") {
    MinimizeResult r = run(rec);
    REQUIRE(r.profile.arch_map.size() == 1);
    CHECK(r.profile.arch_map[0].architecture == "SCMP_ARCH_X86_64");
    CHECK(r.profile.arch_map[0].sub_architectures.empty());
    CHECK(r.arches == std::vector<std::string>{"SCMP_ARCH_X86_64"});
    CHECK_THAT(to_docker_json(r.profile), Catch::Contains("\"subArchitectures\": null"));
  }
  SECTION("x86 events add SCMP_ARCH_X86") {
    add(rec, kX86, {"socketcall", "_llseek"});
    MinimizeResult r = run(rec);
    REQUIRE(r.profile.arch_map.size() == 1);
    CHECK(r.profile.arch_map[0].sub_architectures == std::vector<std::string>{"SCMP_ARCH_X86"});
    CHECK(r.arches == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
    CHECK(allows(r.profile, "socketcall"));
    CHECK(allows(r.profile, "_llseek"));
    CHECK(r.allowed_names == 5);  // x86-only names do not count on x86_64
    CHECK_THAT(summary_text(r), Catch::Contains("arches: x86_64, x86\n"));
  }
  SECTION("an arch the template does not cover is reported") {
    add(rec, SCMP_ARCH_AARCH64, {"read"});
    MinimizeResult r = run(rec);
    CHECK(r.profile.arch_map[0].sub_architectures.empty());
    CHECK(denied(r, "SCMP_ARCH_AARCH64", "read", "architecture not covered"));
  }
  SECTION("a flat architectures list is reduced the same way") {
    SeccompProfile flat = parse_profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})",
                                        "flat.json");
    MinimizeResult r = minimize(rec, flat, options());
    CHECK(r.profile.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
    CHECK(r.profile.arch_map.empty());
    CHECK(summary_text(r) ==
          "sctrace: allowed 2 of 3 syscalls the template allows (66.7%) on x86_64; arches: x86_64\n");
    add(rec, kX86, {"write"});
    r = minimize(rec, flat, options());
    CHECK(r.profile.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
    REQUIRE(r.profile.syscalls.size() == 1);
    CHECK(r.profile.syscalls[0].names == std::vector<std::string>{"exit_group", "read", "write"});
    CHECK(r.template_names == 3);
  }
}

TEST_CASE("minimize is deterministic", "[minimizer]") {
  auto make = [](bool reversed) {
    Recording rec;
    std::vector<const char*> names = {"read", "write", "openat", "fstat", "brk", "clone3", "mount"};
    if (reversed) std::reverse(names.begin(), names.end());
    for (const char* n : names) rec.syscalls[kX86_64][n] = ok_call(kX86_64, n);
    add_args(rec, kX86_64, "socket", 0,
             reversed ? std::initializer_list<uint64_t>{10, 1} : std::initializer_list<uint64_t>{1, 10});
    add(rec, kX86, {"socketcall"});
    return rec;
  };
  MinimizeResult a = run(make(false), options(true));
  MinimizeResult b = run(make(true), options(true));
  MinimizeResult c = run(make(false), options(true));
  CHECK(to_docker_json(a.profile) == to_docker_json(b.profile));
  CHECK(to_docker_json(a.profile) == to_docker_json(c.profile));
  CHECK(summary_text(a) == summary_text(b));
}

TEST_CASE("a small workload keeps well under half of the template", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"execve",          "brk",   "arch_prctl", "mmap",    "access",    "openat",
                     "newfstatat",      "close", "read",       "pread64", "mprotect",  "set_tid_address",
                     "set_robust_list", "rseq",  "prlimit64",  "munmap",  "getrandom", "write",
                     "exit_group",      "fstat", "lseek",      "ioctl",   "futex",     "getdents64"});
  MinimizeResult r = run(rec, options(true));
  REQUIRE(r.template_names > 0);
  double fraction = static_cast<double>(r.allowed_names) / static_cast<double>(r.template_names);
  CHECK(fraction < 0.40);
  CHECK(r.allowed_names >= 24);
  std::string s = summary_text(r);
  CHECK_THAT(s, Catch::StartsWith(fmt::format("sctrace: allowed {} of {} syscalls the template allows (",
                                              r.allowed_names, r.template_names)));
  CHECK_THAT(s, Catch::Contains("%) on x86_64; arches: x86_64\n"));
  // Every line is ours.
  for (size_t pos = 0; pos < s.size(); pos = s.find('\n', pos) + 1) CHECK(s.compare(pos, 9, "sctrace: ") == 0);
}

TEST_CASE("the minimized profile compiles with libseccomp and answers as designed", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read", "write", "clone3", "mount"});
  add_args(rec, kX86_64, "socket", 0, {1});
  add(rec, kX86, {"read"});
  MinimizeOptions o = options(true);
  MinimizeResult r = run(rec, o);
  auto prog = compile_filter(r.profile, o.ctx, FilterMode::enforce);
  auto answer = [&](arch::Token a, const char* name, uint64_t arg0 = 0) {
    seccomp_data d{};
    d.arch = a;
    d.nr = *arch::syscall_nr(a, name);
    d.args[0] = arg0;
    return run_filter(prog, d);
  };
  CHECK(answer(kX86_64, "read") == SECCOMP_RET_ALLOW);
  CHECK(answer(kX86, "read") == SECCOMP_RET_ALLOW);
  CHECK(answer(kX86_64, "clone") == SECCOMP_RET_ALLOW);                    // fallback, thread flags pass the mask
  CHECK(answer(kX86_64, "clone", 0x10000000) == (SECCOMP_RET_ERRNO | 1));  // CLONE_NEWUSER
  CHECK(answer(kX86_64, "clone3") == (SECCOMP_RET_ERRNO | ENOSYS));
  CHECK(answer(kX86_64, "statx") == (SECCOMP_RET_ERRNO | ENOSYS));
  CHECK(answer(kX86_64, "mount") == (SECCOMP_RET_ERRNO | 1));
  CHECK(answer(kX86_64, "chmod") == (SECCOMP_RET_ERRNO | 1));
  CHECK(answer(kX86_64, "socket", 1) == SECCOMP_RET_ALLOW);
  CHECK(answer(kX86_64, "socket", 2) == (SECCOMP_RET_ERRNO | 1));
  CHECK(answer(kX86_64, "exit_group") == SECCOMP_RET_ALLOW);
}

TEST_CASE("run --unlisted log: the default action logs, the rules stay the same", "[minimizer]") {
  Recording rec;
  add(rec, kX86_64, {"read", "write", "clone3"});
  add_args(rec, kX86_64, "socket", 0, {1});
  MinimizeOptions logging = options();
  logging.unlisted = Unlisted::log;
  const MinimizeResult denying = run(rec);
  const MinimizeResult canary = run(rec, logging);
  CHECK(denying.profile.default_action == "SCMP_ACT_ERRNO");
  CHECK(canary.profile.default_action == "SCMP_ACT_LOG");
  CHECK_FALSE(canary.profile.default_errno_ret);
  // The same rules (clone3 still answered ENOSYS, socket still narrowed),
  // then one refusing what the template refuses by its default.
  REQUIRE(canary.profile.syscalls.size() == denying.profile.syscalls.size() + 1);
  const SyscallRule& refuse = canary.profile.syscalls.back();
  CHECK(refuse.action == "SCMP_ACT_ERRNO");
  CHECK(refuse.errno_ret == docker_default_template().default_errno_ret);
  for (const char* n : {"mount", "kexec_load", "unshare"}) CHECK(has_name(refuse, n));
  // Template-allowed but unrecorded: left to the default, logged.
  for (const char* n : {"getppid", "uname", "clone3", "read"}) CHECK_FALSE(has_name(refuse, n));
  for (size_t i = 0; i < denying.profile.syscalls.size(); ++i) {
    const SyscallRule& a = canary.profile.syscalls[i];
    const SyscallRule& b = denying.profile.syscalls[i];
    CHECK((a.names == b.names && a.action == b.action && a.errno_ret == b.errno_ret && a.args == b.args));
  }
  CHECK(answers_enosys(canary.profile, "clone3"));
  CHECK(unlisted_from_name("errno") == Unlisted::deny);
  CHECK(unlisted_from_name("log") == Unlisted::log);
  CHECK_THROWS_AS(unlisted_from_name("allow"), Error);
}
