// Every shape `run --format` writes reads back through parse_any_profile into
// an equivalent profile; the YAML subset reader accepts what people and
// kubectl write and refuses the rest with one line naming the line.
#include <seccomp.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <map>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "profile/emit/formats.h"
#include "profile/filter.h"
#include "profile/minimizer.h"
#include "profile/profile_input.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"
#include "profile/yaml.h"

using namespace sctrace;
using nlohmann::json;

namespace {

EvalContext x86_ctx() {
  EvalContext c;
  c.native_arch = SCMP_ARCH_X86_64;
  c.caps = docker_default_caps();
  c.kernel_release = "6.1.0";
  return c;
}

// ---- equivalence ------------------------------------------------------------
//
// Two profiles are equivalent for a container of context ctx when, after
// includes/excludes are evaluated for it:
//   - they cover the same arches (profile_arches),
//   - their default actions are the same, with the same errno (an ERRNO
//     without errnoRet answers EPERM, as runc loads it),
//   - on every covered arch the same syscall names are allowed (ALLOW/LOG
//     rules in force whose name the arch has), and the rules in force are the
//     same multiset of (name, action, errno, argument conditions),
//   - and, as the kernel would see it, the compiled filters answer every
//     syscall number of every covered arch the same for a set of argument
//     vectors (compile_filter + run_filter).
// Rule order, comments, archMap vs architectures and the split of names
// between rules do not count.

unsigned errno_of(const std::string& action, std::optional<unsigned> e) {
  return action == "SCMP_ACT_ERRNO" ? e.value_or(EPERM) : 0;
}

struct Effective {
  std::vector<std::string> arches;
  std::string default_action;
  unsigned default_errno = 0;
  std::map<std::string, std::set<std::string>> allowed;  // arch short name -> names
  std::multiset<std::tuple<std::string, std::string, unsigned, std::string>> rules;
};

Effective effective(const SeccompProfile& p, const EvalContext& ctx) {
  Effective e;
  std::vector<arch::Token> arches = profile_arches(p, ctx);
  for (auto t : arches) e.arches.push_back(arch::short_name(t));
  std::sort(e.arches.begin(), e.arches.end());
  e.default_action = p.default_action;
  e.default_errno = errno_of(p.default_action, p.default_errno_ret);
  for (const auto& r : p.syscalls) {
    if (!rule_applies(r, ctx)) continue;
    std::string args;
    for (const auto& a : r.args) args += fmt::format("{}:{}:{}:{};", a.index, a.op, a.value, a.value_two);
    for (const auto& n : r.names) {
      e.rules.emplace(n, r.action, errno_of(r.action, r.errno_ret), args);
      if (r.action != "SCMP_ACT_ALLOW" && r.action != "SCMP_ACT_LOG") continue;
      for (auto t : arches)
        if (arch::syscall_nr(t, n)) e.allowed[arch::short_name(t)].insert(n);
    }
  }
  return e;
}

// Differences, one per line; empty when equivalent.
std::string differences(const SeccompProfile& a, const SeccompProfile& b, const EvalContext& ctx) {
  std::string out;
  Effective ea = effective(a, ctx), eb = effective(b, ctx);
  if (ea.arches != eb.arches) out += fmt::format("arches {} vs {}\n", fmt::join(ea.arches, ","), fmt::join(eb.arches, ","));
  if (ea.default_action != eb.default_action || ea.default_errno != eb.default_errno)
    out += fmt::format("default {}({}) vs {}({})\n", ea.default_action, ea.default_errno, eb.default_action,
                       eb.default_errno);
  if (ea.allowed != eb.allowed) out += "allowed sets differ\n";
  if (ea.rules != eb.rules) out += "rules in force differ\n";
  if (!out.empty()) return out;

  // What the kernel would answer.
  auto fa = compile_filter(a, ctx, FilterMode::enforce), fb = compile_filter(b, ctx, FilterMode::enforce);
  const std::vector<std::array<uint64_t, 6>> argv = {
      {0, 0, 0, 0, 0, 0}, {0xffffffff, 1, 2, 3, 4, 5}, {16, 3, 0, 0, 0, 0}, {0x7E020000, 0, 0, 0, 0, 0}, {8, 8, 8, 8, 8, 8}};
  for (auto t : profile_arches(a, ctx)) {
    seccomp_data d{};
    uint32_t base = 0;
    d.arch = t;
    if (t == SCMP_ARCH_X32) d.arch = SCMP_ARCH_X86_64, base = arch::kX32SyscallBit;
    for (uint32_t nr = 0; nr < 560; ++nr) {
      d.nr = static_cast<int>(base + nr);
      for (const auto& args : argv) {
        std::copy(args.begin(), args.end(), d.args);
        uint32_t ra = run_filter(fa, d), rb = run_filter(fb, d);
        if (ra != rb) return fmt::format("{} nr {} arg0 {:#x}: {:#x} vs {:#x}\n", arch::short_name(t), nr, args[0], ra, rb);
      }
    }
  }
  return out;
}

// ---- the profiles -----------------------------------------------------------

SeccompProfile minimized_profile() {
  const EvalContext ctx = x86_ctx();
  Recording rec;
  auto call = [&](arch::Token a, const std::string& name) -> SyscallRecord& {
    SyscallRecord& r = rec.syscalls[a][name];
    r.nr = arch::syscall_nr(a, name).value_or(-1);
    r.count = 1;
    r.ok = 1;
    r.first_pid = 100;
    return r;
  };
  for (const char* n : {"read", "write", "openat", "close", "mmap", "clone3", "execve", "arch_prctl"})
    call(SCMP_ARCH_X86_64, n);
  call(SCMP_ARCH_X86_64, "socket").args[0].add(1);  // AF_UNIX: an argument rule
  call(SCMP_ARCH_X86_64, "socket").args[0].add(10);
  call(SCMP_ARCH_X86_64, "personality").args[0].add(0);
  call(SCMP_ARCH_X86_64, "clone").args[0].add(0x11);
  call(SCMP_ARCH_X86, "write");  // a sub-arch
  MinimizeOptions o;
  o.ctx = ctx;
  o.add_runtime_baseline = true;
  return minimize(rec, docker_default_template(), o).profile;
}

// errno values everywhere, several actions, flags, a flat arch list.
SeccompProfile errno_profile() {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EACCES;
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  p.flags = {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto rule = [](std::vector<std::string> names, std::string action, std::optional<unsigned> e = std::nullopt) {
    SyscallRule r;
    r.names = std::move(names);
    r.action = std::move(action);
    r.errno_ret = e;
    return r;
  };
  p.syscalls = {rule({"read", "write", "exit_group", "exit", "rt_sigreturn"}, "SCMP_ACT_ALLOW"),
                rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS),
                rule({"mkdir"}, "SCMP_ACT_ERRNO", 0),
                rule({"unlink"}, "SCMP_ACT_ERRNO"),
                rule({"openat"}, "SCMP_ACT_LOG"),
                rule({"ptrace"}, "SCMP_ACT_KILL_PROCESS"),
                rule({"kill"}, "SCMP_ACT_TRAP")};
  SyscallRule pers = rule({"personality"}, "SCMP_ACT_ALLOW");
  pers.args = {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}};
  SyscallRule masked = rule({"clone"}, "SCMP_ACT_ALLOW");
  masked.args = {{0, 0x7E020000, 0, "SCMP_CMP_MASKED_EQ"}};
  SyscallRule gated = rule({"mount"}, "SCMP_ACT_ALLOW");  // evaluated away: no CAP_SYS_ADMIN
  gated.includes.caps = {"CAP_SYS_ADMIN"};
  SyscallRule excluded = rule({"chown"}, "SCMP_ACT_ERRNO", EROFS);
  excluded.excludes.caps = {"CAP_CHOWN"};  // Docker's default caps have it: gone
  p.syscalls.push_back(pers);
  p.syscalls.push_back(masked);
  p.syscalls.push_back(gated);
  p.syscalls.push_back(excluded);
  return p;
}

