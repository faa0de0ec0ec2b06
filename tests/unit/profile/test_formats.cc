#include <seccomp.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "profile/emit/formats.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"
#include "tests/unit/unit_helpers.h"

using namespace sctrace;
using nlohmann::json;

namespace {

// Docker-style profile: archMap, a rule gated on a capability the context
// lacks, one on a capability it has, arg conditions, an errnoRet rule.
SeccompProfile sample_profile() {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  p.arch_map = {{"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}}};
  SyscallRule allow;
  allow.names = {"read", "write", "exit_group"};
  allow.action = "SCMP_ACT_ALLOW";
  SyscallRule admin;
  admin.names = {"mount"};
  admin.action = "SCMP_ACT_ALLOW";
  admin.includes.caps = {"CAP_SYS_ADMIN"};
  SyscallRule chown;
  chown.names = {"chown"};
  chown.action = "SCMP_ACT_ALLOW";
  chown.includes.caps = {"CAP_CHOWN"};
  SyscallRule personality;
  personality.names = {"personality"};
  personality.action = "SCMP_ACT_ALLOW";
  personality.args = {{0, 0xffffffff, 0, "SCMP_CMP_EQ"}};
  SyscallRule clone3;
  clone3.names = {"clone3"};
  clone3.action = "SCMP_ACT_ERRNO";
  clone3.errno_ret = ENOSYS;
  SyscallRule masked;
  masked.names = {"clone"};
  masked.action = "SCMP_ACT_ALLOW";
  masked.args = {{0, 0x7E020000, 0, "SCMP_CMP_MASKED_EQ"}};
  p.syscalls = {allow, admin, chown, personality, clone3, masked};
  return p;
}

EvalContext x86_ctx() {
  EvalContext c;
  c.native_arch = SCMP_ARCH_X86_64;
  c.caps = {"CAP_CHOWN"};
  c.kernel_release = "6.1.0";
  return c;
}

std::set<std::string> rule_names(const json& syscalls) {
  std::set<std::string> out;
  for (const auto& r : syscalls)
    for (const auto& n : r.at("names")) out.insert(n.get<std::string>());
  return out;
}

// A tiny reader for the YAML subset to_k8s_yaml writes (block maps and
// sequences, JSON-quoted strings, integers): enough to check its shape
// without a YAML library.
struct YamlLine {
  int indent;
  bool item;
  std::string key, value;
};
std::vector<YamlLine> yaml_lines(const std::string& text) {
  std::vector<YamlLine> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.empty() || l[0] == '#') continue;
    YamlLine y{};
    size_t i = l.find_first_not_of(' ');
    y.indent = static_cast<int>(i);
    std::string rest = l.substr(i);
    if (rest.rfind("- ", 0) == 0) {
      y.item = true;
      rest = rest.substr(2);
    }
    size_t colon = rest.find(": ");
    if (rest.back() == ':') {
      y.key = rest.substr(0, rest.size() - 1);
    } else if (colon != std::string::npos && rest[0] != '"') {
      y.key = rest.substr(0, colon);
      y.value = rest.substr(colon + 2);
    } else {
      y.value = rest;
    }
    out.push_back(y);
  }
  return out;
}

}  // namespace

