// The container's configured privileges (advice/container_config.h), from the
// three descriptions sctrace has of a container: the engine's inspect answer,
// the options of a docker/podman line, an OCI config.json.
#include <seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "advice/container_config.h"
#include "advice/hardening.h"
#include "profile/minimizer.h"
#include "profile/templates.h"

using namespace sctrace;
using nlohmann::json;

namespace {

std::set<std::string> all_set() { return {all_capabilities().begin(), all_capabilities().end()}; }

std::set<std::string> all_but(std::initializer_list<const char*> missing) {
  std::set<std::string> s = all_set();
  for (const char* m : missing) s.erase(m);
  return s;
}

json inspect_with(json host_config) { return json{{"Config", {{"Image", "img"}}}, {"HostConfig", std::move(host_config)}}; }

ContainerConfig line(std::vector<std::string> add, std::vector<std::string> drop = {}, bool privileged = false,
                     std::vector<std::string> opts = {}) {
  return container_config(ContainerFlags{std::move(add), std::move(drop), privileged, std::move(opts)});
}

bool no_literal_all(const std::set<std::string>& caps) { return !caps.count("CAP_ALL") && !caps.count("ALL"); }

}  // namespace

TEST_CASE("the list of every capability is the one the tree has", "[container-config]") {
  const auto& all = all_capabilities();
  CHECK(all.size() == 41);  // CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  for (const auto& c : docker_default_caps()) CHECK(std::count(all.begin(), all.end(), c) == 1);
  for (const auto& c : all) CHECK(c.rfind("CAP_", 0) == 0);
}

TEST_CASE("capability names: any case, with or without CAP_", "[container-config]") {
  CHECK(canonical_cap("net_admin") == "CAP_NET_ADMIN");
  CHECK(canonical_cap("Cap_Net_Admin") == "CAP_NET_ADMIN");
  CHECK(canonical_cap("CAP_NET_ADMIN") == "CAP_NET_ADMIN");
  CHECK(canonical_cap("all") == "ALL");
  CHECK(canonical_cap("ALL") == "ALL");
  CHECK(canonical_cap("cap_all") == "ALL");
  CHECK(short_cap("cap_sys_admin") == "SYS_ADMIN");
  CHECK(short_cap("SYS_ADMIN") == "SYS_ADMIN");
}

TEST_CASE("a docker/podman line's capability set", "[container-config]") {
  SECTION("no options: Docker's default set") {
    CHECK(line({}).caps == docker_default_caps());
  }
  SECTION("--cap-add ALL grants every capability, not a capability named CAP_ALL") {
    ContainerConfig c = line({"ALL"});
    CHECK(c.caps == all_set());
    CHECK(no_literal_all(c.caps));
  }
  SECTION("--cap-add all (lower case) is the same") {
    CHECK(line({"all"}).caps == all_set());
  }
  SECTION("--cap-add ALL --cap-drop X: every capability but X (the drop applies after ALL)") {
    CHECK(line({"ALL"}, {"SYS_RESOURCE"}).caps == all_but({"CAP_SYS_RESOURCE"}));
    CHECK(line({"all"}, {"cap_sys_resource", "net_raw"}).caps == all_but({"CAP_SYS_RESOURCE", "CAP_NET_RAW"}));
  }
  SECTION("--cap-drop ALL --cap-add NET_ADMIN: only NET_ADMIN") {
    CHECK(line({"NET_ADMIN"}, {"ALL"}).caps == std::set<std::string>{"CAP_NET_ADMIN"});
    CHECK(line({"net_admin", "CAP_CHOWN"}, {"all"}).caps == std::set<std::string>{"CAP_CHOWN", "CAP_NET_ADMIN"});
  }
  SECTION("--cap-drop ALL alone: nothing") {
    CHECK(line({}, {"ALL"}).caps.empty());
  }
  SECTION("--cap-add / --cap-drop of single capabilities on the default set") {
    std::set<std::string> want = docker_default_caps();
    want.erase("CAP_NET_RAW");
    want.insert("CAP_SYS_PTRACE");
    CHECK(line({"sys_ptrace"}, {"NET_RAW"}).caps == want);
  }
  SECTION("--privileged grants every capability whatever --cap-drop says") {
    ContainerConfig c = line({}, {}, true);
    CHECK(c.privileged);
    CHECK(c.caps == all_set());
    CHECK(line({"NET_ADMIN"}, {"ALL"}, true).caps == all_set());
  }
}

TEST_CASE("no-new-privileges from --security-opt", "[container-config]") {
  CHECK_FALSE(line({}).no_new_privileges);
  CHECK(line({}, {}, false, {"no-new-privileges"}).no_new_privileges);
  CHECK(line({}, {}, false, {"no-new-privileges:true"}).no_new_privileges);
  CHECK(line({}, {}, false, {"no-new-privileges=true"}).no_new_privileges);
  CHECK(line({}, {}, false, {"no-new-privileges=1"}).no_new_privileges);
  CHECK_FALSE(line({}, {}, false, {"no-new-privileges=false"}).no_new_privileges);
  CHECK_FALSE(line({}, {}, false, {"no-new-privileges:false"}).no_new_privileges);
  CHECK_FALSE(line({}, {}, false, {"no-new-privileges", "no-new-privileges=false"}).no_new_privileges);  // last wins
  CHECK_FALSE(line({}, {}, false, {"seccomp=unconfined", "label=disable"}).no_new_privileges);
}