std::string error_of(std::string_view text, std::string_view source = "in") {
  try {
    parse_any_profile(text, source);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  }
  FAIL("accepted: " << text);
  return {};
}

std::string yaml_error(std::string_view text) {
  try {
    parse_yaml(text, "y.yaml");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  }
  FAIL("parse_yaml accepted: " << text);
  return {};
}

}  // namespace

TEST_CASE("every format sctrace writes reads back to an equivalent profile", "[profile_shapes]") {
  const EvalContext ctx = x86_ctx();
  const std::vector<std::pair<std::string, SeccompProfile>> profiles = {
      {"docker default", docker_default_template()}, {"minimized", minimized_profile()}, {"errno", errno_profile()}};
  for (const auto& [label, p] : profiles) {
    for (const char* f : {"docker", "podman", "oci", "k8s"}) {
      const ProfileFormat format = profile_format_from_name(f);
      const std::string out = format == ProfileFormat::k8s ? "out/p.yaml" : "out/p.json";
      std::vector<std::string> notes;
      for (const auto& file : format_profile(p, ctx, format, out, &notes)) {
        INFO(label << ", --format " << f << ", " << file.path);
        ProfileInput in = parse_any_profile(file.text, file.path);
        CHECK(in.yaml == (file.path == "out/p.yaml"));
        if (format == ProfileFormat::oci) CHECK(in.shape == ProfileShape::oci);
        if (format == ProfileFormat::k8s && in.yaml) CHECK(in.shape == ProfileShape::k8s);
        if (format <= ProfileFormat::podman) CHECK(in.shape == ProfileShape::docker);
        std::string diff = differences(p, in.profile, ctx);
        // SPO has no defaultErrnoRet: the YAML's default answers EPERM, and
        // format_profile said so.
        if (in.shape == ProfileShape::k8s && p.default_errno_ret.value_or(EPERM) != EPERM) {
          CHECK(diff == fmt::format("default SCMP_ACT_ERRNO({}) vs SCMP_ACT_ERRNO({})\n", *p.default_errno_ret, EPERM));
          CHECK(notes.size() == 1);
          SeccompProfile fixed = in.profile;
          fixed.default_errno_ret = p.default_errno_ret;
          CHECK(differences(p, fixed, ctx).empty());
        } else {
          CHECK(diff.empty());
        }
      }
    }
    // The same OCI object inside a runtime-spec config.json, and the k8s
    // resource as kubectl get -o json prints it.
    INFO(label);
    json config = {{"ociVersion", "1.0.2"},
                   {"process", {{"args", {"/bin/true"}}}},
                   {"linux", {{"namespaces", json::array()}, {"seccomp", to_oci_seccomp(p, ctx)}}}};
    ProfileInput from_config = parse_any_profile(config.dump(2), "config.json");
    CHECK(from_config.shape == ProfileShape::oci_config);
    CHECK(differences(p, from_config.profile, ctx).empty());
    json k8s = parse_yaml(to_k8s_yaml(p, ctx, "p"), "p.yaml");
    k8s["status"] = {{"status", "Installed"}, {"localhostProfile", "operator/default/p.json"}};
    ProfileInput from_k8s_json = parse_any_profile(k8s.dump(4), "p.json");
    CHECK(from_k8s_json.shape == ProfileShape::k8s);
    CHECK_FALSE(from_k8s_json.yaml);
    CHECK(to_docker_json(from_k8s_json.profile) ==
          to_docker_json(parse_any_profile(to_k8s_yaml(p, ctx, "p"), "p.yaml").profile));
  }
}

