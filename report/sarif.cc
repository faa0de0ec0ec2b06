#include "report/sarif.h"

#include <cctype>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/text.h"

namespace sctrace {

using ojson = nlohmann::ordered_json;

namespace sarif {

ojson document(const Run& run) {
  ojson rules = ojson::array();
  for (const auto& r : run.rules) {
    ojson rule = {{"id", r.id}};
    if (!r.name.empty()) rule["name"] = r.name;
    rule["shortDescription"] = {{"text", r.short_description}};
    rule["help"] = {{"text", r.help}};
    rule["defaultConfiguration"] = {{"level", r.level}};
    rules.push_back(std::move(rule));
  }
  ojson results = ojson::array();
  for (const auto& r : run.results) {
    ojson locations = ojson::array();
    for (const auto& l : r.locations) {
      ojson loc = ojson::object();
      if (!l.uri.empty())
        loc["physicalLocation"] = {{"artifactLocation", {{"uri", l.uri}}}, {"region", {{"startLine", 1}}}};
      if (!l.logical.empty()) {
        ojson logical = ojson::array();
        for (const auto& ll : l.logical)
          logical.push_back({{"name", ll.name}, {"kind", ll.kind}, {"fullyQualifiedName", ll.fully_qualified_name}});
        loc["logicalLocations"] = std::move(logical);
      }
      locations.push_back(std::move(loc));
    }
    results.push_back({{"ruleId", r.rule_id},
                       {"level", r.level},
                       {"message", {{"text", r.message}}},
                       {"locations", std::move(locations)},
                       {"properties", r.properties}});
  }
  ojson driver = {{"name", run.tool_name}};
  if (!run.information_uri.empty()) driver["informationUri"] = run.information_uri;
  if (!run.version.empty()) driver["version"] = run.version;
  driver["rules"] = std::move(rules);
  ojson out_run = {{"tool", {{"driver", std::move(driver)}}}};
  if (run.invocation)
    out_run["invocations"] = ojson::array({{{"executionSuccessful", run.invocation->execution_successful},
                                            {"commandLine", run.invocation->command_line},
                                            {"properties", run.invocation->properties}}});
  out_run["results"] = std::move(results);
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", ojson::array({std::move(out_run)})}};
}

std::string uri_path(const std::string& path) {
  std::string out;
  for (unsigned char ch : path) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') out += static_cast<char>(ch);
    else out += fmt::format("%{:02X}", ch);
  }
  return out;
}

}  // namespace sarif

std::string report_sarif(const CheckReport& r) {
  sarif::Run run;
  run.information_uri = "https://github.com/sctrace/sctrace";
  run.version = SCTRACE_VERSION;
  std::set<std::string> rule_ids;
  for (const auto& v : r.violations) {
    const std::string id = "seccomp-violation/" + v.name;
    if (rule_ids.insert(id).second)
      run.rules.push_back({id, "SyscallOutsideProfile",
                           fmt::format("The workload calls {}, which the profile does not allow", v.name),
                           fmt::format("Either remove the call to {} or re-record the profile (sctrace run) "
                                       "and review the difference (sctrace diff).",
                                       v.name),
                           "error"});
    sarif::Location loc{sarif::uri_path(r.profile), {}};
    for (const auto& e : v.examples) {
      if (e.executable.empty() && e.call_site.empty()) continue;
      const std::string& where = e.call_site.empty() ? e.executable : e.call_site;
      loc.logical.push_back({where, "function", where});
      break;
    }
    sarif::Result res{id, "error", violation_message(r, v), {loc}, {}};
    res.properties = {{"arch", v.arch}, {"syscall", v.name}, {"count", v.count}};
    run.results.push_back(std::move(res));
  }
  sarif::Invocation inv;
  inv.command_line =
      fmt::format("sctrace check --profile {} -- {}", shell_word(r.profile), shell_words(r.command));
  inv.properties = {{"workload", workload_status(r)}, {"backend", r.backend}};
  run.invocation = std::move(inv);
  return sarif::document(run).dump(2) + "\n";
}

namespace {

std::string sarif_level(Severity s) {
  switch (s) {
    case Severity::high: return "error";
    case Severity::medium: return "warning";
    case Severity::low: return "note";
  }
  return "note";
}

}  // namespace

std::string report_sarif(const HardeningReport& r) {
  sarif::Run run;
  for (const auto& f : r.findings) {
    run.rules.push_back({f.id, "", f.message, f.fix, sarif_level(f.severity)});
    sarif::Result res{f.id,
                      sarif_level(f.severity),
                      fmt::format("{} Fix: {}", f.message, f.fix),
                      {sarif::Location{"", {{r.image, "module", "image:" + r.image}}}},
                      {}};
    res.properties = {{"severity", severity_name(f.severity)}};
    run.results.push_back(std::move(res));
  }
  // The hardening report has always written its SARIF with sorted keys.
  return nlohmann::json(sarif::document(run)).dump(2) + "\n";
}

}  // namespace sctrace
