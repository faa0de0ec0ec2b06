// report/: the check report's model and its four emitters, the SARIF
// document builder the check and hardening reports share. A model in, the
// parsed output checked.
#include <seccomp.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "profile/recorder.h"
#include "profile/recording.h"
#include "report/check_report.h"
#include "report/json.h"
#include "report/junit.h"
#include "report/sarif.h"
#include "report/text.h"

using namespace sctrace;
using nlohmann::json;

namespace {

constexpr uint32_t kX86_64 = SCMP_ARCH_X86_64;
int nr_of(const char* n) { return *arch::syscall_nr(kX86_64, n); }

CheckReport two_violations() {
  CheckReport r;
  r.profile = "ci/my profile.json";
  r.command = {"./app", "--name", "it's"};
  r.backend = "notify";
  r.enforce = true;
  r.deny_errno = EPERM;
  CheckViolation ptrace;
  ptrace.arch = "SCMP_ARCH_X86_64";
  ptrace.name = "ptrace";
  ptrace.nr = nr_of("ptrace");
  ptrace.count = 3;
  ViolationExample e;
  e.pid = 42;
  e.tid = 43;
  e.executable = "/usr/bin/app";
  e.ip = 0x401000;
  e.call_site = "/usr/bin/app+0x1000";
  e.args = {0x10, 0x2a, 0, 0, 0, 0};
  e.has_args = true;
  ptrace.examples.push_back(e);
  ptrace.executables.insert(e.executable);
  CheckViolation socket;
  socket.arch = "SCMP_ARCH_X86";
  socket.name = "socket";
  socket.nr = 359;
  socket.count = 1;
  ViolationExample c;
  c.pid = 7;
  c.classified[0] = {0xa};
  socket.examples.push_back(c);
  r.violations = {ptrace, socket};
  r.exit_code = 0;
  r.seconds = 1.25;
  return r;
}

}  // namespace

TEST_CASE("check verdict and workload status from the model", "[report]") {
  CheckReport r;
  CHECK(check_passed(r));
  CHECK(check_exit_code(r) == 0);
  CHECK(workload_status(r) == "exited 0");
  r.exit_code = 3;
  CHECK(check_exit_code(r) == 3);  // a failing workload fails the check without a violation
  CHECK_FALSE(workload_ok(r));
  r.signal = 9;
  r.core_dumped = true;
  CHECK(workload_status(r) == "killed by signal 9 (KILL), core dumped");
  r.timed_out = true;
  CHECK(workload_status(r) == "killed at --timeout");
  r.interrupted = true;
  CHECK(workload_status(r) == "interrupted");
  r.violations.push_back(refused_execve());
  CHECK(check_exit_code(r) == 1);
  CHECK(r.violations[0].name == "execve");
  CHECK(r.violations[0].nr == *arch::syscall_nr(arch::native(), "execve"));
}

TEST_CASE("the collector counts every call and keeps the first examples", "[report]") {
  ViolationCollector c;
  int built = 0;
  for (int i = 0; i < 12; ++i)
    c.add(kX86_64, nr_of("ptrace"), [&] {
      ViolationExample e;
      e.pid = 100 + built++;
      e.executable = i % 2 ? "/bin/a" : "/bin/b";
      return e;
    });
  c.add(kX86_64, 100000, [] { return ViolationExample{}; });
  auto v = c.take();
  REQUIRE(v.size() == 2);
  CHECK(v[0].name == "__nr_100000");
  CHECK(v[1].name == "ptrace");
  CHECK(v[1].arch == "SCMP_ARCH_X86_64");
  CHECK(v[1].count == 12);
  CHECK(v[1].examples.size() == kExamplesPerSyscall);
  CHECK(built == static_cast<int>(kExamplesPerSyscall));  // /proc is read only for kept examples
  CHECK(v[1].executables == std::set<std::string>{"/bin/a", "/bin/b"});
  CHECK(c.take().empty());
}