TEST_CASE("the equivalence check sees a real difference", "[profile_shapes]") {
  const EvalContext ctx = x86_ctx();
  SeccompProfile a = errno_profile(), b = errno_profile();
  CHECK(differences(a, b, ctx).empty());
  b.syscalls[1].errno_ret = EPERM;  // clone3 answers EPERM instead of ENOSYS
  CHECK(differences(a, b, ctx) == "rules in force differ\n");
  b = a;
  b.syscalls[0].names.push_back("getpid");
  CHECK(differences(a, b, ctx) == "allowed sets differ\nrules in force differ\n");
  b = a;
  b.architectures.pop_back();
  CHECK(differences(a, b, ctx).rfind("arches ", 0) == 0);
  b = a;
  b.syscalls[7].args[0].value = 0;  // personality(0) instead of personality(0xffffffff)
  CHECK(differences(a, b, ctx) == "rules in force differ\n");
}

TEST_CASE("the Docker JSON path is unchanged, messages included", "[profile_shapes]") {
  const std::string text = to_docker_json(docker_default_template());
  ProfileInput in = parse_any_profile(text, "d.json");
  CHECK(in.shape == ProfileShape::docker);
  CHECK(to_docker_json(in.profile) == text);
  for (const char* bad : {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["nope"], "action": "SCMP_ACT_ALLOW"}]})",
                          "{\"defaultAction\": ", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1e400})"}) {
    std::string expected;
    try {
      parse_profile(bad, "d.json");
    } catch (const Error& e) {
      expected = e.what();
    }
    CHECK(error_of(bad, "d.json") == expected);
  }
}

