// The hardening report rendered by report/'s emitters: analysis from advice/,
// text, JSON and SARIF from report/. Neither library links the other, so the
// test lives with the one that joins them (moved from advice/test_hardening.cc).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "advice/hardening.h"
#include "report/json.h"
#include "report/sarif.h"
#include "report/text.h"
#include "tests/unit/advice/hardening_fixtures.h"

using namespace sctrace;
using namespace sctrace::test;
using nlohmann::json;

TEST_CASE("report text, JSON and SARIF", "[hardening]") {
  json in = server_inspect();
  in["HostConfig"]["Privileged"] = true;
  auto r = analyze(prefork_recording(), in);
  std::string plain = report_text(r, false);
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(plain.find("sctrace: ") == 0);
  CHECK(plain.find("add SETUID") != std::string::npos);
  CHECK(plain.find("privileged") != std::string::npos);
  CHECK(report_text(r, true).find("\x1b[") != std::string::npos);

  json j = json::parse(report_json(r));
  CHECK(j["capabilities"]["add"] == json({"KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"}));
  CHECK(j["capabilities"]["drop"].size() > 10);
  CHECK(j["capabilities"]["evidence"].size() >= 4);
  CHECK(j["hardened_command"][0] == "docker");
  REQUIRE(j["findings"].size() == r.findings.size());
  CHECK(j["findings"][0]["id"] == "privileged");
  CHECK(j["findings"][0]["severity"] == "high");
  CHECK(j["findings"][0]["fix"].get<std::string>().find("--cap-drop=ALL") != std::string::npos);

  json s = json::parse(report_sarif(r));
  CHECK(s["version"] == "2.1.0");
  CHECK(s["$schema"].get<std::string>().find("sarif") != std::string::npos);
  const json& run = s["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "sctrace");
  CHECK(run["tool"]["driver"]["rules"].size() == r.findings.size());
  REQUIRE(run["results"].size() == r.findings.size());
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const json& res = run["results"][i];
    CHECK(res["ruleId"] == r.findings[i].id);
    CHECK(run["tool"]["driver"]["rules"][i]["id"] == r.findings[i].id);
    CHECK(run["tool"]["driver"]["rules"][i]["shortDescription"]["text"].is_string());
    std::string want = r.findings[i].severity == Severity::high ? "error"
                       : r.findings[i].severity == Severity::medium ? "warning" : "note";
    CHECK(res["level"] == want);
    CHECK(res["message"]["text"].get<std::string>().find(r.findings[i].fix) != std::string::npos);
    CHECK(res["locations"][0]["logicalLocations"][0]["name"] == "app:1");
  }
  CHECK(severity_from_name("medium") == Severity::medium);
  CHECK_FALSE(severity_from_name("urgent"));
}
