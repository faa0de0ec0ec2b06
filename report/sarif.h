#pragma once
// SARIF 2.1.0, the format code-scanning dashboards read. One document
// builder (tool, rules, results, locations) serves every report that has a
// SARIF form; each report maps its own model onto it.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "advice/model.h"
#include "report/check_report.h"

namespace sctrace {

namespace sarif {

struct Rule {
  std::string id;
  std::string name;  // optional in SARIF: omitted when empty
  std::string short_description;
  std::string help;
  std::string level;  // "error", "warning", "note"
};

struct LogicalLocation {
  std::string name;
  std::string kind;  // "function", "module", ...
  std::string fully_qualified_name;
};

struct Location {
  std::string uri;  // a physical location (artifact URI, line 1) when not empty
  std::vector<LogicalLocation> logical;
};

struct Result {
  std::string rule_id;
  std::string level;
  std::string message;
  std::vector<Location> locations;
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
};

struct Invocation {
  bool execution_successful = true;
  std::string command_line;
  nlohmann::ordered_json properties = nlohmann::ordered_json::object();
};

struct Run {
  std::string tool_name = "sctrace";
  std::string information_uri;  // omitted when empty
  std::string version;          // omitted when empty
  std::vector<Rule> rules;
  std::optional<Invocation> invocation;
  std::vector<Result> results;
};

// {"$schema", "version": "2.1.0", "runs": [run]}, keys in that order.
nlohmann::ordered_json document(const Run& run);

// A path as a URI reference (artifactLocation.uri): every byte but the
// unreserved ones and "/" percent-encoded.
std::string uri_path(const std::string& path);

}  // namespace sarif

// One rule per violating syscall, one result per (arch, syscall), located at
// the profile (what a fix changes) and, logically, at the first example's
// call site or executable.
std::string report_sarif(const CheckReport& r);

// One result per finding, located at the image (logical location).
std::string report_sarif(const HardeningReport& r);

}  // namespace sctrace