TEST_CASE("k8s resources: kind, apiVersion, spec and errnoRet as a string", "[profile_shapes]") {
  // What a person writes by hand: comments, '---', plain and quoted scalars,
  // flow sequences, errnoRet as SPO's string and as a number.
  const char* human = R"(# allow the basics
---
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: my-profile   # DNS-1123
  namespace: 'default'
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"security-profiles-operator.x-k8s.io/v1beta1",
       "kind":"SeccompProfile"}
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures: [SCMP_ARCH_X86_64, "SCMP_ARCH_X86"]
  syscalls:
    - action: SCMP_ACT_ALLOW
      names: [read, write, exit_group]
    - action: "SCMP_ACT_ERRNO"
      errnoRet: "38"
      names:
        - clone3
    - action: SCMP_ACT_ERRNO
      errnoRet: 13
      names:
      - mkdir
    - action: SCMP_ACT_ALLOW
      names: [personality]
      args:
      - {index: 0, value: 0xffffffff, valueTwo: 0, op: SCMP_CMP_EQ}
status:
  status: Installed
...
)";
  ProfileInput in = parse_any_profile(human, "human.yaml");
  CHECK(in.shape == ProfileShape::k8s);
  CHECK(in.yaml);
  const SeccompProfile& p = in.profile;
  CHECK(p.default_action == "SCMP_ACT_ERRNO");
  CHECK(p.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
  REQUIRE(p.syscalls.size() == 4);
  CHECK(p.syscalls[0].names == std::vector<std::string>{"read", "write", "exit_group"});
  CHECK(p.syscalls[1].errno_ret == 38u);
  CHECK(p.syscalls[2].errno_ret == 13u);
  CHECK(p.syscalls[3].args == std::vector<ArgCond>{ArgCond{0, 0xffffffff, 0, "SCMP_CMP_EQ"}});

  const std::string head = "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n";
  CHECK_THAT(error_of("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n", "pod.yaml"),
             Catch::StartsWith("pod.yaml: kind \"Pod\" (apiVersion \"v1\"): expected a SeccompProfile resource"));
  CHECK_THAT(error_of("apiVersion: apps/v1\nkind: SeccompProfile\nspec: {defaultAction: SCMP_ACT_ALLOW}\n"),
             Catch::Contains("expected a SeccompProfile resource"));
  CHECK(error_of(head, "k.yaml") == "k.yaml: SeccompProfile without a spec");
  CHECK(error_of(head + "spec:\n  syscalls: []\n", "k.yaml") == "k.yaml: spec: missing 'defaultAction'");
  CHECK(error_of(head + "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ERRNO\n"
                        "    errnoRet: \"x1\"\n    names: [read]\n",
                 "k.yaml") == "k.yaml: spec.syscalls[0].errnoRet: expected an errno number, got \"x1\"");
  CHECK(error_of(head + "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ERRNO\n"
                        "    errnoRet: \"99999999999\"\n    names: [read]\n") ==
        "in: spec.syscalls[0].errnoRet: expected an errno number, got \"99999999999\"");
  CHECK(error_of(head + "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ALLOW\n"
                        "    names: [no_such_call]\n",
                 "k.yaml") == "k.yaml: spec: syscalls[0].names[0]: unknown syscall name 'no_such_call'");
  CHECK_THAT(error_of(head + "spec:\n  defaultAction: SCMP_ACT_ERRNO\n  baseProfileName: runc-v1.1.0\n"),
             Catch::Contains("spec.baseProfileName \"runc-v1.1.0\""));
  ProfileInput disabled = parse_any_profile(head + "spec:\n  defaultAction: SCMP_ACT_LOG\n  disabled: true\n", "d.yaml");
  CHECK(disabled.notes.size() == 1);
  // Docker itself refuses a string errnoRet: so does the Docker shape.
  CHECK_THAT(error_of(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action":
      "SCMP_ACT_ERRNO", "errnoRet": "1"}]})"),
             Catch::Contains("errnoRet: expected a non-negative integer, got string"));
}

