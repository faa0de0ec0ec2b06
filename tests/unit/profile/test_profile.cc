#include <seccomp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"

using namespace sctrace;
using nlohmann::json;

namespace {

// The message of the Error parse_profile throws (fails the test when it does not throw
// or throws something else).
std::string parse_error(const std::string& text, const std::string& source = "template.json") {
  try {
    parse_profile(text, source);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    return e.what();
  }
  FAIL("parse_profile accepted: " << text);
  return {};
}

EvalContext x86_64_ctx(std::string kernel = "6.1.0") {
  EvalContext ctx;
  ctx.native_arch = SCMP_ARCH_X86_64;
  ctx.caps = docker_default_caps();
  ctx.kernel_release = std::move(kernel);
  return ctx;
}

SyscallRule rule_with(RuleFilter includes, RuleFilter excludes = {}) {
  SyscallRule r;
  r.names = {"read"};
  r.action = "SCMP_ACT_ALLOW";
  r.includes = std::move(includes);
  r.excludes = std::move(excludes);
  return r;
}

}  // namespace

TEST_CASE("the bundled Docker default survives parse -> to_docker_json unchanged", "[profile]") {
  std::string_view original = docker_default_template_json();
  SeccompProfile p = parse_profile(original, "docker-default.json");
  std::string out = to_docker_json(p);
  CHECK(json::parse(out) == json::parse(original));
  REQUIRE(!out.empty());
  CHECK(out.back() == '\n');
  CHECK(out.rfind("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"defaultErrnoRet\": 1,\n  \"archMap\"", 0) == 0);
  // The model itself holds what the file says.
  CHECK(p.default_errno_ret == 1u);
  REQUIRE(p.arch_map.size() >= 2);
  CHECK(p.arch_map[0].architecture == "SCMP_ARCH_X86_64");
  CHECK(p.arch_map[0].sub_architectures == std::vector<std::string>{"SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  // Writing what was read gives the same bytes again.
  CHECK(to_docker_json(parse_profile(out, "again")) == out);
  CHECK(&docker_default_template() == &docker_default_template());
  CHECK(to_docker_json(docker_default_template()) == out);
}

TEST_CASE("to_docker_json writes fields in schema order and omits empty ones", "[profile]") {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.architectures = {"SCMP_ARCH_X86_64"};
  p.flags = {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  SyscallRule r;
  r.names = {"socket"};
  r.action = "SCMP_ACT_ERRNO";
  r.errno_ret = 38;
  r.args = {ArgCond{0, 0xff, 0x2, "SCMP_CMP_MASKED_EQ"}};
  r.comment = "c";
  r.includes.min_kernel = "4.8";
  p.syscalls.push_back(r);
  std::string out = to_docker_json(p);
  auto pos = [&](const char* key) { return out.find(key); };
  CHECK(pos("\"defaultAction\"") < pos("\"architectures\""));
  CHECK(pos("\"architectures\"") < pos("\"flags\""));
  CHECK(pos("\"flags\"") < pos("\"syscalls\""));
  CHECK(pos("\"names\"") < pos("\"action\""));
  CHECK(pos("\"action\"") < pos("\"errnoRet\""));
  CHECK(pos("\"errnoRet\"") < pos("\"args\""));
  CHECK(pos("\"index\"") < pos("\"value\""));
  CHECK(pos("\"value\"") < pos("\"valueTwo\""));
  CHECK(pos("\"valueTwo\"") < pos("\"op\""));
  CHECK(pos("\"args\"") < pos("\"comment\""));
  CHECK(pos("\"comment\"") < pos("\"includes\""));
  CHECK(pos("defaultErrnoRet") == std::string::npos);
  CHECK(pos("archMap") == std::string::npos);
  CHECK(pos("listenerPath") == std::string::npos);
  CHECK(pos("excludes") == std::string::npos);
  CHECK(pos("caps") == std::string::npos);
  SeccompProfile back = parse_profile(out, "mem");
  CHECK(back.syscalls.at(0).args == r.args);
  CHECK(back.syscalls.at(0).includes == r.includes);
  CHECK(to_docker_json(back) == out);
}

TEST_CASE("parse_profile reads the OCI runtime-spec shape", "[profile]") {
  const char* oci = R"({
    "defaultAction": "SCMP_ACT_KILL_PROCESS",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "listenerPath": "/run/l.sock",
    "syscalls": [
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]
  })";
  SeccompProfile p = parse_profile(oci, "config.json");
  CHECK(p.default_action == "SCMP_ACT_KILL_PROCESS");
  CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
  CHECK(p.arch_map.empty());
  CHECK(p.listener_path == "/run/l.sock");
  REQUIRE(p.syscalls.size() == 2);
  CHECK(p.syscalls[0].args == std::vector<ArgCond>{ArgCond{0, 255, 8, "SCMP_CMP_MASKED_EQ"}});
  CHECK(p.syscalls[1].errno_ret == 13u);
  CHECK(profile_arches(p, x86_64_ctx()) == std::vector<arch::Token>{SCMP_ARCH_X86_64, SCMP_ARCH_X86});
  std::string out = to_docker_json(p);
  CHECK(out.find("\"valueTwo\": 8") != std::string::npos);
  CHECK(json::parse(out) == json::parse(oci));
}

TEST_CASE("parse_profile errors name the source and the JSON path", "[profile]") {
  CHECK_THAT(parse_error("{\"defaultAction\": ", "bad.json"), Catch::StartsWith("bad.json: invalid JSON: "));
  CHECK_THAT(parse_error("{\"defaultAction\": ", "bad.json"), !Catch::Contains("[json.exception"));
  CHECK(parse_error("[]") == "template.json: expected a JSON object, got array");
  CHECK(parse_error("{}") == "template.json: missing 'defaultAction'");
  CHECK(parse_error(R"({"defaultAction": 3})") == "template.json: defaultAction: expected a string, got number");
  CHECK(parse_error(
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]})") ==
        "template.json: syscalls[0].names: expected an array of strings, got string");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})") ==
        "template.json: defaultErrnoRet: expected a non-negative integer, got -1");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})") ==
        "template.json: syscalls[0].args[0].index: argument index 6 out of range (0-5)");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "x86_64"}]})") ==
        "template.json: archMap[0].architecture: unknown architecture 'x86_64'");
  // Names libseccomp does not resolve, wherever an arch is named.
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_BOGUS"]})") ==
        "template.json: architectures[1]: unknown architecture 'SCMP_ARCH_BOGUS'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_BOGUS"}]})") ==
        "template.json: archMap[0].architecture: unknown architecture 'SCMP_ARCH_BOGUS'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_X86_64",
        "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_BOGUS"]}]})") ==
        "template.json: archMap[0].subArchitectures[1]: unknown architecture 'SCMP_ARCH_BOGUS'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "includes": {"minKernel": "four"}}]})") ==
        "template.json: syscalls[0].includes.minKernel: invalid kernel version 'four' (expected MAJOR.MINOR)");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_FAST"]})") ==
        "template.json: flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_FAST'");
}

