// The verification loop of the hardening advice (advice/verify.h) against a
// fake run: which plans it tries, in which order, and what it concludes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "advice/hardening.h"
#include "advice/verify.h"

using namespace sctrace;

namespace {

HardeningReport recommended() {
  HardeningReport r;
  r.image = "img";
  r.cap_add = {"NET_BIND_SERVICE"};
  r.cap_drop = {"CHOWN", "KILL"};
  r.plan.cap_add = r.cap_add;
  r.plan.user = "65534:65534";
  r.plan.read_only = true;
  r.plan.set_memory = r.plan.set_cpus = r.plan.set_pids = true;
  r.findings = {{"root-user", Severity::medium, "runs as root", "run as 65534", true},
                {"writable-rootfs", Severity::medium, "writable", "--read-only", true},
                {"no-memory-limit", Severity::medium, "no memory limit", "--memory=512m", true}};
  return r;
}

const RunLine kLine{{"docker", "run"}, {}, "img", {}};

bool has_note(const HardeningReport& r, const std::string& n) {
  return std::find(r.notes.begin(), r.notes.end(), n) != r.notes.end();
}

bool has_arg(const HardeningReport& r, const std::string& a) {
  return std::find(r.hardened_command.begin(), r.hardened_command.end(), a) != r.hardened_command.end();
}

}  // namespace

TEST_CASE("verify: the plan passes as recommended; an unneeded capability is pruned", "[advice-verify]") {
  HardeningReport r = recommended();
  std::vector<std::string> tried;
  verify_plan(r, kLine, nlohmann::json::object(), [&](const HardeningPlan& p, const std::string& what) {
    tried.push_back(what);
    (void)p;
    return true;
  });
  CHECK(tried == std::vector<std::string>{"as recommended", "without CAP_NET_BIND_SERVICE"});
  CHECK(r.cap_add.empty());
  CHECK(r.cap_drop == std::vector<std::string>{"CHOWN", "KILL", "NET_BIND_SERVICE"});
  CHECK(has_note(r, "verification: CAP_NET_BIND_SERVICE is not needed after all (the run passed without it)"));
  CHECK(r.notes.back() == "verification: the hardened command passed");
  CHECK(has_arg(r, "--user=65534:65534"));
  CHECK_FALSE(has_arg(r, "--cap-add=NET_BIND_SERVICE"));
}

TEST_CASE("verify: one thing given back, least costly first; a needed capability is confirmed", "[advice-verify]") {
  HardeningReport r = recommended();
  std::vector<std::string> tried;
  verify_plan(r, kLine, nlohmann::json::object(), [&](const HardeningPlan& p, const std::string& what) {
    tried.push_back(what);
    return !p.user && !p.cap_add.empty();  // needs root and its capability
  });
  CHECK(tried == std::vector<std::string>{"as recommended", "with no resource limits", "with a writable root filesystem",
                                          "with running as root", "without CAP_NET_BIND_SERVICE"});
  CHECK(has_note(r, "verification: the workload needs running as root"));
  CHECK(has_note(r, "verification: CAP_NET_BIND_SERVICE confirmed (the run fails without it)"));
  CHECK_FALSE(r.plan.user);
  CHECK(r.plan.read_only);
  CHECK(r.findings[0].fix == "run as 65534 (given back: the workload needs to run as root)");
  CHECK_FALSE(r.findings[0].fixed_in_command);
  CHECK(r.findings[1].fixed_in_command);
  CHECK_FALSE(has_arg(r, "--user=65534:65534"));
  CHECK(has_arg(r, "--read-only"));
}

TEST_CASE("verify: given back cumulatively, then each taken back once more", "[advice-verify]") {
  HardeningReport r = recommended();
  // Needs a writable root filesystem and CAP_KILL; the limits are fine.
  auto ok = [](const HardeningPlan& p) {
    return !p.read_only && std::count(p.cap_add.begin(), p.cap_add.end(), "KILL") == 1;
  };
  std::vector<std::string> tried;
  verify_plan(r, kLine, nlohmann::json::object(), [&](const HardeningPlan& p, const std::string& what) {
    tried.push_back(what);
    return ok(p);
  });
  CHECK(std::count(tried.begin(), tried.end(),
                   "with no resource limits a writable root filesystem running as root CAP_CHOWN CAP_KILL") == 1);
  CHECK(has_note(r, "verification: the workload needs a writable root filesystem CAP_KILL"));
  CHECK(r.plan.set_memory);
  CHECK(r.plan.user);
  CHECK_FALSE(r.plan.read_only);
  CHECK(r.cap_add == std::vector<std::string>{"KILL"});  // NET_BIND_SERVICE pruned
  CHECK(r.findings[1].fix == "--read-only (given back: the workload needs a writable root filesystem)");
  CHECK(r.findings[2].fixed_in_command);
}

TEST_CASE("verify: nothing passes; the recommendation stays, marked unverified", "[advice-verify]") {
  HardeningReport r = recommended();
  const HardeningPlan before = r.plan;
  verify_plan(r, kLine, nlohmann::json::object(), [](const HardeningPlan&, const std::string&) { return false; });
  CHECK(r.notes == std::vector<std::string>{"verification: the hardened command did not pass even with everything "
                                            "given back; the recommendation above is unverified"});
  CHECK(r.plan.user == before.user);
  CHECK(r.cap_add == std::vector<std::string>{"NET_BIND_SERVICE"});
  CHECK(r.findings[0].fixed_in_command);
}
