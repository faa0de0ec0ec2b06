#pragma once
// Capabilities from evidence: which of the capabilities a container had its
// workload showed it needs, each with the calls that show it. What a
// recording cannot show (file ownership, pointer arguments) becomes a note.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "advice/hardening.h"

namespace sctrace {

struct CapInference {
  std::map<std::string, std::vector<CapEvidence>> needed;  // capability (no CAP_) -> evidence
  std::vector<std::string> notes;
};

// `had`: the configured set, without CAP_ (configured_caps()). Only what the
// container had can be needed.
CapInference infer_caps(const HardeningInput& in, const std::set<std::string>& had);

}  // namespace sctrace