TEST_CASE("runtime-spec config.json and unknown shapes", "[profile_shapes]") {
  CHECK(error_of(R"({"ociVersion": "1.0.2", "linux": {"namespaces": []}})", "config.json") ==
        "config.json: a runtime-spec config.json without linux.seccomp: nothing to read (that container runs without "
        "a seccomp filter)");
  CHECK_THAT(error_of(R"({"ociVersion": "1.0.2", "linux": {"seccomp": {"syscalls": []}}})", "config.json"),
             Catch::StartsWith("config.json: linux.seccomp: missing 'defaultAction'"));
  CHECK_THAT(error_of(R"({"ociVersion": "1.0.2", "linux": {"seccomp": [1]}})", "config.json"),
             Catch::StartsWith("config.json: linux.seccomp: expected an object"));
  ProfileInput in = parse_any_profile(
      R"({"ociVersion": "1.0.2", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
          "architectures": ["SCMP_ARCH_X86_64"], "listenerPath": "/run/x.sock",
          "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}}})",
      "config.json");
  CHECK(in.shape == ProfileShape::oci_config);
  CHECK(in.profile.listener_path == "/run/x.sock");
  CHECK(in.profile.syscalls.at(0).names == std::vector<std::string>{"ptrace"});

  const std::string expected =
      "expected a seccomp profile: Docker/OCI (defaultAction), a runtime-spec config.json (linux.seccomp) or a "
      "SeccompProfile resource (kind: SeccompProfile)";
  CHECK(error_of(R"({"foo": 1})", "x.json") == "x.json: " + expected);
  CHECK(error_of("foo: 1\n", "x.yaml") == "x.yaml: " + expected);
  CHECK(error_of("[1, 2]", "x.json") == "x.json: a JSON array document: " + expected);
  CHECK(error_of("just words\n", "x.yaml") == "x.yaml: a YAML string document: " + expected);
  CHECK(error_of(" \n\t\n", "x") == "x: empty file: " + expected);
  CHECK(error_of("# only a comment\n", "x") == "x: a YAML null document: " + expected);
  // A Docker profile may be written in YAML too.
  ProfileInput y = parse_any_profile("defaultAction: SCMP_ACT_ERRNO\nsyscalls:\n- names: [read]\n  action: SCMP_ACT_ALLOW\n",
                                     "d.yaml");
  CHECK(y.shape == ProfileShape::docker);
  CHECK(y.profile.syscalls.at(0).names == std::vector<std::string>{"read"});
}

