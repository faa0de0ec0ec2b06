#pragma once
// The hardened line: the user's `docker run` rewritten for a plan, and the
// same settings as Compose and as a Kubernetes securityContext.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "advice/model.h"

namespace sctrace {

// The hardened command for a plan: the user's options minus those the plan
// replaces, then the plan's own. Deterministic.
std::vector<std::string> hardened_argv(const RunLine& line, const HardeningPlan& plan, const nlohmann::json& inspect);

// A RunLine rebuilt from an inspect answer, for when the user's line is unknown
// (the image, its command and the few options the rewrite cares about).
RunLine run_line_from_inspect(const nlohmann::json& inspect);

std::string compose_yaml(const HardeningPlan& plan, const RunLine& line, const nlohmann::json& inspect);
std::string k8s_security_context_yaml(const HardeningPlan& plan);

}  // namespace sctrace