TEST_CASE("the sensor's watch recording becomes violations", "[report]") {
  Recording rec;
  Recorder rr(rec);
  rr.add_syscall(kX86_64, nr_of("keyctl"), {1, 0, 0, 0, 0, 0}, 0, 77, 0);
  rr.add_syscall(kX86_64, nr_of("keyctl"), {2, 0, 0, 0, 0, 0}, 0, 78, 0);
  auto v = violations_from_recording(rec);
  REQUIRE(v.size() == 1);
  CHECK(v[0].name == "keyctl");
  CHECK(v[0].count == 2);
  REQUIRE(v[0].examples.size() == 1);
  CHECK(v[0].examples[0].pid == 77);
  CHECK_FALSE(v[0].examples[0].has_args);
}

TEST_CASE("check report as text", "[report]") {
  const CheckReport r = two_violations();
  const std::string t = report_text(r);
  CHECK_THAT(t, Catch::StartsWith("sctrace: violation: x86_64 ptrace: 3 calls, denied with EPERM\n"));
  CHECK_THAT(t, Catch::Contains("sctrace:   pid 42 /usr/bin/app at /usr/bin/app+0x1000 (0x10, 0x2a, 0x0, 0x0, 0x0, 0x0)\n"));
  CHECK_THAT(t, Catch::Contains("sctrace:   pid 7 (arg0=0xa)\n"));
  CHECK_THAT(t, Catch::EndsWith("sctrace: check FAILED: 2 syscalls outside ci/my profile.json: ptrace, socket (x86)\n"));
  CheckReport ok;
  ok.profile = "p.json";
  ok.backend = "ptrace";
  CHECK(report_text(ok) == "sctrace: workload exited 0\nsctrace: check passed: no syscall outside p.json (backend ptrace)\n");
}

TEST_CASE("check report as JSON", "[report]") {
  const json j = json::parse(report_json(two_violations()));
  CHECK(j["profile"] == "ci/my profile.json");
  CHECK(j["command"] == json({"./app", "--name", "it's"}));
  CHECK(j["deny_errno"] == "EPERM");
  CHECK(j["passed"] == false);
  CHECK(j["workload"]["status"] == "exited 0");
  REQUIRE(j["violations"].size() == 2);
  CHECK(j["violations"][0]["syscall"] == "ptrace");
  CHECK(j["violations"][0]["action"] == "denied");
  CHECK(j["violations"][0]["examples"][0]["args"][1] == "0x2a");
  CHECK(j["violations"][0]["examples"][0]["call_site"] == "/usr/bin/app+0x1000");
  CHECK(j["violations"][1]["examples"][0]["classified_args"]["0"] == json({"0xa"}));
  // Key order is part of the format (scripts diff these files).
  CHECK(report_json(two_violations()).rfind("{\n  \"profile\"", 0) == 0);
}