TEST_CASE("yaml: the subset people and kubectl write", "[profile_shapes][yaml]") {
  CHECK(parse_yaml("a: 1\nb: -2\nc: 0x1f\nd: 1.5\ne: ~\nf: null\ng: true\nh: False\ni: text with spaces  # c\n"
                   "j: 'it''s'\nk: \"tab\\there \\u00e9 \\x41\"\nl:\nm: 18446744073709551615\n",
                   "t") == json::parse(R"({"a": 1, "b": -2, "c": 31, "d": 1.5, "e": null, "f": null, "g": true,
          "h": false, "i": "text with spaces", "j": "it's", "k": "tab\there é A", "l": null,
          "m": 18446744073709551615})"));
  CHECK(parse_yaml("a: 1", "t")["a"].is_number_unsigned());
  // Sequences at the key's indentation (kubectl) and indented (people).
  CHECK(parse_yaml("a:\n- x\n- w\nb:\n  - z\nc: [p, 'q', \"r\", 1, [2, 3], {k: v}]\nd: []\ne: {}\n", "t") ==
        json::parse(R"({"a": ["x", "w"], "b": ["z"], "c": ["p", "q", "r", 1, [2, 3], {"k": "v"}], "d": [], "e": {}})"));
  // Sequence entries that are mappings, nested sequences, entries on the next line.
  CHECK(parse_yaml("- a: 1\n  b: [x]\n-   c: 2\n- - 1\n  - 2\n-\n  d: 3\n-\n", "t") ==
        json::parse(R"([{"a": 1, "b": ["x"]}, {"c": 2}, [1, 2], {"d": 3}, null])"));
  // Keys: quoted, with ':' inside (managedFields), odd but legal plain keys.
  CHECK(parse_yaml("\"x y\": 1\n'z': 2\nf:spec: {}\nk:{\"n\":1}: 3\n.: 4\n", "t") ==
        json::parse(R"({"x y": 1, "z": 2, "f:spec": {}, "k:{\"n\":1}": 3, ".": 4})"));
  // Literal block scalars with each chomping, CRLF, BOM, comments everywhere.
  CHECK(parse_yaml("a: |\n  l1\n\n   l2\nb: |-\n  x\n\nc: |+\n  y\n\nd: 1\n", "t") ==
        json::parse(R"({"a": "l1\n\n l2\n", "b": "x", "c": "y\n\n", "d": 1})"));
  CHECK(parse_yaml("\xEF\xBB\xBF# c\r\n---   # start\r\na:   # c\r\n  - 1 # c\r\n\r\n  # c\r\n  - 2\r\n...\r\n", "t") ==
        json::parse(R"({"a": [1, 2]})"));
  CHECK(parse_yaml("", "t").is_null());
  CHECK(parse_yaml("'a # not a comment': \"b # neither\"\n", "t") ==
        json::parse(R"({"a # not a comment": "b # neither"})"));
  CHECK(parse_yaml("url: http://x/y#z\n", "t") == json::parse(R"({"url": "http://x/y#z"})"));
}

TEST_CASE("yaml: everything outside the subset is refused with its line", "[profile_shapes][yaml]") {
  CHECK(yaml_error("a:\n\tb: 1\n") == "y.yaml: line 2: tab used for indentation (YAML indents with spaces only)");
  CHECK(yaml_error("a: 1\n  \tb: 1\n") == "y.yaml: line 2: tab used for indentation (YAML indents with spaces only)");
  CHECK(yaml_error("a: &x 1\nb: *x\n") == "y.yaml: line 1: anchors ('&') are not supported");
  CHECK(yaml_error("a: 1\nb: *x\n") == "y.yaml: line 2: aliases ('*') are not supported");
  CHECK(yaml_error("a: !!str 1\n") == "y.yaml: line 1: tags ('!') are not supported");
  CHECK(yaml_error("a: 1\n---\nb: 2\n") == "y.yaml: line 2: several YAML documents in one file are not supported");
  CHECK(yaml_error("%YAML 1.2\n---\na: 1\n") == "y.yaml: line 1: directives (%YAML, %TAG) are not supported");
  CHECK(yaml_error("a: >\n  folded\n") ==
        "y.yaml: line 1: folded block scalars ('>') are not supported (use '|' or a quoted string)");
  CHECK(yaml_error("? a\n: 1\n") == "y.yaml: line 1: complex keys ('?') are not supported");
  CHECK(yaml_error("a: 1\nb: 2\na: 3\n") == "y.yaml: line 3: duplicate key \"a\"");
  CHECK(yaml_error("a: [1, 2\n  , 3]\n") ==
        "y.yaml: line 1: '[' not closed on its line (multi-line flow collections are not supported)");
  CHECK(yaml_error("a: \"open\n  close\"\n") ==
        "y.yaml: line 1: unterminated double-quoted string (quoted scalars must end on their line)");
  CHECK(yaml_error("a: plain\n  continued\n") == "y.yaml: line 2: unexpected indentation");
  CHECK(yaml_error("a: b: c\n") ==
        "y.yaml: line 1: ': ' inside a value (quote the value; a nested mapping starts on the next line)");
  CHECK(yaml_error("a: - b\n") ==
        "y.yaml: line 1: a block sequence cannot start on the line of its key (put it on the next line)");
  CHECK(yaml_error("a:\n  - 1\n  b: 2\n") == "y.yaml: line 3: unexpected indentation");
  CHECK(yaml_error("- 1\nb: 2\n") == "y.yaml: line 2: unexpected content (indentation?)");
  CHECK(yaml_error("a: 1\n- 2\n") == "y.yaml: line 2: a sequence entry where 'key: value' was expected");
  CHECK(yaml_error("a: 010\n") ==
        "y.yaml: line 1: '010' is octal in YAML 1.1 and decimal in 1.2: drop the leading zeros or quote it");
  CHECK(yaml_error("a: yes\n") ==
        "y.yaml: line 1: 'yes' is a boolean in YAML 1.1 and a string in 1.2: quote it or write true/false");
  CHECK(yaml_error("a: 1_000\n").find("line 1: '1_000' is a number in YAML 1.1") != std::string::npos);
  CHECK(yaml_error("a: 1e400\n") == "y.yaml: line 1: number 1e400 out of range");
  CHECK(yaml_error("a: 18446744073709551616\n") == "y.yaml: line 1: integer 18446744073709551616 out of range");
  CHECK(yaml_error("a: -9223372036854775809\n") == "y.yaml: line 1: integer -9223372036854775809 out of range");
  CHECK(yaml_error("a: .nan\n") == "y.yaml: line 1: '.nan': infinities and NaN are not supported");
  CHECK(yaml_error("a: \"\\q\"\n") == "y.yaml: line 1: unknown escape '\\q' in a double-quoted string");
  CHECK(yaml_error("a: \"\\ud800\"\n") == "y.yaml: line 1: escape '\\ud800' is not a character");
  CHECK(yaml_error("a: \"x\" y\n") == "y.yaml: line 1: unexpected \"y\" after the value");
  CHECK(yaml_error("a: b\x01\n") == "y.yaml: line 1: control character 0x01");
  CHECK(yaml_error("a: 1\nb: \xC3\x28\n") == "y.yaml: line 2: invalid UTF-8");
  CHECK(yaml_error("a: |2\n  x\n") == "y.yaml: line 1: indentation indicators on block scalars are not supported");
  CHECK(yaml_error("a: 1\n...\nb: 2\n") == "y.yaml: line 3: content after the document end '...' (one document only)");
  CHECK(yaml_error("--- a: 1\n") ==
        "y.yaml: line 1: content on the '---' line is not supported (start the document on the next line)");
  CHECK(yaml_error("-\tx\n") == "y.yaml: line 1: tab after '-' (YAML indents with spaces only)");
}

TEST_CASE("bad inputs give Error(input), never a crash", "[profile_shapes][fuzz]") {
  const EvalContext ctx = x86_ctx();
  SeccompProfile p = errno_profile();
  const std::string yaml = to_k8s_yaml(p, ctx, "p");
  const std::string oci = to_oci_json(p, ctx);
  // Every truncation of the YAML and of the JSON: a profile or Error(input).
  size_t accepted = 0;
  for (const std::string* text : {&yaml, &oci}) {
    for (size_t n = 0; n < text->size(); ++n) {
      try {
        parse_any_profile(std::string_view(*text).substr(0, n), "cut");
        ++accepted;
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::input);
      }
    }
  }
  CHECK(accepted > 0);  // cut after a whole rule: a smaller valid profile
  // Cut inside a quoted scalar: an error naming the line.
  const size_t cut = yaml.find("\"SCMP_ACT_KILL_PROCESS\"") + 5;
  size_t line = 1 + static_cast<size_t>(std::count(yaml.begin(), yaml.begin() + static_cast<long>(cut), '\n'));
  CHECK(error_of(std::string_view(yaml).substr(0, cut), "t.yaml") ==
        fmt::format("t.yaml: line {}: unterminated double-quoted string (quoted scalars must end on their line)", line));

  // Deep nesting, in every syntax.
  std::string deep_flow(5000, '['), deep_json(100000, '[');
  CHECK_THAT(error_of("a:\n" + std::string(3000, ' ')), Catch::Contains("expected a seccomp profile"));
  std::string dashes;
  for (int i = 0; i < 3000; ++i) dashes += "- ";
  CHECK_THAT(error_of(dashes + "x\n"), Catch::Contains("line 1: nesting deeper than 64 levels"));
  CHECK_THAT(error_of("a: " + deep_flow + "\n"), Catch::Contains("line 1: nesting deeper than 64 levels"));
  std::string deep_map;
  for (int i = 0; i < 2000; ++i) deep_map += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  CHECK_THAT(error_of(deep_map), Catch::Contains("nesting deeper than 64 levels"));
  CHECK_THAT(error_of(deep_json), Catch::StartsWith("in: invalid JSON: "));
  std::string deep_inside = R"({"ociVersion": "1", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "x": )" +
                            std::string(50000, '[') + std::string(50000, ']') + "}}}";
  CHECK(error_of(deep_inside, "c.json") == "c.json: nested deeper than 32 levels: not a seccomp profile");
  CHECK(error_of("{\"kind\": " + std::string(60000, '[') + std::string(60000, ']') + "}", "k.json") ==
        "k.json: nested deeper than 32 levels: not a seccomp profile");
  // A name holding a line break still makes a one-line message.
  CHECK(error_of("defaultAction: SCMP_ACT_ERRNO\nsyscalls:\n- names: [\"a\\nb\"]\n  action: SCMP_ACT_ALLOW\n", "n.yaml") ==
        "n.yaml: profile: syscalls[0].names[0]: unknown syscall name 'a\\x0ab'");
  // Huge numbers.
  CHECK(error_of("defaultAction: SCMP_ACT_ERRNO\ndefaultErrnoRet: 1e400\n", "h.yaml") ==
        "h.yaml: line 2: number 1e400 out of range");
  CHECK(error_of("defaultAction: SCMP_ACT_ERRNO\ndefaultErrnoRet: 4294967296\n", "h.yaml") ==
        "h.yaml: profile: defaultErrnoRet: value 4294967296 out of range");
  CHECK_THAT(error_of(R"({"kind": "SeccompProfile", "apiVersion": "security-profiles-operator.x-k8s.io/v1beta1",
                          "spec": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1e400}})"),
             Catch::StartsWith("in: invalid JSON: "));
  // Wrong types where the schema wants something else.
  CHECK_THAT(error_of("kind: SeccompProfile\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\nspec: [1]\n"),
             Catch::Contains("spec: expected an object, got array"));
  CHECK_THAT(error_of("kind: [SeccompProfile]\n"), Catch::Contains("kind array"));
}
