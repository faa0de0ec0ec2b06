#pragma once
// `sctrace diff OLD NEW`: what NEW allows that OLD did not, for two
// recordings (names, argument values, with the stacks behind an addition) or
// two profiles (rules evaluated for a context). report/text.h and
// report/json.h write the result.
#include <string>
#include <vector>

#include "profile/recording.h"
#include "profile/seccomp_profile.h"

namespace sctrace {

struct DiffEntry {
  std::string arch;     // short name ("x86_64"); "" for profile rules (every arch)
  std::string syscall;
  std::string detail;   // "3 calls", "arg0: new values 0xa", ...
  std::vector<CallStack> stacks;  // recordings: the stacks that explain an addition
};

struct DiffResult {
  std::string kind;  // "recordings" or "profiles"
  std::vector<std::string> arches_added, arches_removed;
  std::vector<DiffEntry> added, removed, widened, narrowed;
  std::vector<std::string> notes;
  // NEW allows something OLD did not: CI gates on this (exit 1).
  bool new_allows_more() const { return !arches_added.empty() || !added.empty() || !widened.empty(); }
};

DiffResult diff_recordings(const Recording& old_rec, const Recording& new_rec);
DiffResult diff_profiles(const SeccompProfile& old_p, const SeccompProfile& new_p, const EvalContext& ctx);
// OLD and NEW as the files' texts: two recordings are compared as
// recordings; otherwise each recording becomes the profile `run` would have
// written from it (the bundled Docker default template) and the profiles are
// compared for a container with Docker's default capabilities on this arch.
DiffResult diff_inputs(const std::string& old_text, const std::string& old_path, const std::string& new_text,
                       const std::string& new_path);

}  // namespace sctrace
