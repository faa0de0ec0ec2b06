#pragma once
// Static completion's decision (issue 17): which of the syscalls the loaded
// modules can reach (static/reach.h) the profile allows, by the risk tier
// in templates/static-tiers.json, with their provenance kept in the recording.
#include <string>
#include <string_view>
#include <vector>

#include "profile/recording.h"
#include "static/reach.h"

namespace sctrace {

// --static: off (nothing), benign (the default: benign names are added,
// sensitive ones listed), all (every reachable name is added).
enum class StaticMode { off, benign, all };
StaticMode static_mode_from_name(std::string_view name);  // throws Error(usage)

// True when templates/static-tiers.json lists `name` as benign; anything else
// is sensitive, listed or not.
bool benign_syscall(std::string_view name);

struct StaticOutcome {
  size_t modules = 0;                 // ELF modules looked at
  std::vector<std::string> added;     // names the profile now allows, sorted
  std::vector<std::string> listed;    // sensitive names reported, not added, sorted
  std::vector<std::string> notes;     // from the analysis
};

// Records in rec.static_reach every native-arch name `facts` reaches that
// rec.syscalls does not have, marked added per `mode`.
StaticOutcome apply_static_completion(Recording& rec, const static_reach::ReachFacts& facts, StaticMode mode);

// The run summary's lines about it ("static completion: ...").
std::vector<std::string> static_outcome_lines(const StaticOutcome& o, const Recording& rec);

}  // namespace sctrace