TEST_CASE("an inspect answer's capability set and no-new-privileges", "[container-config]") {
  SECTION("nothing set: Docker's default set (null lists, as the engine answers)") {
    json in = inspect_with({{"CapAdd", nullptr}, {"CapDrop", nullptr}, {"SecurityOpt", nullptr}});
    ContainerConfig c = container_config_from_inspect(in);
    CHECK(c.caps == docker_default_caps());
    CHECK_FALSE(c.no_new_privileges);
    CHECK_FALSE(c.privileged);
  }
  SECTION("not an object (a run interrupted before the container existed): Docker's default set") {
    CHECK(container_config_from_inspect(json()).caps == docker_default_caps());
  }
  SECTION("CapAdd [ALL] and [all]") {
    CHECK(container_config_from_inspect(inspect_with({{"CapAdd", {"ALL"}}})).caps == all_set());
    CHECK(container_config_from_inspect(inspect_with({{"CapAdd", {"all"}}})).caps == all_set());
    CHECK(no_literal_all(container_config_from_inspect(inspect_with({{"CapAdd", {"ALL"}}})).caps));
  }
  SECTION("CapDrop [ALL], CapAdd [NET_ADMIN]") {
    json in = inspect_with({{"CapDrop", {"ALL"}}, {"CapAdd", {"NET_ADMIN"}}});
    CHECK(container_config_from_inspect(in).caps == std::set<std::string>{"CAP_NET_ADMIN"});
    CHECK(configured_caps(in) == std::vector<std::string>{"NET_ADMIN"});
  }
  SECTION("Privileged") {
    json in = inspect_with({{"Privileged", true}, {"CapDrop", {"ALL"}}});
    ContainerConfig c = container_config_from_inspect(in);
    CHECK(c.privileged);
    CHECK(c.caps == all_set());
    CHECK(configured_caps(in).size() == all_capabilities().size());
  }
  SECTION("SecurityOpt no-new-privileges") {
    CHECK(container_config_from_inspect(inspect_with({{"SecurityOpt", {"no-new-privileges"}}})).no_new_privileges);
    CHECK(container_config_from_inspect(inspect_with({{"SecurityOpt", {"no-new-privileges:true"}}})).no_new_privileges);
    CHECK_FALSE(
        container_config_from_inspect(inspect_with({{"SecurityOpt", {"no-new-privileges=false"}}})).no_new_privileges);
  }
}

TEST_CASE("an OCI config.json's capability set and noNewPrivileges", "[container-config]") {
  json config = json::parse(R"({"process": {"noNewPrivileges": true,
      "capabilities": {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN"], "effective": ["CAP_CHOWN"]}}})");
  ContainerConfig c = container_config_from_oci(config);
  CHECK(c.caps == std::set<std::string>{"CAP_CHOWN", "CAP_SYS_ADMIN"});
  CHECK(c.no_new_privileges);
  config["process"]["noNewPrivileges"] = false;
  config["process"]["capabilities"].erase("bounding");
  c = container_config_from_oci(config);
  CHECK(c.caps.empty());
  CHECK_FALSE(c.no_new_privileges);
  CHECK(container_config_from_oci(json::object()).caps.empty());
}

// The observable of the bug: the template allows kcmp only with
// CAP_SYS_PTRACE, so a profile cut for a `--cap-add ALL` container that
// made kcmp must allow it.
TEST_CASE("a --cap-add ALL container's profile keeps the template's capability-gated rules", "[container-config]") {
  Recording rec;
  for (const char* n : {"kcmp", "exit_group"}) {
    SyscallRecord& r = rec.syscalls[SCMP_ARCH_X86_64][n];
    r.nr = arch::syscall_nr(SCMP_ARCH_X86_64, n).value_or(-1);
    r.count = r.ok = 1;
  }
  auto allows = [&](const ContainerConfig& c, const std::string& name) {
    MinimizeOptions m;
    m.ctx.caps = c.caps;
    MinimizeResult res = minimize(rec, docker_default_template(), m);
    for (const auto& rule : res.profile.syscalls)
      if (rule.action == "SCMP_ACT_ALLOW" && std::count(rule.names.begin(), rule.names.end(), name)) return true;
    return false;
  };
  CHECK(allows(container_config_from_inspect(inspect_with({{"CapAdd", {"ALL"}}})), "kcmp"));
  CHECK(allows(line({"all"}), "kcmp"));
  CHECK(allows(line({}, {}, true), "kcmp"));
  CHECK(allows(container_config_from_oci(json::parse(R"({"process": {"capabilities": {"bounding": ["CAP_SYS_PTRACE"]}}})")),
               "kcmp"));
  // Control: without the capability the template refuses it.
  CHECK_FALSE(allows(line({}), "kcmp"));
}