TEST_CASE("check report as SARIF: the required fields", "[report]") {
  const json s = json::parse(report_sarif(two_violations()));
  CHECK(s["version"] == "2.1.0");
  CHECK(s["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json");
  REQUIRE(s["runs"].size() == 1);
  const json& run = s["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "sctrace");
  CHECK(run["tool"]["driver"]["version"] == SCTRACE_VERSION);
  const json& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == 2);
  CHECK(rules[0]["id"] == "seccomp-violation/ptrace");
  CHECK(rules[0]["defaultConfiguration"]["level"] == "error");
  REQUIRE(run["results"].size() == 2);
  for (const json& res : run["results"]) {
    CHECK(res["ruleId"].get<std::string>().rfind("seccomp-violation/", 0) == 0);
    CHECK(res["message"]["text"].is_string());
    CHECK(res["level"] == "error");
    const json& loc = res["locations"][0];
    CHECK(loc["physicalLocation"]["artifactLocation"]["uri"] == "ci/my%20profile.json");
    CHECK(loc["physicalLocation"]["region"]["startLine"] == 1);
  }
  CHECK(run["results"][0]["locations"][0]["logicalLocations"][0]["name"] == "/usr/bin/app+0x1000");
  CHECK_FALSE(run["results"][1]["locations"][0].contains("logicalLocations"));  // no executable in the sensor's
  CHECK(run["results"][0]["properties"]["count"] == 3);
  CHECK(run["invocations"][0]["commandLine"] ==
        "sctrace check --profile 'ci/my profile.json' -- ./app --name 'it'\\''s'");
  CHECK(run["invocations"][0]["executionSuccessful"] == true);
}

TEST_CASE("one SARIF builder: rules, results, locations, optional parts left out", "[report]") {
  sarif::Run run;
  run.rules.push_back({"r1", "", "short", "help", "warning"});
  sarif::Result res{"r1", "warning", "msg", {sarif::Location{"", {{"img", "module", "image:img"}}}}, {}};
  run.results.push_back(res);
  const auto doc = sarif::document(run);
  CHECK(doc.dump().rfind(R"({"$schema":)", 0) == 0);
  const auto& driver = doc["runs"][0]["tool"]["driver"];
  CHECK_FALSE(driver.contains("version"));
  CHECK_FALSE(driver.contains("informationUri"));
  CHECK_FALSE(driver["rules"][0].contains("name"));
  CHECK_FALSE(doc["runs"][0].contains("invocations"));
  const auto& loc = doc["runs"][0]["results"][0]["locations"][0];
  CHECK_FALSE(loc.contains("physicalLocation"));
  CHECK(loc["logicalLocations"][0]["fullyQualifiedName"] == "image:img");
  CHECK(sarif::uri_path("a b/ü~x") == "a%20b/%C3%BC~x");
}

TEST_CASE("the hardening report's SARIF comes from the same builder, keys sorted as before", "[report]") {
  HardeningReport h;
  h.image = "app:1";
  h.findings.push_back({"privileged", Severity::high, "Runs privileged.", "Drop --privileged.", true});
  h.findings.push_back({"no-limits", Severity::low, "No limits.", "Add --memory.", false});
  const std::string text = report_sarif(h);
  CHECK(text.rfind("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"runs\"", 0) == 0);
  const json s = json::parse(text);
  const json& run = s["runs"][0];
  CHECK(run["tool"]["driver"] == json({{"name", "sctrace"},
                                       {"rules",
                                        {{{"id", "privileged"},
                                          {"shortDescription", {{"text", "Runs privileged."}}},
                                          {"help", {{"text", "Drop --privileged."}}},
                                          {"defaultConfiguration", {{"level", "error"}}}},
                                         {{"id", "no-limits"},
                                          {"shortDescription", {{"text", "No limits."}}},
                                          {"help", {{"text", "Add --memory."}}},
                                          {"defaultConfiguration", {{"level", "note"}}}}}}}));
  CHECK(run["results"][0]["message"]["text"] == "Runs privileged. Fix: Drop --privileged.");
  CHECK(run["results"][1]["properties"]["severity"] == "low");
  CHECK(run["results"][0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "image:app:1");
}

TEST_CASE("check report as JUnit XML", "[report]") {
  CheckReport r = two_violations();
  r.command.clear();
  r.profile = "a<b>.json";
  const std::string x = report_junit(r);
  CHECK(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0) == 0);
  CHECK_THAT(x, Catch::Contains(R"(<testsuites name="sctrace check" tests="4" failures="3" errors="0" time="1.250">)"));
  CHECK_THAT(x, Catch::Contains(R"(<testcase classname="sctrace.check" name="syscalls stay inside a&lt;b&gt;.json" time="0">)"));
  CHECK_THAT(x, Catch::Contains(R"(<testcase classname="sctrace.check.x86" name="socket" time="0">)"));
  CHECK_THAT(x, Catch::Contains(R"(<testcase classname="sctrace.check" name="workload exit status" time="0"/>)"));
  r.violations.clear();
  r.exit_code = 137;
  r.signal = 9;
  CHECK_THAT(report_junit(r), Catch::Contains("failure message=\"the workload was killed by signal 9 (KILL)\""));
}

TEST_CASE("shell words round-trip what a shell reads", "[report]") {
  CHECK(shell_word("a-b_c.d/e:f=g,h@i+j%k") == "a-b_c.d/e:f=g,h@i+j%k");
  CHECK(shell_word("") == "''");
  CHECK(shell_word("a b") == "'a b'");
  CHECK(shell_words({"x", "it's"}) == "x 'it'\\''s'");
}