TEST_CASE("parse_profile rejects unknown syscall names, actions and operators", "[profile]") {
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
          {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["write", "foo"], "action": "SCMP_ACT_ALLOW"}]})") ==
        "template.json: syscalls[1].names[1]: unknown syscall name 'foo'");
  CHECK(parse_error(
            R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "bar", "action": "SCMP_ACT_ALLOW"}]})") ==
        "template.json: syscalls[0].name: unknown syscall name 'bar'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_MAYBE"})") ==
        "template.json: defaultAction: unknown action 'SCMP_ACT_MAYBE'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW"}]})") ==
        "template.json: syscalls[0].action: unknown action 'ALLOW'");
  CHECK(parse_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]})") ==
        "template.json: syscalls[0].args[0].op: unknown operator 'SCMP_CMP_ABOUT'");
  // Names that exist only on other arches are still syscall names.
  SeccompProfile p = parse_profile(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "socketcall", "action": "SCMP_ACT_ALLOW"}]})", "x");
  CHECK(p.syscalls.at(0).names == std::vector<std::string>{"socketcall"});
}

TEST_CASE("rule_applies follows moby's includes/excludes logic", "[profile]") {
  EvalContext ctx = x86_64_ctx("6.1.0-13-amd64");
  SECTION("caps") {
    CHECK_FALSE(rule_applies(rule_with({.caps = {"CAP_SYS_ADMIN"}}), ctx));
    CHECK(rule_applies(rule_with({.caps = {"CAP_SYS_CHROOT"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.caps = {"CAP_SYS_CHROOT", "CAP_SYS_ADMIN"}}), ctx));  // all needed
    CHECK(rule_applies(rule_with({}, {.caps = {"CAP_SYS_ADMIN"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({}, {.caps = {"CAP_SYS_ADMIN", "CAP_CHOWN"}}), ctx));  // any excludes
    ctx.caps.insert("CAP_SYS_ADMIN");
    CHECK(rule_applies(rule_with({.caps = {"CAP_SYS_ADMIN"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({}, {.caps = {"CAP_SYS_ADMIN"}}), ctx));
  }
  SECTION("arches use Go's names") {
    CHECK(rule_applies(rule_with({.arches = {"amd64", "x32"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.arches = {"x86_64"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.arches = {"arm", "arm64"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({}, {.arches = {"s390x", "amd64"}}), ctx));
    ctx.native_arch = SCMP_ARCH_AARCH64;
    CHECK(rule_applies(rule_with({.arches = {"arm", "arm64"}}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.arches = {"amd64"}}), ctx));
  }
  SECTION("minKernel compares major.minor numerically") {
    CHECK(rule_applies(rule_with({.min_kernel = "4.8"}), ctx));
    CHECK(rule_applies(rule_with({.min_kernel = "6.1"}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.min_kernel = "6.2"}), ctx));
    CHECK_FALSE(rule_applies(rule_with({.min_kernel = "6.10"}), ctx));
    ctx.kernel_release = "4.7.10";
    CHECK_FALSE(rule_applies(rule_with({.min_kernel = "4.8"}), ctx));
    ctx.kernel_release = "10.1";
    CHECK(rule_applies(rule_with({.min_kernel = "9.12"}), ctx));
    CHECK_FALSE(rule_applies(rule_with({}, {.min_kernel = "9.12"}), ctx));
    CHECK(rule_applies(rule_with({}, {.min_kernel = "10.2"}), ctx));
    CHECK_FALSE(rule_applies(rule_with({}, {.min_kernel = "10.1"}), ctx));  // excluded from that version on
    CHECK(rule_applies(rule_with({.min_kernel = "10.1"}), ctx));
  }
  SECTION("the Docker default under Docker's default caps") {
    const SeccompProfile& d = docker_default_template();
    auto applies_for = [&](const std::string& name) {
      for (const auto& r : d.syscalls)
        if (std::find(r.names.begin(), r.names.end(), name) != r.names.end() && rule_applies(r, ctx)) return true;
      return false;
    };
    CHECK(applies_for("read"));
    CHECK(applies_for("arch_prctl"));
    CHECK(applies_for("ptrace"));  // minKernel 4.8
    CHECK_FALSE(applies_for("mount"));
    CHECK_FALSE(applies_for("s390_runtime_instr"));
  }
}

TEST_CASE("profile_arches takes the native archMap entry, else architectures, else native", "[profile]") {
  const SeccompProfile& d = docker_default_template();
  EvalContext ctx = x86_64_ctx();
  CHECK(profile_arches(d, ctx) == std::vector<arch::Token>{SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32});
  ctx.native_arch = SCMP_ARCH_AARCH64;
  CHECK(profile_arches(d, ctx) == std::vector<arch::Token>{SCMP_ARCH_AARCH64, SCMP_ARCH_ARM});
  SeccompProfile bare = parse_profile(R"({"defaultAction": "SCMP_ACT_ERRNO"})", "x");
  CHECK(profile_arches(bare, ctx) == std::vector<arch::Token>{SCMP_ARCH_AARCH64});
  SeccompProfile flat = parse_profile(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64"]})", "x");
  CHECK(profile_arches(flat, x86_64_ctx()) == std::vector<arch::Token>{SCMP_ARCH_X86_64, SCMP_ARCH_X86});
}

TEST_CASE("embedded templates load", "[profile]") {
  EvalContext ctx = EvalContext::docker_default();
  CHECK(ctx.native_arch == arch::native());
  CHECK(ctx.caps.count("CAP_CHOWN") == 1);
  CHECK(ctx.caps.count("CAP_SYS_ADMIN") == 0);
  CHECK_FALSE(ctx.kernel_release.empty());
  CHECK(errno_policy().fallbacks.at("clone3") == std::vector<std::string>{"clone"});
  CHECK(errno_policy().enosys.count("clone3") == 1);
  CHECK(errno_policy().always_allow == std::set<std::string>{"exit", "exit_group", "restart_syscall", "rt_sigreturn"});
  const RuntimeBaseline& b = runtime_baseline();
  CHECK(b.runtime == "runc 1.1.5");
  CHECK(b.with_new_privs.count("capset") == 1);
  CHECK(b.with_no_new_privs.count("capset") == 0);
  CHECK(b.go_runtime.count("sigaltstack") == 1);
  CHECK(b.with_new_privs.count("sigaltstack") == 1);
  CHECK(b.with_no_new_privs.count("sigaltstack") == 1);
  CHECK(arg_filter_table().at("socket") == std::vector<unsigned>{0, 1, 2});
}