TEST_CASE("oci: runtime-spec linux.seccomp as Docker hands it to runc", "[formats]") {
  json oci = json::parse(to_oci_json(sample_profile(), x86_ctx()));
  CHECK(oci.at("defaultAction") == "SCMP_ACT_ERRNO");
  CHECK(oci.at("defaultErrnoRet") == EPERM);
  // archMap resolved for the native arch only.
  CHECK(oci.at("architectures") == json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  CHECK_FALSE(oci.contains("archMap"));
  // includes evaluated: CAP_SYS_ADMIN missing, CAP_CHOWN present.
  std::set<std::string> names = rule_names(oci.at("syscalls"));
  CHECK(names.count("mount") == 0);
  CHECK(names.count("chown") == 1);
  CHECK(names.count("read") == 1);
  for (const auto& r : oci.at("syscalls")) {
    // Only runtime-spec fields.
    for (const auto& [k, v] : r.items()) {
      INFO(k);
      CHECK(std::set<std::string>{"names", "action", "errnoRet", "args"}.count(k) == 1);
    }
    if (r.at("names") == json({"clone3"})) CHECK(r.at("errnoRet") == ENOSYS);
    if (r.at("names") == json({"clone"})) {
      REQUIRE(r.at("args").size() == 1);
      const json& a = r.at("args")[0];
      CHECK(a.at("index") == 0);
      CHECK(a.at("value") == 0x7E020000);
      CHECK(a.at("valueTwo") == 0);
      CHECK(a.at("op") == "SCMP_CMP_MASKED_EQ");
    }
  }
  // A flat `architectures` list is passed through (normalized to SCMP names).
  SeccompProfile flat = sample_profile();
  flat.arch_map.clear();
  flat.architectures = {"x86_64", "SCMP_ARCH_X86"};
  CHECK(to_oci_seccomp(flat, x86_ctx()).at("architectures") == json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  // Neither: no architectures field (the runtime filters the native arch).
  flat.architectures.clear();
  CHECK_FALSE(to_oci_seccomp(flat, x86_ctx()).contains("architectures"));
}

TEST_CASE("oci: the bundled Docker default converts with Docker's default capabilities", "[formats]") {
  EvalContext ctx = EvalContext::docker_default();
  json oci = to_oci_seccomp(docker_default_template(), ctx);
  std::set<std::string> names = rule_names(oci.at("syscalls"));
  CHECK(names.count("read") == 1);
  CHECK(names.count("bpf") == 0);  // CAP_SYS_ADMIN / CAP_BPF only
  CHECK(oci.at("syscalls").size() < docker_default_template().syscalls.size());
}

TEST_CASE("k8s: a security-profiles-operator SeccompProfile", "[formats]") {
  std::vector<std::string> notes;
  const std::string y = to_k8s_yaml(sample_profile(), x86_ctx(), "my-app", &notes);
  CHECK(notes.empty());
  std::vector<YamlLine> lines = yaml_lines(y);
  REQUIRE(lines.size() > 6);
  CHECK((lines[0].indent == 0 && lines[0].key == "apiVersion" &&
         lines[0].value == "security-profiles-operator.x-k8s.io/v1beta1"));
  CHECK((lines[1].key == "kind" && lines[1].value == "SeccompProfile"));
  CHECK((lines[2].key == "metadata" && lines[3].key == "name" && lines[3].value == "\"my-app\""));
  CHECK(lines[4].key == "spec");
  // Top-level keys: exactly these; spec keys: SPO's SeccompProfileSpec fields.
  std::set<std::string> top, spec_keys, rule_keys, arg_keys;
  std::vector<std::string> arches;
  std::string section;
  for (const auto& l : lines) {
    if (l.indent == 0) {
      top.insert(l.key);
      section = l.key;
    } else if (l.indent == 2 && !l.item) {
      if (section != "metadata") spec_keys.insert(l.key);
      if (section == "metadata") continue;
      section = l.key == "architectures" ? "spec.architectures" : "spec";
    } else if (section == "spec.architectures" && l.item) {
      arches.push_back(l.value);
    } else if (l.indent == 2 && l.item) {
      rule_keys.insert(l.key);  // first key of a syscalls item
    } else if (l.indent == 4 && !l.item) {
      rule_keys.insert(l.key);
    } else if (l.indent == 4 && l.item && !l.key.empty()) {
      arg_keys.insert(l.key);
    } else if (l.indent == 6) {
      arg_keys.insert(l.key);
    }
  }
  CHECK(top == std::set<std::string>{"apiVersion", "kind", "metadata", "spec"});
  CHECK(spec_keys == std::set<std::string>{"defaultAction", "architectures", "syscalls"});
  CHECK(arches == std::vector<std::string>{"\"SCMP_ARCH_X86_64\"", "\"SCMP_ARCH_X86\"", "\"SCMP_ARCH_X32\""});
  CHECK(rule_keys == std::set<std::string>{"action", "errnoRet", "names", "args"});
  CHECK(arg_keys == std::set<std::string>{"index", "value", "valueTwo", "op"});
  // errnoRet is a string in SPO's schema; rules the context excludes are gone.
  CHECK(y.find("errnoRet: \"38\"") != std::string::npos);
  CHECK(y.find("\"mount\"") == std::string::npos);
  CHECK(y.find("\"chown\"") != std::string::npos);
  CHECK(y.find("defaultErrnoRet") == std::string::npos);

  // A defaultErrnoRet SPO cannot carry is reported.
  SeccompProfile p = sample_profile();
  p.default_errno_ret = ENOSYS;
  notes.clear();
  to_k8s_yaml(p, x86_ctx(), "x", &notes);
  CHECK(notes.size() == 1);
}

TEST_CASE("k8s: resource name and the plain profile beside it", "[formats]") {
  CHECK(k8s_name_for("out/My_Profile.yaml") == "my-profile");
  CHECK(k8s_name_for("seccomp-profile.json") == "seccomp-profile");
  CHECK(k8s_name_for("__.yaml") == "sctrace-profile");
  CHECK(k8s_name_for("a.b.yml") == "a.b");
  CHECK(k8s_localhost_path("out/app.yaml") == "out/app.json");
  CHECK(k8s_localhost_path("out/app.yml") == "out/app.json");
  CHECK(k8s_localhost_path("out/app") == "out/app.json");
  CHECK(k8s_localhost_path("app.json") == "app.json.json");
  // What the hardened `docker run` names: never the YAML.
  CHECK(docker_readable_path("k8s", "out/app.yaml") == "out/app.json");
  CHECK(docker_readable_path("oci", "out/app.json") == "out/app.json");
  CHECK(docker_readable_path("docker", "p.json") == "p.json");
  CHECK_THROWS(docker_readable_path("yaml", "p.json"));

  auto files = format_profile(sample_profile(), x86_ctx(), ProfileFormat::k8s, "d/app.yaml");
  REQUIRE(files.size() == 2);
  CHECK(files[0].path == "d/app.yaml");
  CHECK(files[1].path == "d/app.json");
  // The plain one is the Docker format, loadable again.
  SeccompProfile back = parse_profile(files[1].text, "k8s plain");
  CHECK(back.syscalls.size() == sample_profile().syscalls.size());
  CHECK(profile_paths("k8s", "d/app.yaml") == std::vector<std::string>{"d/app.yaml", "d/app.json"});
  CHECK(profile_paths("oci", "d/app.json") == std::vector<std::string>{"d/app.json"});
}

TEST_CASE("docker and podman: the Docker schema, unchanged", "[formats]") {
  for (ProfileFormat f : {ProfileFormat::docker, ProfileFormat::podman}) {
    auto files = format_profile(sample_profile(), x86_ctx(), f, "p.json");
    REQUIRE(files.size() == 1);
    CHECK(files[0].text == to_docker_json(sample_profile()));
  }
  CHECK(profile_format_from_name("podman") == ProfileFormat::podman);
  CHECK_THROWS_AS(profile_format_from_name("lxc"), Error);
}

TEST_CASE("write_profile refuses a profile the kernel cannot load, and writes nothing", "[formats]") {
  // Everything allowed but 5,000 argument values of one syscall: about one
  // instruction each once compiled, over BPF_MAXINSNS (4096).
  SeccompProfile big;
  big.default_action = "SCMP_ACT_ALLOW";
  big.architectures = {"SCMP_ARCH_X86_64"};
  for (uint64_t v = 0; v < 5000; ++v) {
    SyscallRule r;
    r.names = {"personality"};
    r.action = "SCMP_ACT_ERRNO";
    r.args = {ArgCond{0, 0x10000 + v, 0, "SCMP_CMP_EQ"}};
    big.syscalls.push_back(r);
  }
  test::TempDir dir;
  for (const char* format : {"docker", "k8s"}) {
    const std::string out = dir.str() + "/p." + (std::string(format) == "k8s" ? "yaml" : "json");
    std::string message;
    CHECK(test::kind_of([&] { write_profile(big, EvalContext::docker_default(), format, out); }, &message) ==
          ErrorKind::input);
    CHECK_THAT(message, Catch::StartsWith(out + " not written: the profile compiles to "));
    CHECK_THAT(message, Catch::Contains("more than the kernel's limit of 4096"));
    CHECK(std::filesystem::is_empty(dir.path));
  }
  // The same with a few values is written.
  big.syscalls.resize(10);
  write_profile(big, EvalContext::docker_default(), "docker", dir.str() + "/small.json");
  CHECK(json::parse(test::slurp(dir.path / "small.json"))["syscalls"].size() == 10);
}
