#pragma once
// `run --static`: static completion over what a recording shows was loaded
// (issue 17). The analysis is static/, the decision profile/; this joins them.
#include <functional>
#include <string>
#include <vector>

#include "profile/recording.h"
#include "profile/static_completion.h"
#include "session/workload.h"

namespace sctrace {

// The files the recording knows were loaded: every exec'd path and every
// module its call stacks name. Their DT_NEEDED closure is the analysis's.
std::vector<std::string> loaded_roots(const Recording& rec);

// $SCTRACE_CACHE_DIR, else $XDG_CACHE_HOME/sctrace/static, else
// ~/.cache/sctrace/static; "" when none can be named.
std::string static_cache_dir();

// Completes `rec` per `mode` and says what was added and what was only listed.
// Local workloads only: a container's or a bundle's exec'd paths name files
// in its root filesystem, not the host's, so they are left alone (said once).
void complete_statically(Recording& rec, const Workload& w, StaticMode mode,
                         const std::function<void(const std::string&)>& say);

}  // namespace sctrace
