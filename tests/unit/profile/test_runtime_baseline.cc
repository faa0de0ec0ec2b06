// A calibrated runtime baseline in the minimizer (moved from
// tracer/test_notify.cc: it needs profile/ only).
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "core/error.h"
#include "profile/minimizer.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"

using namespace sctrace;

TEST_CASE("a calibrated runtime baseline replaces the bundled one in the minimizer", "[notify][baseline]") {
  const std::string text = R"({"runtime": "runc test", "with_new_privs": ["uname", "capset"],
                               "with_no_new_privs": ["getpid"], "go_runtime": ["futex"]})";
  RuntimeBaseline b = parse_runtime_baseline(text, "test.json");
  CHECK(b.runtime == "runc test");
  CHECK(b.with_new_privs == std::set<std::string>{"capset", "futex", "uname"});
  CHECK(b.with_no_new_privs == std::set<std::string>{"futex", "getpid"});
  CHECK_THROWS_AS(parse_runtime_baseline(R"({"runtime": "x"})", "bad.json"), Error);
  // Each refusal names the file and the field, never nlohmann's exception text.
  auto message = [](const std::string& t) {
    try {
      parse_runtime_baseline(t, "b.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []})") ==
        "b.json: not a runtime baseline (no \"runtime\" field; `sctrace calibrate` writes one)");
  CHECK(message(R"({"runtime": 5, "with_new_privs": [], "with_no_new_privs": []})") ==
        "b.json: \"runtime\": expected a string");
  CHECK(message(R"({"runtime": "r", "with_new_privs": [1], "with_no_new_privs": []})") ==
        "b.json: \"with_new_privs\"[0]: expected a syscall name");
  CHECK(message(R"({"runtime": "r",)").rfind("b.json: invalid JSON: parse error at line 1", 0) == 0);

  Recording rec;
  auto allowed = [](const SeccompProfile& p) {
    std::set<std::string> out;
    for (const auto& r : p.syscalls)
      if (r.action == "SCMP_ACT_ALLOW") out.insert(r.names.begin(), r.names.end());
    return out;
  };
  MinimizeOptions opts;
  auto bundled = allowed(minimize(rec, docker_default_template(), opts).profile);
  CHECK(bundled.count("setgroups") == 1);  // in the bundled runc baseline
  CHECK(bundled.count("uname") == 0);
  opts.runtime_baseline = &b;
  auto calibrated = allowed(minimize(rec, docker_default_template(), opts).profile);
  CHECK(calibrated.count("uname") == 1);
  CHECK(calibrated.count("setgroups") == 0);
  CHECK(calibrated.count("capset") == 1);
}
