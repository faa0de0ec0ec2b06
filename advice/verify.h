#pragma once
// The verification loop of the hardening advice (run --verify-hardening):
// the hardened line is run for real, and the plan adjusted until it passes.
// When the recommended plan fails, what it took away is given back one item
// at a time, least costly to security first (then cumulatively, and each
// item taken back once more); once it passes, each added capability is taken
// out once more to see whether the workload really needs it.
//
// Running the line is the caller's: this loop only decides which plans to try.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "advice/model.h"

namespace sctrace {

// Runs the hardened line for `plan` and says whether the workload behaved as
// when it was traced. `what` names the attempt ("as recommended", "with
// CAP_NET_RAW", "without CAP_CHOWN", ...), for the caller's messages.
using PlanCheck = std::function<bool(const HardeningPlan& plan, const std::string& what)>;

// Updates `rep` to what the runs showed: the plan, cap_add/cap_drop, the notes
// ("verification: ..."), the findings whose fix had to be given back, and the
// hardened command, Compose and Kubernetes text (`line` and `inspect` as for
// analyze_hardening).
void verify_plan(HardeningReport& rep, const RunLine& line, const nlohmann::json& inspect, const PlanCheck& passes);

}  // namespace sctrace
