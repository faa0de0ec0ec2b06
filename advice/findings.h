#pragma once
// The findings on a container's line: a table of rules, each a small function
// over the configured container and the recording, in the order the report
// lists findings of one severity. A rule may also set what the hardened
// command applies (the plan) and add notes.
//
// Adding a finding: write its function in findings.cc and add a row; the
// report emitters and the rewrite need nothing else unless the fix changes
// the command (then the plan gets a field, and advice/rewrite.cc applies it).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "advice/capabilities.h"
#include "advice/container_config.h"
#include "advice/evidence.h"
#include "advice/hardening.h"

namespace sctrace {

struct RuleInput {
  const HardeningInput& in;
  const nlohmann::json& inspect;  // *in.inspect
  const nlohmann::json& hc;       // its HostConfig
  const nlohmann::json& cfg;      // its Config
  const ContainerConfig& config;  // the privileges it was configured with
  const CapInference& caps;
  const advice::CallsByName& calls;
  const std::vector<std::string>& cap_add;   // needed, sorted, no CAP_
  const std::vector<std::string>& cap_drop;  // had and not needed, sorted, no CAP_
};

// What a rule may change besides its finding.
struct RuleEffects {
  HardeningPlan& plan;
  std::vector<std::string>& notes;
};

struct Rule {
  std::string_view id;
  // The finding (its id is the row's), or nullopt when the line is fine.
  std::optional<Finding> (*check)(const RuleInput&, RuleEffects&);
};

const std::vector<Rule>& hardening_rules();

// Every rule in table order; rep.findings gets each id once, high severity
// first (the table's order within a severity).
void apply_rules(const RuleInput& input, HardeningReport& rep);

}  // namespace sctrace
